"""Benchmark (CUDA): the PyTorch backend's decode and long-context figures against transformers.

    python bench/gpu_engine.py [--dir FOLDER] [--decode 256] [--long 50000] [--skip-static-generate]

Run by bench/gpu_engine.sh on a GPU machine. Builds the random-weight checkpoint of the real
InternLM2-1.8B shape with bench/convert.py's builder (nothing is downloaded or copied), loads
it once with the app's TorchBackend (bf16, static KV cache, CUDA-graph decode) and measures:

1. decode tok/s at batch 1 after a 64-token prompt: the backend (greedy, through
   Backend.generate), transformers generate() on the same model object (dynamic cache), and
   generate(cache_implementation="static"). For generate(), tok/s = (N - 1) / (time of N
   tokens - time of 1 token), so the prefill is not counted; the backend's stats count from
   its first token the same way. The first backend reply (compile + capture) is timed apart.
2. prefill of a --long token prompt (chunked, SDPA) and the time to first token of a 24-token
   follow-up question on that context (prefix reuse).
Prints a table at the end (also written to $OUT/gpu_engine.json when OUT is set).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)




def _hf_tok_s(model: object, prompt: list[int], n: int, dev: str,
              **kw: object) -> tuple[float, float, list[int]]:
    """transformers generate(): decode tok/s with the prefill taken out, first-call seconds, tokens."""
    import torch

    inp = torch.tensor([prompt], device=dev)
    common = dict(do_sample=False, pad_token_id=0, **kw)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    def timed(k: int) -> tuple[float, list[int]]:
        sync()
        t0 = time.perf_counter()
        out = model.generate(inp, max_new_tokens=k, min_new_tokens=k, **common)  # type: ignore[attr-defined]
        sync()
        return time.perf_counter() - t0, out[0, len(prompt):].tolist()

    first, _ = timed(n)  # warm-up (compiles where generate() compiles)
    t1 = min(timed(1)[0] for _ in range(2))
    tn, toks = min((timed(n) for _ in range(2)), key=lambda r: r[0])
    return (n - 1) / (tn - t1), first, toks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/internlm2-1_8b-random"))
    parser.add_argument("--decode", type=int, default=256)
    parser.add_argument("--long", type=int, default=50000)
    parser.add_argument("--skip-static-generate", action="store_true")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the script on the CPU with the tests' tiny model (figures meaningless)")
    parser.add_argument("--first-only", action="store_true",
                        help="only time the first reply (a second process: is the compile cached?)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="  log: %(name)s: %(message)s")
    import numpy as np
    import torch
    import transformers

    from app.engine.torch_backend import TorchBackend
    from app.engine.types import Finished, GenerateRequest
    from app.internlm2.chat_format import Sampling
    from bench.convert import build_checkpoint

    rows: list[tuple[str, str]] = []
    results: dict[str, object] = {}

    def row(name: str, value: str, key: str, raw: object) -> None:
        rows.append((name, value))
        results[key] = raw
        _log(f"{name}: {value}")

    dev = "cpu" if args.dry_run else "cuda"
    _log(f"torch {torch.__version__}, transformers {transformers.__version__}, "
         f"{torch.cuda.get_device_name(0) if dev == 'cuda' else 'CPU dry run'}")
    t0 = time.perf_counter()
    if args.dry_run:
        from tests.tiny_model import build_tiny_checkpoint

        folder = build_tiny_checkpoint(Path("/tmp/gpu-engine-dry-run"))
    else:
        folder = build_checkpoint(args.dir)
    _log(f"checkpoint {folder} ready in {time.perf_counter() - t0:.0f} s")
    n_ctx = 1 << (args.long + 1024 - 1).bit_length()
    t0 = time.perf_counter()
    backend = TorchBackend(folder, device=dev, n_ctx=n_ctx, static_cache=True)
    _log(f"loaded in {time.perf_counter() - t0:.1f} s on {backend.device}, n_ctx {n_ctx}")
    rng = np.random.default_rng(0)
    top = min(92000, backend.config.vocab_size - 10)

    def _ids(n: int) -> list[int]:  # ordinary tokens (no special ones); speed does not depend on them
        return [int(t) for t in rng.integers(10, top, n)]

    def reply(prompt: list[int], n: int) -> Finished:
        done = None
        for event in backend.generate(GenerateRequest(prompt, Sampling(temperature=0.0, max_new_tokens=n))):
            done = event
        assert isinstance(done, Finished)
        return done

    # 1. decode after a 64-token prompt
    prompt = _ids(64)
    t0 = time.perf_counter()
    reply(prompt, 8)
    if args.first_only:
        _log(f"first reply in a new process: {time.perf_counter() - t0:.1f} s [{backend.decode_mode}]")
        return 0
    row("backend first reply (compile + CUDA graph capture)", f"{time.perf_counter() - t0:.1f} s "
        f"[{backend.decode_mode}]", "first_reply_s", time.perf_counter() - t0)
    speeds, ours = [], []
    for _ in range(3):
        backend._reset_cache()
        done = reply(prompt, args.decode)
        speeds.append(done.stats.tok_s)
        ours = done.token_ids
    row(f"backend decode, 64-token prompt, {len(ours)} tokens", f"{max(speeds):.0f} tok/s "
        f"(runs: {', '.join(f'{s:.0f}' for s in speeds)}) [{backend.decode_mode}]", "backend_tok_s", max(speeds))
    static = backend._static
    if static is not None and static._graph is not None:  # the graph alone, no Python loop
        graph = static._graph[0]
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(200):
            graph.replay()
        torch.cuda.synchronize()
        row("CUDA graph replay alone (GPU-bound ceiling)", f"{200 / (time.perf_counter() - t0):.0f} tok/s",
            "graph_only_tok_s", 200 / (time.perf_counter() - t0))
        backend._reset_cache()
    model = backend.model
    plain, plain_first, hf_toks = _hf_tok_s(model, prompt, 128, dev)
    same = next((i for i, (a, b) in enumerate(zip(ours, hf_toks, strict=False)) if a != b), min(len(ours), 128))
    row("transformers generate(), dynamic cache", f"{plain:.0f} tok/s", "generate_tok_s", plain)
    row("greedy tokens equal to generate()'s (bf16)", f"first {same} of {min(len(ours), 128)}",
        "tokens_equal", same)
    row("backend / generate()", f"{max(speeds) / plain:.1f}x", "speedup_plain", max(speeds) / plain)

    # 2. a long prompt and a follow-up on it
    long_prompt = _ids(args.long)
    backend._reset_cache()
    done = reply(long_prompt, 16)
    row(f"prefill of {args.long:,} tokens (chunks of {backend.prefill_chunk})", f"{done.stats.prefill_s:.2f} s "
        f"({args.long / done.stats.prefill_s:,.0f} tok/s); ttft {done.stats.ttft_s:.2f} s", "long_prefill_s",
        done.stats.prefill_s)
    row(f"decode at {args.long:,} tokens of context", f"{done.stats.tok_s:.0f} tok/s", "long_decode_tok_s",
        done.stats.tok_s)
    history = long_prompt + done.token_ids
    ttfts = []
    for _ in range(3):
        follow = reply(history + _ids(24), 4)
        ttfts.append(follow.stats.ttft_s)
    row("follow-up (24 new tokens) time to first token", f"{min(ttfts) * 1000:.0f} ms (runs: "
        f"{', '.join(f'{t * 1000:.0f}' for t in ttfts)} ms; {follow.stats.cached_tokens:,} tokens reused)",
        "followup_ttft_s", min(ttfts))
    if dev == "cuda":
        row("peak GPU memory", f"{torch.cuda.max_memory_allocated() / 1e9:.1f} GB", "peak_gb",
            torch.cuda.max_memory_allocated() / 1e9)
    backend._reset_cache()
    if backend._static is not None:
        backend._static.release()  # room for generate()'s own cache
    if dev == "cuda":
        torch.cuda.empty_cache()

    # 3. transformers' static cache (compiles on its first call)
    if not args.skip_static_generate:
        try:
            static, static_first, _ = _hf_tok_s(model, prompt, 128, dev, cache_implementation="static")
            row("transformers generate(cache_implementation='static')", f"{static:.0f} tok/s "
                f"(first call {static_first:.0f} s)", "static_generate_tok_s", static)
            row("backend / static generate()", f"{max(speeds) / static:.1f}x", "speedup_static",
                max(speeds) / static)
        except Exception as exc:  # noqa: BLE001 - a figure missing is reported, not fatal
            row("transformers generate(cache_implementation='static')", f"failed: {exc}", "static_error", str(exc))

    width = max(len(n) for n, _ in rows)
    print("\n" + "-" * (width + 40))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_engine.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
