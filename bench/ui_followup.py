"""Benchmark: a follow-up question in the REAL window against `ask`, on the same inputs, one run.

    .venv/bin/python bench/ui_followup.py [--chars 16000] [--answer-tokens 300] [--ctx 8192]

Random weights of the real InternLM2-1.8B shape, Q4_K_M, on the CPU, with the REAL InternLM2
tokenizer (../shared/data/internlm2-tokenizer, or --tokenizer): its vocabulary goes into the
GGUF, so the token counts are the real model's. The window (MainWindow offscreen, a fresh
database, the real inference worker) opens a document of --chars characters (as a drop does), reads it
ahead, answers a question (--answer-tokens, greedy), then a follow-up. Then `ask` runs the
same document and questions (`app.cli ask --document ... --json`). Printed side by side: the
follow-up's time to first token (the engine's figure in both, and in the window also from
Send to the first text shown, prompt building and the thread hops included), its prompt and
cached tokens, and how many tokens before the new question were read again (0 means the
previous reply was reused exactly). Speed does not
depend on weight values. The checkpoint comes from bench/convert.py's builder; the GGUF with
the real tokenizer is built once (about a minute) beside it in the app's cache folder.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.engine.needle import build_haystack, needle_sentence  # noqa: E402
from app.internlm2.chat_format import DEFAULT_SYSTEM_PROMPT  # noqa: E402
from bench.convert import _cpu_name, _default_dir, build_checkpoint  # noqa: E402

_QUESTION = "Summarise the document in a few sentences."
_FOLLOW_UP = "Which place does it mention first?"
_TOKENIZER_FILES = ("tokenizer.model", "tokenizer_config.json", "special_tokens_map.json")


def _real_tokenizer_gguf(folder: Path, tokenizer: Path) -> Path:
    """The random checkpoint with the real tokenizer, exported to Q4_K_M (built once)."""
    out = folder.parent / "ui-followup-realtok-q4_k_m.gguf"
    if out.exists():
        return out
    mixed = folder.parent / "internlm2-1_8b-random-realtok"
    mixed.mkdir(exist_ok=True)
    for item in folder.iterdir():
        if item.name in _TOKENIZER_FILES or (mixed / item.name).exists():
            continue
        try:
            os.link(item, mixed / item.name)
        except OSError:
            shutil.copy2(item, mixed / item.name)
    for name in _TOKENIZER_FILES:
        shutil.copy2(tokenizer / name, mixed / name)
    from app.internlm2.gguf_export import export_gguf

    print("building the Q4_K_M GGUF with the real tokenizer (a minute or two)...", flush=True)
    return export_gguf(mixed, out, "q4_k_m")


@dataclass(frozen=True)
class FollowUp:
    """The figures of one path's follow-up."""

    ttft_s: float
    prompt_tokens: int
    cached_tokens: int
    before_tokens: int  # everything before the follow-up question: first prompt + first reply
    first_reply_tokens: int
    seen_s: float = 0.0  # the window: from Send to the first text shown (prompt building included)
    first_tok_s: float = 0.0  # decode speed of the first reply and of the follow-up's
    second_tok_s: float = 0.0

    @property
    def reread(self) -> int:
        """Tokens before the new question that were read again."""
        return max(0, self.before_tokens - self.cached_tokens)


def _window(gguf: Path, document: Path, answer_tokens: int, n_ctx: int, db: Path) -> FollowUp:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.engine.types import GenerateRequest
    from app.settings import AppSettings
    from app.storage import ConversationStore
    from app.ui.window.main_window import MainWindow
    from app.ui.workers.inference_worker import InferenceClient

    app = QApplication.instance() or QApplication([sys.argv[0]])
    store = ConversationStore(db)
    client = InferenceClient()
    sampling = {"temperature": 0.0, "top_p": 1.0, "top_k": 0, "repetition_penalty": 1.0,
                "max_new_tokens": answer_tokens}
    window = MainWindow(store, client, AppSettings(system_prompt=DEFAULT_SYSTEM_PROMPT, sampling=sampling,
                                                   n_ctx=n_ctx, kv_type="f16"))
    window.show()
    sent: list[GenerateRequest] = []
    generate = client.generate

    def spy(request: GenerateRequest) -> bool:
        sent.append(request)
        return bool(generate(request))

    client.generate = spy  # type: ignore[method-assign]

    def wait(signal: object, action: object, timeout_s: float = 3600) -> list[object]:
        loop = QEventLoop()
        got: list[object] = []

        def done(*args: object) -> None:
            got.extend(args)
            loop.quit()

        signal.connect(done)  # type: ignore[attr-defined]
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        action()  # type: ignore[operator]
        loop.exec()
        signal.disconnect(done)  # type: ignore[attr-defined]
        if not got:
            raise SystemExit(f"the window did not answer within {timeout_s:.0f} s")
        return got

    try:
        c = window.controller
        wait(c.modelChanged, lambda: window.open_model(gguf))
        wait(c.documents.readEnded, lambda: c.documents.open_file(document))  # as a drop does
        first_id = int(wait(c.replyEnded, lambda: c.send(_QUESTION))[1])  # type: ignore[call-overload]
        seen: list[float] = []
        c.replyText.connect(lambda _cid, _text: seen.append(time.perf_counter()) if not seen else None)
        t_send = time.perf_counter()
        second_id = int(wait(c.replyEnded, lambda: c.send(_FOLLOW_UP))[1])  # type: ignore[call-overload]
        first, second = store.messages.get(first_id), store.messages.get(second_id)
        assert first.stats is not None and second.stats is not None and first.token_ids is not None
        window.close()
        app.processEvents()
        return FollowUp(second.stats.ttft_s or 0.0, second.stats.prompt_tokens, second.stats.cached_tokens,
                        len(sent[0].prompt_ids) + len(first.token_ids), first.stats.new_tokens,
                        seen[0] - t_send if seen else 0.0, first.stats.tokens_per_s or 0.0,
                        second.stats.tokens_per_s or 0.0)
    finally:
        client.shutdown()
        store.close()


def _ask(gguf: Path, document: Path, answer_tokens: int, n_ctx: int) -> FollowUp:
    from app.cli import main as cli_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli_main(["ask", "--model", str(gguf), "--document", str(document), "--json", "--no-cache",
                           "--temperature", "0", "--top-p", "1", "--max-tokens", str(answer_tokens),
                           "--ctx", str(n_ctx), _QUESTION, _FOLLOW_UP])
    if status != 0:
        raise SystemExit(f"ask failed with status {status}")
    first, second = (json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{"))
    return FollowUp(second["ttft_s"], second["prompt_tokens"], second["cached_tokens"],
                    first["prompt_tokens"] + first["new_tokens"], first["new_tokens"], 0.0,
                    float(first.get("tok_s", 0.0)), float(second.get("tok_s", 0.0)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=16_000, help="document length in characters")
    parser.add_argument("--answer-tokens", type=int, default=300)
    parser.add_argument("--ctx", type=int, default=8192)
    near = [up / "shared/data/internlm2-tokenizer" for up in _ROOT.parents[:2]]
    parser.add_argument("--tokenizer", type=Path, default=next((p for p in near if p.is_dir()), near[0]),
                        help="the real tokenizer's folder (default: ../shared/data/internlm2-tokenizer)")
    args = parser.parse_args()
    if not (args.tokenizer / "tokenizer.model").is_file():
        raise SystemExit(f"no tokenizer.model in {args.tokenizer}: pass --tokenizer FOLDER")
    gguf = _real_tokenizer_gguf(build_checkpoint(_default_dir()), args.tokenizer)
    print(f"machine: {_cpu_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; model: "
          f"{gguf.name} ({gguf.stat().st_size / 1e9:.2f} GB, random weights of the real shape, real tokenizer)")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INTERNLM2_DESKTOP_CACHE"] = str(Path(tmp) / "cache")  # no saved states of ours reused
        os.environ["INTERNLM2_DESKTOP_LOGS"] = str(Path(tmp) / "logs")
        text = build_haystack(args.chars, 50, needle_sentence("quartz"))
        document = Path(tmp) / "document.txt"
        document.write_text(text, encoding="utf-8")
        print(f"document: {len(text):,} characters; answer: {args.answer_tokens} tokens (greedy); "
              f"context {args.ctx:,}", flush=True)
        window = _window(gguf, document, args.answer_tokens, args.ctx, Path(tmp) / "chat.sqlite3")
        ask = _ask(gguf, document, args.answer_tokens, args.ctx)
    print()
    print(f"{'follow-up':<40}{'window':>12}{'ask':>12}")
    rows = [("time to first token, engine (s)", f"{window.ttft_s:.3f}", f"{ask.ttft_s:.3f}"),
            ("Send to first text shown (s)", f"{window.seen_s:.3f}", "-"),
            ("prompt tokens", f"{window.prompt_tokens:,}", f"{ask.prompt_tokens:,}"),
            ("cached tokens", f"{window.cached_tokens:,}", f"{ask.cached_tokens:,}"),
            ("first reply tokens", f"{window.first_reply_tokens:,}", f"{ask.first_reply_tokens:,}"),
            ("tokens before the question re-read", f"{window.reread:,}", f"{ask.reread:,}"),
            ("tokens read (the new question)", f"{window.prompt_tokens - window.cached_tokens:,}",
             f"{ask.prompt_tokens - ask.cached_tokens:,}"),
            ("first reply, decode tok/s", f"{window.first_tok_s:.2f}", f"{ask.first_tok_s:.2f}"),
            ("follow-up reply, decode tok/s", f"{window.second_tok_s:.2f}", f"{ask.second_tok_s:.2f}")]
    for name, a, b in rows:
        print(f"{name:<40}{a:>12}{b:>12}")
    ratio = window.ttft_s / ask.ttft_s if ask.ttft_s > 0 else float("inf")
    print(f"\nwindow / ask time to first token: {ratio:.2f} (target: within 10%, and 0 tokens re-read)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
