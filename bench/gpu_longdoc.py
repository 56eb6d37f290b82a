"""Benchmark (CUDA): a 200,000-character document on the PyTorch backend, read once, asked twice.

    python bench/gpu_longdoc.py [--dir FOLDER] [--doc-tokens 50000] [--dry-run]

Run by bench/gpu_longdoc.sh on a GPU machine. Random weights of the real InternLM2-1.8B shape
(bench/convert.py's builder; generated there, never copied), the app's TorchBackend (bf16,
static KV cache, CUDA-graph decode). 200,000 characters of English are about 43-50K tokens
for the real tokenizer (the bench haystack: 43,211), which the checkpoint carries; the
document is --doc-tokens ordinary token ids (random weights make its text irrelevant) placed as
the document turn exactly where the app puts it (app.engine.conversation: its own user turn
after the system prompt). Prints:
- the time to first token of the first question sent at the drop (reads the whole document);
- the same when the document was read ahead (prefill_only) before the question was sent;
- the time to first token of a follow-up question (prefix reuse).
Targets (issue): first answer < 2 s, follow-up first token < 150 ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/internlm2-1_8b-random"))
    parser.add_argument("--doc-tokens", type=int, default=50000)
    parser.add_argument("--chunks", default="", help="prefill chunk sizes to compare, e.g. 2048,8192 "
                                                    "(default: the backend's own)")
    parser.add_argument("--dry-run", action="store_true", help="CPU, the tests' tiny model")
    args = parser.parse_args()
    import numpy as np
    import torch

    from app.engine.budget import round_context
    from app.engine.torch_backend import TorchBackend
    from app.engine.types import Finished, GenerateRequest
    from app.internlm2.chat_format import (
        DEFAULT_SYSTEM_PROMPT,
        Message,
        Sampling,
        build_chat_prompt,
        stop_ids,
    )

    if args.dry_run:
        from tests.tiny_model import build_tiny_checkpoint

        folder, dev, n_doc = build_tiny_checkpoint(Path("/tmp/gpu-longdoc-tiny")), "cpu", 3000
    else:
        from bench.convert import build_checkpoint

        t0 = time.perf_counter()
        folder, dev, n_doc = build_checkpoint(args.dir), "cuda", args.doc_tokens
        print(f"checkpoint built in {time.perf_counter() - t0:.0f} s", flush=True)
    n_ctx = round_context(n_doc + 2048)
    t0 = time.perf_counter()
    backend = TorchBackend(folder, device=dev, n_ctx=n_ctx)
    print(f"loaded in {time.perf_counter() - t0:.1f} s on {backend.device}, n_ctx {n_ctx:,}, "
          f"decode path {getattr(backend, 'decode_mode', 'eager')}", flush=True)
    tok = backend.tokenizer
    stops = frozenset(stop_ids(tok, chat=True))
    rng = np.random.default_rng(0)
    doc = tuple(int(i) for i in rng.integers(3, tok.vocab_size - 7, size=n_doc))
    head = [Message("system", DEFAULT_SYSTEM_PROMPT), Message("user", "(document)", token_ids=doc)]
    question = Message("user", "What is the secret passphrase in the document?")
    follow = Message("user", "And in which paragraph does it appear?")
    greedy = Sampling(temperature=0.0, max_new_tokens=24)

    def run(ids: list[int], prefill_only: bool = False) -> tuple[Finished, float]:
        sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
        sync()
        start = time.perf_counter()
        done = None
        for ev in backend.generate(GenerateRequest(ids, greedy, stops, prefill_only=prefill_only)):
            if isinstance(ev, Finished):
                done = ev
        sync()
        assert done is not None
        return done, time.perf_counter() - start

    # Warm-up: compile and capture the decode step (timed apart: a one-off per process).
    warm, warm_s = run(build_chat_prompt([Message("user", "hello")]).ids(tok))
    print(f"first reply of the process (compile + capture): {warm_s:.1f} s", flush=True)
    rows = []
    chunks = [int(c) for c in args.chunks.split(",") if c] or [backend.prefill_chunk]
    for chunk in chunks:
        backend.prefill_chunk = chunk
        tag = f" [chunk {chunk}]" if len(chunks) > 1 else ""
        backend._reset_cache()
        q1 = build_chat_prompt([*head, question]).ids(tok)
        first, _ = run(q1)
        rows.append((f"first question sent at the drop: time to first token{tag}", first.stats.ttft_s,
                     f"{len(q1):,} prompt tokens read, {first.stats.prefill_s:.2f} s prefill"))
        q2 = build_chat_prompt([*head, question,
                                Message("assistant", first.text, token_ids=tuple(first.token_ids)),
                                follow]).ids(tok)
        second, _ = run(q2)
        rows.append((f"follow-up question: time to first token{tag}", second.stats.ttft_s,
                     f"{second.stats.cached_tokens:,} of {len(q2):,} tokens reused"))
        backend._reset_cache()
        prefix = build_chat_prompt(head, add_generation_prompt=False).ids(tok)
        _, read_s = run(prefix, prefill_only=True)
        early, _ = run(q1)
        rows.append((f"question after the document was read ahead: time to first token{tag}",
                     early.stats.ttft_s, f"read-ahead took {read_s:.2f} s; {early.stats.cached_tokens:,} tokens reused"))
        rows.append((f"decode after the document{tag}", first.stats.tok_s, "tok/s"))
    print("\n| figure | value | note |\n| --- | --- | --- |")
    for name, value, note in rows:
        unit = "" if note == "tok/s" else " s"
        print(f"| {name} | {value:.3f}{unit} | {note} |")
    if dev == "cuda":
        print(f"\npeak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB, "
              f"{torch.cuda.get_device_name(0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
