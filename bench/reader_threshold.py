"""Benchmark: when a follow-up of N new tokens pays for the prompt reader's two copies of the cache.

    .venv/bin/python bench/reader_threshold.py DEPTH N,N,...     # e.g. 8000 128,256,512

The app's backend (a 16,256-token context with its prompt reader) reads DEPTH random tokens and
answers 8, so the decoder holds the newest cache, as after a reply. Then, for each N, the same
N new tokens are read twice each way, alternating: through the reader (the cache copied to it
and back, each copy converted between the V layouts) and on the decoder (the reader's
threshold set out of reach). The best of each is printed. llamacpp_policy.reader_min_tokens is
set from these figures.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import app.engine.llamacpp_backend as lb  # noqa: E402
from app.engine.llamacpp_backend import LlamaCppBackend  # noqa: E402
from app.engine.types import GenerateRequest  # noqa: E402
from app.internlm2.chat_format import Sampling  # noqa: E402
from bench.engine import _default_gguf  # noqa: E402

path = _default_gguf()
depth = int(sys.argv[1])
sizes = [int(x) for x in sys.argv[2].split(",")]
b = LlamaCppBackend(path, n_ctx=16256, n_threads=2, prompt_reader=True)
rng = np.random.default_rng(0)
ids = [int(t) for t in rng.integers(10, 92000, depth + 2000)]
def run(prompt: list[int], n_new: int = 0, prefill_only: bool = True) -> float:
    t0 = time.perf_counter()
    for _ in b.generate(GenerateRequest(prompt, Sampling(temperature=0.0, max_new_tokens=max(1, n_new)), prefill_only=prefill_only)):
        pass
    return time.perf_counter() - t0
run(ids[:depth])
base = ids[:depth]
run(base + [5], n_new=8, prefill_only=False)  # a reply: the decoder holds the newest cache
base = b.cached_tokens
orig = lb.reader_min_tokens
for n in sizes:
    extra = ids[depth:depth + n]
    res = {"reader": [], "decoder": []}
    for rep in range(2):
        for mode in (("reader", "decoder") if rep % 2 == 0 else ("decoder", "reader")):
            # every prefill of 2+ tokens to the reader, or none (decode steps stay on the decoder)
            lb.reader_min_tokens = (lambda cached: 2) if mode == "reader" else (lambda cached: 10**9)
            run(base + [7], n_new=1, prefill_only=False)  # back to: the decoder holds the cache, trimmed
            res[mode].append(run(base + extra))
    lb.reader_min_tokens = orig
    print(f"depth {depth} follow-up {n}: reader {min(res['reader']):.2f} s, decoder {min(res['decoder']):.2f} s", flush=True)
