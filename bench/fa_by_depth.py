"""Benchmark: how fast raw llama-cpp-python reads each 512-token chunk of a long prompt, with and
without flash attention (what llamacpp_policy.reader_flash_attention is set from).

    .venv/bin/python bench/fa_by_depth.py [--tokens 16384] [--repack off|on] [--threads 2]

Each setting runs in a fresh process (flash attention on, then off), reading the same random
token ids of the bench GGUF (bench/engine.py: Q4_K_M random weights of the real 1.8B shape) in
512-token chunks; printed side by side: tokens/s of the chunk ending at each depth, and overall.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))


def _child(fa: bool, repack: bool, tokens: int, threads: int, gguf: str) -> None:
    import numpy as np

    from app.engine.llamacpp_runtime import import_llama_cpp, safe_model_params

    llama_cpp = import_llama_cpp()
    with safe_model_params(extra_bufts=repack):
        llm = llama_cpp.Llama(model_path=gguf, n_ctx=tokens + 256, n_batch=512, n_ubatch=512, n_threads=threads,
                              n_threads_batch=threads, flash_attn=fa, type_k=1, type_v=1, n_gpu_layers=0,
                              verbose=False)
    ids = [int(t) for t in np.random.default_rng(0).integers(10, 92000, tokens)]
    times = []
    for pos in range(0, tokens, 512):
        t0 = time.perf_counter()
        llm.eval(ids[pos:pos + 512])
        times.append(time.perf_counter() - t0)
    print(json.dumps(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=16384)
    parser.add_argument("--repack", choices=("on", "off"), default="off")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", choices=("on", "off"), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--gguf", default=None)
    args = parser.parse_args()
    if args.child:
        _child(args.child == "on", args.repack == "on", args.tokens, args.threads, args.gguf)
        return 0
    from bench.engine import _default_gguf

    gguf = args.gguf or str(_default_gguf())
    runs = {}
    for fa in ("on", "off"):
        out = subprocess.run([sys.executable, __file__, "--child", fa, "--repack", args.repack, "--tokens",
                              str(args.tokens), "--threads", str(args.threads), "--gguf", gguf],
                             capture_output=True, text=True, check=True).stdout
        runs[fa] = json.loads(out.strip().splitlines()[-1])
    print(f"{Path(gguf).name}; repacking {args.repack}; {args.threads} threads; tokens/s of the chunk ending at each depth")
    print(f"{'depth':>8}{'fa on':>10}{'fa off':>10}")
    for i, (on, off) in enumerate(zip(runs["on"], runs["off"], strict=True)):
        print(f"{(i + 1) * 512:>8}{512 / on:>10.0f}{512 / off:>10.0f}")
    print(f"{'all':>8}{args.tokens / sum(runs['on']):>10.1f}{args.tokens / sum(runs['off']):>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
