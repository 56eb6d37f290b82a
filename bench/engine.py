"""Benchmark: the app's llama.cpp backend against raw llama-cpp-python, and follow-up reuse.

    .venv/bin/python bench/engine.py [--gguf FILE] [--threads 2] [--sizes 512,4096] [--repeats 2]
                                     [--decode 48] [--followup-ctx 4000] [--flash-attn auto|on|off]
                                     [--decode-only RUNS [--control] | --prefill-only RUNS]

Both sides load the same Q4_K_M GGUF (random weights of the real InternLM2-1.8B shape; built
once from bench/convert.py's checkpoint and cached beside it) with the same n_ctx, n_batch,
threads, f16 KV cache, and the app's automatic flash-attention / micro-batch choice (off / n_ubatch
from the context on the CPU: see LlamaCppBackend). For each prompt size, runs are interleaved (app,
raw, raw, app, ...) and repeated; each side's best and median are printed with the ratio.

- prefill: a cold cache, then the prompt read in n_batch chunks. App: Backend.generate with
  prefill_only (chunk loop, progress events, abort callback). Raw: Llama.reset() + Llama.eval().
- decode: greedy tokens after that prompt. App: Backend.generate, timed between its first and
  last streamed text piece (sampling, stop checks, streaming text included). Raw: a loop of LlamaSampler(greedy).sample + Llama.eval([tok]).
- prefill only (--prefill-only RUNS): RUNS cold prefills a side, interleaved, nothing else.
- decode only (--decode-only RUNS): one prefill a side, then RUNS interleaved decodes a side from
  the same prompt, for a steadier figure than the few full rounds allow.
- follow-up: a context of --followup-ctx tokens plus a 16-token reply, then a 24-token
  question: time to first token with the cache reused against the same prompt from a cold
  cache (the issue asks about 16,000 tokens; the default is smaller because a cold 16K
  prefill takes minutes on 2 cores, and the ratio only grows with the context).
Prompts are random ordinary token ids (speed does not depend on the text). No asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

import numpy as np  # noqa: E402

from app.engine.llamacpp_backend import LlamaCppBackend  # noqa: E402
from app.engine.llamacpp_runtime import import_llama_cpp, safe_model_params  # noqa: E402
from app.engine.types import Finished, GenerateRequest, TextPiece  # noqa: E402
from app.internlm2.chat_format import Sampling  # noqa: E402

_N_BATCH = 512


def _default_gguf() -> Path:
    from app.paths import cache_dir

    bench = cache_dir() / "bench"
    out = bench / "bench-q4_k_m.gguf"
    if not out.exists():
        from app.internlm2.gguf_export import export_gguf
        from bench.convert import build_checkpoint

        src = build_checkpoint(bench / "internlm2-1_8b-random")
        print(f"exporting {out} (once, about a minute) ...", flush=True)
        export_gguf(src, out, "q4_k_m")
    return out


class _Raw:
    """Plain llama-cpp-python: Llama.eval and the low-level greedy sampler, nothing else."""

    def __init__(self, path: Path, n_ctx: int, threads: int, flash_attn: bool, n_ubatch: int) -> None:
        llama_cpp = import_llama_cpp()
        from llama_cpp._internals import LlamaSampler

        with safe_model_params():
            self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_batch=_N_BATCH, n_ubatch=n_ubatch,
                                       n_threads=threads, n_threads_batch=threads, flash_attn=flash_attn,
                                       type_k=1, type_v=1, n_gpu_layers=0, verbose=False)
        self.sampler = LlamaSampler()
        self.sampler.add_greedy()

    def prefill(self, ids: list[int]) -> float:
        self.llm.reset()
        t0 = time.perf_counter()
        self.llm.eval(ids)
        return len(ids) / (time.perf_counter() - t0)

    def decode(self, n: int) -> float:
        ctx = self.llm._ctx
        tok = self.sampler.sample(ctx, -1)
        t0 = time.perf_counter()
        for _ in range(n - 1):
            self.llm.eval([tok])
            tok = self.sampler.sample(ctx, -1)
        return (n - 1) / (time.perf_counter() - t0)


def _app_run(app: LlamaCppBackend, ids: list[int], n: int, prefill_only: bool = False) -> Finished:
    req = GenerateRequest(ids, Sampling(temperature=0.0, max_new_tokens=n), prefill_only=prefill_only)
    done = None
    for event in app.generate(req):
        done = event
    assert isinstance(done, Finished)
    return done


def _app_prefill(app: LlamaCppBackend, ids: list[int]) -> float:
    app._reset_cache()
    t0 = time.perf_counter()
    _app_run(app, ids, 1, prefill_only=True)
    return len(ids) / (time.perf_counter() - t0)


def _app_decode(app: LlamaCppBackend, ids: list[int], n: int) -> tuple[float, int]:
    """Tokens/s between the first and the last streamed piece (the raw loop's n - 1 steps).

    Not the reply stats' tok/s: after the last token the app also runs it into the cache (so a
    follow-up can reuse the whole reply), one step more than the raw loop, 1/n of the figure.
    """
    req = GenerateRequest(ids, Sampling(temperature=0.0, max_new_tokens=n))
    stamps = [time.perf_counter() for e in app.generate(req) if isinstance(e, TextPiece)]
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(stamps)


def _fmt(values: list[float]) -> str:
    return f"{max(values):7.2f} (median {statistics.median(values):7.2f})"


def _ratio(app: list[float], raw: list[float]) -> str:
    best = max(app) / max(raw)
    med = statistics.median(app) / statistics.median(raw)
    return f"{best:.3f} (median {med:.3f})  overhead {100 * (1 - best):+.1f}% best, {100 * (1 - med):+.1f}% median"


def compare(app: LlamaCppBackend, raw: _Raw, sizes: list[int], repeats: int, n_decode: int,
            rng: np.random.Generator) -> None:
    for size in sizes:
        ids = [int(t) for t in rng.integers(10, 92000, size)]
        res: dict[str, list[float]] = {"app_pp": [], "raw_pp": [], "app_tg": [], "raw_tg": []}
        new_tokens = []
        for rep in range(repeats):
            for side in (("app", "raw") if rep % 2 == 0 else ("raw", "app")):
                if side == "app":
                    res["app_pp"].append(_app_prefill(app, ids))
                    tok_s, new = _app_decode(app, ids, n_decode)
                    res["app_tg"].append(tok_s)
                    new_tokens.append(new)
                else:
                    res["raw_pp"].append(raw.prefill(ids))
                    res["raw_tg"].append(raw.decode(n_decode))
            print(f"  [{size} tokens, round {rep + 1}/{repeats} done]", flush=True)
        print(f"prompt {size:5d}  prefill tok/s  app {_fmt(res['app_pp'])}  raw {_fmt(res['raw_pp'])}  "
              f"app/raw {_ratio(res['app_pp'], res['raw_pp'])}")
        print(f"prompt {size:5d}  decode  tok/s  app {_fmt(res['app_tg'])}  raw {_fmt(res['raw_tg'])}  "
              f"app/raw {_ratio(res['app_tg'], res['raw_tg'])}  (app pieces per reply: {new_tokens}; "
              f"raw tokens: {n_decode})", flush=True)


def compare_decode(app: LlamaCppBackend, raw: _Raw, sizes: list[int], repeats: int, n_decode: int,
                   rng: np.random.Generator, control: _Raw | None = None) -> None:
    """Decode only: each side reads the prompt once, then decodes `repeats` times, interleaved,
    from the same prompt (the app trims its cache back to the prompt through its prefix reuse;
    raw drops the tokens after the prompt). Many runs at little cost, for a steadier median.
    `control`: a second raw context with the same settings, decoding in the same rotation: the
    spread between two identical raw contexts is the noise floor of the app/raw ratio."""
    for size in sizes:
        ids = [int(t) for t in rng.integers(10, 92000, size)]
        app._reset_cache()
        _app_run(app, ids, 1, prefill_only=True)
        raws = [raw] + ([control] if control is not None else [])
        for r in raws:
            r.llm.reset()
            r.llm.eval(ids)
        sides = ["app", "raw"] + (["control"] if control is not None else [])
        tg: dict[str, list[float]] = {side: [] for side in sides}
        for rep in range(repeats):
            for side in sides[rep % len(sides):] + sides[:rep % len(sides)]:  # rotate who goes first
                if side == "app":
                    tg["app"].append(_app_decode(app, ids, n_decode)[0])
                else:
                    r = raw if side == "raw" or control is None else control
                    r.llm._ctx.kv_cache_seq_rm(-1, size, -1)
                    r.llm.n_tokens = size
                    tg[side].append(r.decode(n_decode))
        print(f"prompt {size:5d}  decode only, {repeats} runs a side  tok/s  app {_fmt(tg['app'])}  raw {_fmt(tg['raw'])}  "
              f"app/raw {_ratio(tg['app'], tg['raw'])}", flush=True)
        if control is not None:
            print(f"prompt {size:5d}  control: a second raw context  tok/s  {_fmt(tg['control'])}  "
                  f"control/raw {_ratio(tg['control'], tg['raw'])}", flush=True)


def compare_prefill(app: LlamaCppBackend, raw: _Raw, sizes: list[int], repeats: int,
                    rng: np.random.Generator) -> None:
    """Prefill only, `repeats` interleaved runs a side from a cold cache (no decode between)."""
    for size in sizes:
        ids = [int(t) for t in rng.integers(10, 92000, size)]
        app_pp: list[float] = []
        raw_pp: list[float] = []
        for rep in range(repeats):
            for side in (("app", "raw") if rep % 2 == 0 else ("raw", "app")):
                if side == "app":
                    app_pp.append(_app_prefill(app, ids))
                else:
                    raw_pp.append(raw.prefill(ids))
        print(f"prompt {size:5d}  prefill only, {repeats} runs a side  tok/s  app {_fmt(app_pp)}  raw {_fmt(raw_pp)}  "
              f"app/raw {_ratio(app_pp, raw_pp)}", flush=True)


def follow_up(app: LlamaCppBackend, n_ctx_tokens: int, repeats: int, rng: np.random.Generator) -> None:
    context = [int(t) for t in rng.integers(10, 92000, n_ctx_tokens)]
    app._reset_cache()
    first = _app_run(app, context, 16)
    history = context + first.token_ids
    warm = []
    for _ in range(repeats):
        question = [int(t) for t in rng.integers(10, 92000, 24)]
        done = _app_run(app, history + question, 1)
        warm.append((done.stats.ttft_s, done.stats.cached_tokens, done.stats.prompt_tokens))
    app._reset_cache()
    cold = _app_run(app, history + question, 1)
    best = min(w[0] for w in warm)
    print(f"follow-up on a {len(history):,}-token context + 24-token question: "
          f"time to first token warm {best * 1000:.0f} ms (all: {', '.join(f'{w[0] * 1000:.0f}' for w in warm)} ms; "
          f"{warm[-1][1]:,} of {warm[-1][2]:,} tokens reused), cold {cold.stats.ttft_s:.2f} s "
          f"({cold.stats.cached_tokens} reused): {cold.stats.ttft_s / best:.0f}x faster with reuse", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", default="512,4096")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--decode", type=int, default=48, help="tokens decoded per run")
    parser.add_argument("--followup-ctx", type=int, default=4000, help="0: skip the follow-up test")
    parser.add_argument("--decode-only", type=int, default=0, metavar="RUNS",
                        help="compare decode alone: one prefill a side, then RUNS decodes a side")
    parser.add_argument("--prefill-only", type=int, default=0, metavar="RUNS",
                        help="compare prefill alone: RUNS cold prefills a side, interleaved")
    parser.add_argument("--control", action="store_true",
                        help="with --decode-only: a second raw context with the same settings (the noise floor)")
    parser.add_argument("--flash-attn", choices=("auto", "on", "off"), default="auto",
                        help="auto: the app's own choice (off on the CPU)")
    args = parser.parse_args()
    path = args.gguf or _default_gguf()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    n_ctx = max(sizes + [args.followup_ctx]) + args.decode + 256
    import llama_cpp

    flash = {"auto": None, "on": True, "off": False}[args.flash_attn]
    app = LlamaCppBackend(path, n_ctx=n_ctx, n_threads=args.threads, n_batch=_N_BATCH, kv_type="f16",
                          flash_attn=flash)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"llama-cpp-python {llama_cpp.__version__}; {path.name} ({path.stat().st_size / 1e9:.2f} GB); "
          f"threads {args.threads}, n_ctx {n_ctx}, n_batch {_N_BATCH}, n_ubatch {app.n_ubatch}, "
          f"flash attention {'on' if app.flash_attn else 'off'}, f16 KV", flush=True)
    raw = _Raw(path, n_ctx, args.threads, app.flash_attn, app.n_ubatch)
    control = _Raw(path, n_ctx, args.threads, app.flash_attn, app.n_ubatch) if args.control else None
    rng = np.random.default_rng(0)
    try:
        if args.decode_only:
            compare_decode(app, raw, sizes, args.decode_only, args.decode, rng, control)
        elif args.prefill_only:
            compare_prefill(app, raw, sizes, args.prefill_only, rng)
        else:
            compare(app, raw, sizes, args.repeats, args.decode, rng)
        raw.llm.close()
        if control is not None:
            control.llm.close()
        if args.followup_ctx:
            follow_up(app, args.followup_ctx, 3, rng)
    finally:
        app.unload()
    return 0


if __name__ == "__main__":
    sys.exit(main())
