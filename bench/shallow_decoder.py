"""Benchmark: the shallow decoder against the decoder, step by step, in the app's own contexts.

    .venv/bin/python bench/shallow_decoder.py [--gguf FILE] [--threads 2] [--depths 16,100,160] [--steps 32] [--reps 2]

llamacpp_policy.use_shallow_decoder decodes the first SHALLOW_MAX tokens with flash attention
on a small context of their own over the decoder's weights, then hands the cache to the decoder
(no flash attention). Whether that pays is a per-token question, and on a machine whose speed
moves by tens of percent within minutes (bench/README.md, "Issue 17, session 8") two replies
run one after the other cannot answer it to a few percent. So both contexts of one app backend
are brought to the same depth and then alternate single decode steps (the same token to both,
the order switched each step): each pair of steps is about 0.1 s apart, and the figure is the
median of the pairs' own ratios. Printed per starting depth: both medians in ms and the
decoder / shallow ratio (above 1: the shallow decoder is faster), with its quartiles. Then the
handover itself: the state copy of SHALLOW_MAX tokens each way (`_move_to`: llama.cpp's
sequence state, its V layout converted), the cost paid once per context at the crossing.
Last (--copied N: repetitions, 0 for none), whether a decoder that got its cache by the handover
decodes as fast as one that computed it: two backends, one with a handed-over cache and one
with a computed one, alternate single steps past SHALLOW_MAX, then swap roles; the geometric
mean of the two ratios cancels what differs between the two backends themselves.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _fill(ctx: Any, ids: list[int]) -> None:
    ctx._ctx.kv_cache_seq_rm(-1, 0, -1)
    ctx.n_tokens = 0
    ctx.eval(ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--depths", default="16,100,160")
    parser.add_argument("--steps", type=int, default=32, help="decode steps from each depth (up to SHALLOW_MAX)")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--copied", type=int, default=3, help="repetitions of the handed-over / computed check")
    args = parser.parse_args()

    from app.engine.llamacpp_backend import LlamaCppBackend
    from app.engine.llamacpp_policy import SHALLOW_MAX
    from app.engine.llamacpp_runtime import loaded_cpu_variant
    from bench.engine import _default_gguf

    path = args.gguf or _default_gguf()
    app = LlamaCppBackend(path, n_ctx=4096 + 256, n_threads=args.threads)
    print(f"{path.name}; {args.threads} threads; CPU variant {loaded_cpu_variant() or '-'}; app: {app.policy.why}",
          flush=True)
    if not app.has_shallow_decoder:
        print("this build gets no shallow decoder (llamacpp_policy.use_shallow_decoder): nothing to compare")
        return 1
    shallow, decoder = app._shallow, app._llm
    rng = random.Random(0)
    ids = [rng.randrange(1000, 90000) for _ in range(SHALLOW_MAX + 1)]
    print("| from depth | steps | shallow, ms | decoder, ms | decoder / shallow, paired (q1-q3) |")
    print("| ---: | ---: | ---: | ---: | --- |")
    for depth in [int(d) for d in args.depths.split(",") if d]:
        times: dict[str, list[float]] = {"shallow": [], "decoder": []}
        ratios: list[float] = []
        for _ in range(args.reps):
            _fill(shallow, ids[:depth])
            _fill(decoder, ids[:depth])
            for i in range(depth, min(depth + args.steps, SHALLOW_MAX)):
                step: dict[str, float] = {}
                for name, ctx in ((("shallow", shallow), ("decoder", decoder)) if i % 2
                                  else (("decoder", decoder), ("shallow", shallow))):
                    t0 = time.perf_counter()
                    ctx.eval([ids[i]])
                    step[name] = time.perf_counter() - t0
                    times[name].append(step[name])
                ratios.append(step["decoder"] / step["shallow"])
        q = statistics.quantiles(ratios) if len(ratios) > 1 else [ratios[0]] * 3
        print(f"| {depth} | {len(ratios)} | {1000 * statistics.median(times['shallow']):.1f} | "
              f"{1000 * statistics.median(times['decoder']):.1f} | {statistics.median(ratios):.3f} "
              f"({q[0]:.3f}-{q[2]:.3f}) |", flush=True)
    copies: dict[str, list[float]] = {"shallow to decoder": [], "decoder to shallow": []}
    for _ in range(5):
        app._reset_cache()
        _fill(shallow, ids[:SHALLOW_MAX])
        app._holder = shallow
        for name, target in (("shallow to decoder", decoder), ("decoder to shallow", shallow)):
            t0 = time.perf_counter()
            app._move_to(target)
            copies[name].append(1000 * (time.perf_counter() - t0))
    for name, values in copies.items():
        print(f"handover of {SHALLOW_MAX} tokens, {name}: median {statistics.median(values):.1f} ms "
              f"{[round(v, 1) for v in values]}")
    if args.copied:
        _copied_against_computed(app, LlamaCppBackend(path, n_ctx=4096 + 256, n_threads=args.threads),
                                 ids, args.copied, SHALLOW_MAX)
    app.unload()
    return 0


def _copied_against_computed(a: Any, b: Any, ids: list[int], reps: int, cut: int) -> None:
    """Decode steps past `cut` on a decoder whose cache came by the handover against one whose
    cache it computed itself, in two backends, with the roles swapped every other race."""
    rng = random.Random(1)
    more = ids + [rng.randrange(1000, 90000) for _ in range(48)]

    def prepare(backend: Any, handed_over: bool) -> None:
        backend._reset_cache()
        if handed_over:
            _fill(backend._shallow, more[:cut])
            backend._holder = backend._shallow
            backend._move_to(backend._llm)
        else:
            backend._llm.eval(more[:cut])
            backend._holder = backend._llm

    def race(x: Any, y: Any) -> float:
        ratios = []
        for i in range(cut, cut + 48):
            t: dict[int, float] = {}
            for backend in ((x, y) if i % 2 else (y, x)):
                t0 = time.perf_counter()
                backend._llm.eval([more[i]])
                t[id(backend)] = time.perf_counter() - t0
            ratios.append(t[id(x)] / t[id(y)])
        return statistics.median(ratios)

    effects = []
    for _ in range(reps):
        prepare(a, True)
        prepare(b, False)
        first = race(a, b)
        prepare(a, False)
        prepare(b, True)
        second = race(b, a)
        effects.append(math.sqrt(first * second))
    print(f"a decode step past {cut} on a handed-over cache / on a computed one: median "
          f"{statistics.median(effects):.3f} {[round(e, 3) for e in effects]} (48 steps a race, the roles swapped)")
    b.unload()


if __name__ == "__main__":
    raise SystemExit(main())
