"""Benchmark: what a short question costs against a long llama.cpp cache, by attention setting.

    .venv/bin/python bench/attention.py [--gguf FILE] [--prefix 2000,8000] [--flash on,off]
                                        [--ubatch 512] [--threads 2]

Plain llama-cpp-python on the Q4_K_M GGUF of bench/convert.py's random checkpoint of the real
1.8B shape (the one bench/engine.py uses). For each prefix length P and each setting, in a
fresh context: read P random token ids (prefill tok/s), then three times: drop whatever
followed the prefix, append 24 tokens (a question) and decode one token. Prints each figure;
the settings side by side are the point, absolute times depend on the machine. No asserts.
This is what chose the app's CPU default (LlamaCppBackend: flash attention off on the CPU).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

from app.engine.llamacpp_runtime import import_llama_cpp, safe_model_params  # noqa: E402
from bench.engine import _default_gguf  # noqa: E402

_QUESTION = 24


def measure(path: Path, prefix: int, flash: bool, ubatch: int, threads: int) -> str:
    llama_cpp = import_llama_cpp()
    rng = random.Random(prefix)
    ids = [rng.randrange(1000, 90000) for _ in range(prefix + _QUESTION + 1)]
    with safe_model_params():
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=prefix + 256, n_batch=512, n_ubatch=ubatch,
                              n_threads=threads, n_threads_batch=threads, flash_attn=flash, type_k=1, type_v=1,
                              n_gpu_layers=0, verbose=False)
    try:
        t0 = time.perf_counter()
        llm.eval(ids[:prefix])
        read_s = time.perf_counter() - t0
        runs = []
        for _ in range(3):
            llm._ctx.kv_cache_seq_rm(-1, prefix, -1)
            llm.n_tokens = prefix
            t0 = time.perf_counter()
            llm.eval(ids[prefix:prefix + _QUESTION])
            t1 = time.perf_counter()
            llm.eval(ids[prefix + _QUESTION:])
            runs.append((t1 - t0, time.perf_counter() - t1))
    finally:
        llm.close()
    appends = ", ".join(f"{a:.2f}" for a, _ in runs)
    decodes = ", ".join(f"{d:.3f}" for _, d in runs)
    return (f"prefix {prefix:6,d}  flash attention {'on ' if flash else 'off'}  n_ubatch {ubatch:3d}  "
            f"prefill {prefix / read_s:6.1f} tok/s  {_QUESTION}-token append {appends} s  "
            f"one decoded token {decodes} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, default=None)
    parser.add_argument("--prefix", default="2000,8000")
    parser.add_argument("--flash", default="on,off")
    parser.add_argument("--ubatch", default="512", help="micro-batch sizes, e.g. 64,128,256,512")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    path = args.gguf or _default_gguf()
    for prefix in (int(p) for p in args.prefix.split(",") if p):
        for flash in (f.strip() == "on" for f in args.flash.split(",") if f):
            for ubatch in (int(u) for u in args.ubatch.split(",") if u):
                print(measure(path, prefix, flash, ubatch, args.threads), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
