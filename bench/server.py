"""Benchmark: time to first token and decode speed through the local server vs in-process.

    .venv/bin/python bench/server.py [--gguf FILE] [--threads 2] [--ctx 2048] [--prompt-words 60]
                                     [--decode 32] [--repeats 3]

The same GGUF (default: bench/engine.py's Q4_K_M with random weights of the real
InternLM2-1.8B shape, built once and cached), the same threads and context on both sides, the
same prompts (a short system prompt made unique per run, so neither side reuses the previous
run's cache beyond the first tokens, and --prompt-words words of question), greedy, the same answer length.

Runs alternate (in-process, server, in-process, ...) so that a change in the machine's load
hits both sides alike; both processes map the same file, and one is idle while the other runs.

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
from app.internlm2.chat_format import Message, Sampling, build_chat_prompt  # noqa: E402

_KEY = "sk-bench-0123456789"
_WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "near", "the", "river", "bank", "while", "it", "rains"]


def _question(words: int) -> str:
    return " ".join(_WORDS[i % len(_WORDS)] for i in range(words))


def _system(run: int) -> str:
    return f"Run {run}: answer briefly."


def _messages(run: int, words: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": _system(run)}, {"role": "user", "content": _question(words)}]


class _InProcess:
    """LlamaCppBackend.generate on the prompt's ids (what `ask` and the window do)."""

    def __init__(self, gguf: Path, args: argparse.Namespace) -> None:
        self.backend = LlamaCppBackend(gguf, n_ctx=args.ctx, n_threads=args.threads)
        self.args = args

    def run(self, run: int) -> tuple[float, float, int]:
        msgs = [Message("system", _system(run)), Message("user", _question(self.args.prompt_words))]
        ids = build_chat_prompt(msgs).ids(self.backend.tokenizer)
        req = GenerateRequest(ids, Sampling(temperature=0.0, max_new_tokens=self.args.decode))
        t0 = time.perf_counter()
        stamps = [time.perf_counter() for e in self.backend.generate(req) if isinstance(e, TextPiece)]
        return stamps[0] - t0, (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(ids)


class _Served:
    """`main.py serve` in its own process; the openai client streams from this one."""

    def __init__(self, gguf: Path, args: argparse.Namespace) -> None:
        import openai

        self.proc = subprocess.Popen([sys.executable, str(_ROOT / "main.py"), "serve", "--model", str(gguf),
                                      "--port", "0", "--ctx", str(args.ctx), "--threads", str(args.threads),
                                      "--api-key", _KEY], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        url = self.proc.stdout.readline().rsplit(" at ", 1)[1].strip()
        self.client = openai.OpenAI(base_url=url, api_key=_KEY, max_retries=0, timeout=1200)
        self.args = args

    def run(self, run: int) -> tuple[float, float, int]:
        t0 = time.perf_counter()
        stamps, prompt = [], 0
        for chunk in self.client.chat.completions.create(
                model="bench", messages=_messages(run, self.args.prompt_words), temperature=0,  # type: ignore[arg-type]
                max_tokens=self.args.decode, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                stamps.append(time.perf_counter())
            if chunk.usage is not None:
                prompt = chunk.usage.prompt_tokens
        return stamps[0] - t0, (len(stamps) - 1) / (stamps[-1] - stamps[0]), prompt

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


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
    parser.add_argument("--prompt-words", type=int, default=60)
    parser.add_argument("--decode", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.gguf is None:
        from bench.engine import _default_gguf

        args.gguf = _default_gguf()
    print(f"{platform.processor() or platform.machine()}, {args.threads} threads, {args.gguf.name}, "
          f"context {args.ctx}, {args.decode} tokens a reply, {args.repeats} runs a side (+1 warm-up)")
    local, served = _InProcess(args.gguf, args), _Served(args.gguf, args)
    runs: dict[str, list[tuple[float, float, int]]] = {"in-process": [], "server": []}
    try:
        for run in range(args.repeats + 1):  # interleaved, so a change in the machine's load hits both
            for name, side in (("in-process", local), ("server", served)):
                figures = side.run(run)
                if run:  # run 0 warms both up
                    runs[name].append(figures)
    finally:
        served.close()
        local.backend.unload()
    a = _summary("in-process", runs["in-process"])
    b = _summary("server", runs["server"])
    print(f"server overhead: TTFT {(b[0] - a[0]) * 1000:+.1f} ms, decode time {(a[1] / b[1] - 1) * 100:+.1f}%")

if __name__ == "__main__":
    main()
