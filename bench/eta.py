"""Benchmark: how wrong the prefill time left is at 10%, 25% and 50% of a long document.

    .venv/bin/python bench/eta.py --model tiny --tokens 50000
    .venv/bin/python bench/eta.py --model real --tokens 6144 --extrapolate 50000 [--gguf FILE]

The document is ordinary English (the needle check's filler) tokenized with the real InternLM2
tokenizer (../shared/data/internlm2-tokenizer, or --tokenizer), read by the app's llama.cpp
backend on the CPU with the app's settings (flash attention off, 512-token chunks) as a
prefill-only request, exactly as the window reads a dropped document. Every progress event's
estimate is compared with the time the reading then really took; the old estimate (tokens left
at the rate so far) is shown beside it. The estimator starts cold: a private calibration file.

--model tiny: the tiny random test model (fast; its cost per token is mostly overhead).
--model real: random weights of the real 1.8B shape, Q4_K_M (bench/convert.py's checkpoint;
speed does not depend on weight values). A 50,000-token reading takes about an hour on two
cores, so --extrapolate N continues the measured chunk timings with the cost fitted to the
whole measured run (a + b*depth per token, with the measured relative noise), and scores the
estimator on that N-token reading too: its first --tokens tokens are measured, the rest is
extrapolated, and the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

from app.engine.eta import PrefillEta, _Chunk, _free_fit  # noqa: E402
from app.engine.types import GenerateRequest, PrefillProgress  # noqa: E402

_FRACTIONS = (0.10, 0.25, 0.50)
_DEFAULT_TOKENIZER = _ROOT.parent.parent / "shared" / "data" / "internlm2-tokenizer"


def _document_ids(tokens: int, tokenizer_dir: Path) -> list[int]:
    """`tokens` ids of English filler from the real tokenizer."""
    from app.engine.needle import build_haystack
    from app.internlm2.tokenizer import InternLM2Tokenizer

    tok = InternLM2Tokenizer.from_folder(tokenizer_dir)
    chars = tokens * 5
    while True:
        ids = tok.encode(build_haystack(chars, 50, "The code is amber."))
        if len(ids) >= tokens:
            break
        chars = int(chars * 1.3)
    return ids[:tokens]


def _gguf(kind: str, given: Path | None, work: Path) -> Path:
    if given is not None:
        return given
    from app.internlm2.gguf_export import export_gguf

    if kind == "tiny":
        from tests.tiny_model import TinySpec, build_tiny_checkpoint

        checkpoint = build_tiny_checkpoint(work / "tiny", TinySpec(seed=3, dtype="F32"))
        return export_gguf(checkpoint, work / "tiny-f32.gguf", "f32")
    from bench.convert import _default_dir, build_checkpoint

    folder = build_checkpoint(_default_dir())
    out = folder.parent / "bench-q4_k_m.gguf"
    return out if out.exists() else export_gguf(folder, out, "q4_k_m")


def _measure(gguf: Path, ids: list[int], threads: int | None
             ) -> tuple[list[tuple[float, int, float | None]], list[tuple[int, int, float]],
                        list[tuple[int, int, float]], float]:
    """Read ids once: (time, done, estimate) per progress event, (depth, n, s) per chunk in wall
    and in CPU seconds (all threads), total wall seconds."""
    from app.engine.llamacpp_backend import LlamaCppBackend

    backend = LlamaCppBackend(gguf, n_ctx=len(ids) + 64, n_threads=threads)
    vocab = int(backend._llm.n_vocab())
    ids = [i % vocab for i in ids]  # the same ids for the real vocabulary; folded for the tiny one
    try:
        events: list[tuple[float, int, float | None]] = []
        cpu: list[float] = []
        t0, c0 = time.perf_counter(), time.process_time()
        for event in backend.generate(GenerateRequest(ids, prefill_only=True)):
            if isinstance(event, PrefillProgress):
                events.append((time.perf_counter() - t0, event.done, event.seconds_left))
                cpu.append(time.process_time() - c0)
        total = time.perf_counter() - t0
    finally:
        backend.unload()
    chunks = [(events[i - 1][1], events[i][1] - events[i - 1][1], events[i][0] - events[i - 1][0])
              for i in range(1, len(events))]
    cpu_chunks = [(d, n, cpu[i + 1] - cpu[i]) for i, (d, n, _) in enumerate(chunks)]
    return events, chunks, cpu_chunks, total


def _score(events: list[tuple[float, int, float | None]], total_s: float, n: int) -> list[str]:
    lines = []
    for f in _FRACTIONS:
        at = next((e for e in events if e[1] >= f * n), None)
        if at is None or at[2] is None:
            lines.append(f"  {f:>4.0%}: no estimate")
            continue
        truth = total_s - at[0]
        linear = (n - at[1]) * at[0] / at[1] if at[1] else float("nan")
        lines.append(f"  {f:>4.0%} read ({at[1]:,} tokens, {at[0]:.1f} s): estimate {at[2]:.1f} s, "
                     f"truth {truth:.1f} s, error {100 * (at[2] - truth) / truth:+.1f}%; "
                     f"rate-so-far {linear:.1f} s ({100 * (linear - truth) / truth:+.1f}%)")
    return lines


def _extrapolated(chunks: list[tuple[int, int, float]], n: int, seed: int = 0
                  ) -> list[tuple[int, int, float]]:
    """The measured chunks, then chunks up to n from the cost fitted to all measured chunks but
    the cold first, times a relative noise drawn from the measured residuals."""
    measured = [_Chunk(d, k, s) for d, k, s in chunks]
    model, _ = _free_fit(measured[1:])
    residuals = [c.seconds / model.seconds(c.depth, c.depth + c.n) - 1 for c in measured[1:]]
    rng = random.Random(seed)
    out = list(chunks)
    step = max(k for _, k, _ in chunks)
    depth = chunks[-1][0] + chunks[-1][1]
    while depth < n:
        k = min(step, n - depth)
        out.append((depth, k, model.seconds(depth, depth + k) * (1 + rng.choice(residuals))))
        depth += k
    print(f"  fitted on the measured chunks: a = {model.a * 1e3:.3f} ms/token, "
          f"b = {model.b * 1e9:.3f} ns/token per token of depth (a token at depth 50,000 costs "
          f"{(model.a + model.b * 50_000) / model.a:.1f}x one at the start); residual noise "
          f"{100 * max(abs(r) for r in residuals):.1f}% at most")
    return out


def _score_chunks(chunks: list[tuple[int, int, float]]) -> list[str]:
    n = chunks[-1][0] + chunks[-1][1]
    eta, elapsed, events = PrefillEta(), 0.0, []
    for depth, k, s in chunks:
        eta.add(depth, k, s)
        elapsed += s
        events.append((elapsed, depth + k, eta.seconds_left(depth + k, n)))
    return _score(events, elapsed, n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("tiny", "real"), default="tiny")
    parser.add_argument("--gguf", type=Path, default=None, help="use this GGUF instead of building one")
    parser.add_argument("--tokens", type=int, default=50_000, help="document length in tokens")
    parser.add_argument("--extrapolate", type=int, default=0, metavar="N",
                        help="also score a reading of N tokens continued from the measured one")
    parser.add_argument("--tokenizer", type=Path, default=_DEFAULT_TOKENIZER)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--save", type=Path, default=None, metavar="FILE",
                        help="write the measured chunk timings (depth, tokens, seconds) as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-eta-") as tmp:
        work = Path(tmp)
        gguf = _gguf(args.model, args.gguf, work)
        ids = _document_ids(args.tokens, args.tokenizer)
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}; model {gguf.name} ({args.model}); "
              f"document {len(ids):,} tokens (real tokenizer)", flush=True)
        # A private cache folder: the estimator starts cold and the user's calibration is untouched.
        os.environ["INTERNLM2_DESKTOP_CACHE"] = str(work / "cache")
        events, chunks, cpu_chunks, total = _measure(gguf, ids, args.threads)
        print(f"read in {total:.1f} s ({len(ids) / total:.1f} tok/s), {len(chunks)} chunks, load "
              f"average now {os.getloadavg()[0]:.1f}; wall clock, the app's estimate starting cold:")
        print("\n".join(_score(events, total, len(ids))))
        print("the same estimator on the chunks' CPU time (the other programs' load taken out):")
        print("\n".join(_score_chunks(cpu_chunks)))
        if args.save is not None:
            args.save.write_text(json.dumps({"model": gguf.name, "chunks": chunks, "cpu": cpu_chunks}))
        if args.extrapolate > len(ids):
            for name, measured in (("wall", chunks), ("CPU", cpu_chunks)):
                print(f"{args.extrapolate:,}-token reading ({name} time): the first {len(ids):,} "
                      f"tokens measured, the rest EXTRAPOLATED:")
                print("\n".join(_score_chunks(_extrapolated(measured, args.extrapolate))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
