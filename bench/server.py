"""Benchmark: time to first token and decode speed through the local server vs in-process.

    .venv/bin/python bench/server.py [--gguf FILE] [--threads 2] [--ctx 2048] [--prompt-words 200]
                                     [--decode 32] [--repeats 3]

The same GGUF (default: bench/engine.py's Q4_K_M with random weights of the real
InternLM2-1.8B shape, built once and cached), the same threads and context on both sides, the
same prompts (a chat prompt with the official system prompt, made unique per run so neither
side reuses the previous run's cache beyond the first tokens), greedy, the same answer length.

- in-process: LlamaCppBackend.generate on the prompt's ids (what `ask` and the window do).
  TTFT: from the call to the first streamed text piece.
- server: `main.py serve` in its own process, the openai client streaming from another.
  TTFT: from sending the request to the first chunk with text (HTTP, JSON, queue, prompt
  building and SSE included).
- decode: tokens/s between the first and the last text (piece or chunk).
Medians and bests per side, then the server's overhead. No asserts.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

from app.engine.llamacpp_backend import LlamaCppBackend  # noqa: E402
from app.engine.types import GenerateRequest, TextPiece  # noqa: E402
from app.internlm2.chat_format import DEFAULT_SYSTEM_PROMPT, Message, Sampling, build_chat_prompt  # noqa: E402

_KEY = "sk-bench-0123456789"
_WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "near", "the", "river", "bank", "while", "it", "rains"]


def _question(words: int) -> str:
    return " ".join(_WORDS[i % len(_WORDS)] for i in range(words))


def _system(run: int) -> str:
    return f"Run {run}. {DEFAULT_SYSTEM_PROMPT}"


def _in_process(gguf: Path, args: argparse.Namespace) -> list[tuple[float, float, int]]:
    backend = LlamaCppBackend(gguf, n_ctx=args.ctx, n_threads=args.threads)
    out = []
    try:
        for run in range(args.repeats + 1):
            msgs = [Message("system", _system(run)), Message("user", _question(args.prompt_words))]
            ids = build_chat_prompt(msgs).ids(backend.tokenizer)
            req = GenerateRequest(ids, Sampling(temperature=0.0, max_new_tokens=args.decode))
            t0 = time.perf_counter()
            stamps = [time.perf_counter() for e in backend.generate(req) if isinstance(e, TextPiece)]
            if run:  # the first run warms up
                out.append((stamps[0] - t0, (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(ids)))
    finally:
        backend.unload()
    return out


def _through_server(gguf: Path, args: argparse.Namespace) -> list[tuple[float, float, int]]:
    import openai

    proc = subprocess.Popen([sys.executable, str(_ROOT / "main.py"), "serve", "--model", str(gguf), "--port", "0",
                             "--ctx", str(args.ctx), "--threads", str(args.threads), "--api-key", _KEY],
                            stdout=subprocess.PIPE, text=True)
    out = []
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().rsplit(" at ", 1)[1].strip()
        client = openai.OpenAI(base_url=url, api_key=_KEY, max_retries=0, timeout=600)
        for run in range(args.repeats + 1):
            msgs = [{"role": "system", "content": _system(run)}, {"role": "user", "content": _question(args.prompt_words)}]
            t0 = time.perf_counter()
            stamps, prompt = [], 0
            for chunk in client.chat.completions.create(model="bench", messages=msgs, temperature=0,  # type: ignore[call-overload]
                                                        max_tokens=args.decode, stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    stamps.append(time.perf_counter())
                if chunk.usage is not None:
                    prompt = chunk.usage.prompt_tokens
            if run:
                out.append((stamps[0] - t0, (len(stamps) - 1) / (stamps[-1] - stamps[0]), prompt))
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def _summary(name: str, runs: list[tuple[float, float, int]]) -> tuple[float, float]:
    ttft = statistics.median(r[0] for r in runs)
    tok_s = statistics.median(r[1] for r in runs)
    print(f"{name:<12} prompt {runs[0][2]:>5} tokens   TTFT median {ttft * 1000:8.1f} ms (best "
          f"{min(r[0] for r in runs) * 1000:8.1f})   decode median {tok_s:6.2f} tok/s (best {max(r[1] for r in runs):6.2f})")
    return ttft, tok_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--prompt-words", type=int, default=200)
    parser.add_argument("--decode", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.gguf is None:
        from bench.engine import _default_gguf

        args.gguf = _default_gguf()
    print(f"{platform.processor() or platform.machine()}, {args.threads} threads, {args.gguf.name}, "
          f"context {args.ctx}, {args.decode} tokens a reply, {args.repeats} runs a side (+1 warm-up)")
    local = _summary("in-process", _in_process(args.gguf, args))
    served = _summary("server", _through_server(args.gguf, args))
    print(f"server overhead: TTFT {(served[0] - local[0]) * 1000:+.1f} ms, "
          f"decode time {(local[1] / served[1] - 1) * 100:+.1f}%")


if __name__ == "__main__":
    main()
