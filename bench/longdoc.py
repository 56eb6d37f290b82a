"""Benchmark: a long document on random weights of the real InternLM2-1.8B shape, Q4_K_M, CPU.

    .venv/bin/python bench/longdoc.py [--chars 20000] [--import-chars 200000] [--early 30]

Prints: import + token count time for --import-chars characters (a real .txt file through
read_document and the model's tokenizer); prefill tokens/s over the document; time to first
token of the first question sent --early seconds after the drop (the document read ahead)
against sent at the drop (nothing read yet); time to first token of a follow-up with the
in-memory cache, with the saved state after a restart (a new backend object), and with no
cache. The prefill part uses a SCALED-DOWN document (--chars, default 8,000 characters: 1,732
tokens of the real tokenizer, which the bench checkpoint now carries; 200,000 characters are
43,211): on two CPU cores a 43,000-token reading takes about 20 minutes, and this script reads
the document twice. Speed does not depend on weight values. The checkpoint and its Q4_K_M GGUF
come from bench/convert.py's builder (cached in the app's cache folder).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

from app.documents import read_document  # noqa: E402
from app.engine.conversation import Conversation  # noqa: E402
from app.engine.doc_cache import DocStateCache  # noqa: E402
from app.engine.gguf_tokenizer import vocab_only_tokenizer  # noqa: E402
from app.engine.llamacpp_backend import LlamaCppBackend  # noqa: E402
from app.engine.needle import NEEDLE_QUESTION, build_haystack, needle_sentence  # noqa: E402
from app.engine.read_ahead import PrefixReader  # noqa: E402
from app.engine.types import Finished  # noqa: E402
from app.internlm2.chat_format import Sampling  # noqa: E402
from bench.convert import _cpu_name, _default_dir, build_checkpoint  # noqa: E402

_SAMPLING = Sampling(temperature=0.0, max_new_tokens=4)


def _gguf(folder: Path) -> Path:
    """The Q4_K_M GGUF of the random checkpoint (built once; a hard link keeps it ours)."""
    mine = folder.parent / "longdoc-q4_k_m.gguf"
    if mine.exists():
        return mine
    shared = folder.parent / "bench-q4_k_m.gguf"
    if shared.exists():
        try:
            os.link(shared, mine)
            return mine
        except OSError:
            pass
    from app.internlm2.gguf_export import export_gguf

    print("building the Q4_K_M GGUF (about a minute)...", flush=True)
    return export_gguf(folder, mine, "q4_k_m")


def _first_token(backend: LlamaCppBackend, convo: Conversation, question: str) -> tuple[float, Finished]:
    t0 = time.perf_counter()
    done: Finished | None = None
    for event in backend.generate(convo.ask(question, _SAMPLING)):
        if isinstance(event, Finished):
            done = event
    assert done is not None
    convo.answered(done.text, done.token_ids)
    return done.stats.ttft_s if done.stats.new_tokens else time.perf_counter() - t0, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=8_000, help="document length for the prefill figures")
    parser.add_argument("--import-chars", type=int, default=200_000, help="document length for the import figure")
    parser.add_argument("--early", type=float, default=30.0, help="seconds between drop and question")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    folder = build_checkpoint(_default_dir())
    gguf = _gguf(folder)
    print(f"machine: {_cpu_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; model: {gguf.name} "
          f"({gguf.stat().st_size / 1e9:.2f} GB, random weights of the real shape)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.txt"
        path.write_text(build_haystack(args.import_chars, 50, needle_sentence("quartz")), encoding="utf-8")
        tok = vocab_only_tokenizer(gguf)
        t0 = time.perf_counter()
        doc = read_document(path)
        n_tokens = len(tok.encode(doc.text))
        t_import = time.perf_counter() - t0
        print(f"import + token count, {doc.characters:,} characters: {t_import:.3f} s ({n_tokens:,} tokens)")

        text = build_haystack(args.chars, 50, needle_sentence("quartz"))
        n_ctx = -(-(len(tok.encode(text)) + 1024) // 4096) * 4096
        cache = DocStateCache(Path(tmp) / "doc-states", cap_bytes=10**11)
        print(f"prefill figures on a SCALED document: {args.chars:,} characters (not {args.import_chars:,}), "
              f"context {n_ctx:,}")

        # 1. Early reading: the document is dropped at t=0, the question sent at t=early.
        backend = LlamaCppBackend(gguf, n_ctx=n_ctx, n_threads=args.threads)
        convo = Conversation(backend, document=text, document_name="long.txt")
        reader = PrefixReader(backend, convo, cache, doc.sha256 + "-bench")
        drop = time.perf_counter()
        worker = threading.Thread(target=reader.wait)
        worker.start()
        worker.join(timeout=args.early)
        sent = drop + args.early
        while time.perf_counter() < sent:
            time.sleep(0.05)
        worker.join()
        read_s = reader.seconds
        doc_tokens = convo.document_tokens()
        prefix = len(convo.prefix_ids())
        _ttft, first = _first_token(backend, convo, NEEDLE_QUESTION)
        early_ttft = max(0.0, drop + read_s - sent) + first.stats.ttft_s
        follow_ttft, _ = _first_token(backend, convo, "Where in the document was it?")
        backend.unload()
        print(f"document: {doc_tokens:,} tokens; prefill {prefix / read_s:.1f} tokens/s "
              f"({prefix:,} prefix tokens in {read_s:.1f} s; state saved: {reader.saved})")

        # 2. A restart: a new backend object restores the saved state.
        backend = LlamaCppBackend(gguf, n_ctx=n_ctx, n_threads=args.threads)
        convo = Conversation(backend, document=text, document_name="long.txt")
        t0 = time.perf_counter()
        reader = PrefixReader(backend, convo, cache, doc.sha256 + "-bench")
        reader.wait()
        restore_s = time.perf_counter() - t0
        _ttft, restored = _first_token(backend, convo, NEEDLE_QUESTION)
        restored_ttft = restore_s + restored.stats.ttft_s

        # 3. No cache at all: the question sent at the drop reads document + question.
        backend._reset_cache()
        convo = Conversation(backend, document=text, document_name="long.txt")
        _ttft, cold = _first_token(backend, convo, NEEDLE_QUESTION)
        backend.unload()
        at_drop = cold.stats.ttft_s
        question_tokens = cold.stats.prompt_tokens - prefix
        state_mb = sum(e.size for e in cache.entries()) / 1e6

    print(f"first question, sent at the drop (nothing read yet): {at_drop:8.2f} s to first token")
    print(f"first question, sent {args.early:.0f} s after the drop (read ahead): {early_ttft:8.2f} s "
          f"({at_drop / max(early_ttft, 1e-9):.1f}x faster)")
    print(f"follow-up, in-memory cache:                {follow_ttft:8.3f} s ({at_drop / follow_ttft:.0f}x faster "
          f"than no cache; {first.stats.cached_tokens:,} cached tokens at the first question)")
    print(f"after a restart, saved state ({state_mb:.0f} MB): {restored_ttft:8.3f} s "
          f"(restore {restore_s:.3f} s + question {restored.stats.ttft_s:.3f} s; {at_drop / restored_ttft:.0f}x "
          f"faster; {restored.stats.cached_tokens:,} cached tokens)")
    print(f"no cache (read again):                     {at_drop:8.2f} s")
    print(f"greedy answers equal: read ahead = restored {first.token_ids == restored.token_ids}, "
          f"read ahead = no cache {first.token_ids == cold.token_ids} (question: {question_tokens} tokens)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
