"""Peak memory of loading the 1.8B model into transformers (bf16, CPU) through the Llama mapping.

Prints the weights' size, the process's RSS after importing torch and transformers, and the
peak RSS while loading, with the ratio to the weights (target: at most 1.3 x the weights).
Uses the random-weight checkpoint of the real shape that bench/convert.py builds.

    .venv/bin/python bench/load_rss.py [--dir CHECKPOINT_DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _child(folder: str) -> None:
    import time

    import torch  # noqa: F401 - imported before the baseline is read
    import transformers  # noqa: F401

    from app.internlm2.checkpoint import open_checkpoint
    from app.internlm2.llama_map import load_llama_model

    def rss() -> int:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    base = rss()
    with open_checkpoint(folder) as ck:
        weights = ck.weight_bytes
    t0 = time.perf_counter()
    model = load_llama_model(folder, "cpu", torch.bfloat16)
    seconds = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"weights": weights, "baseline": base, "peak": peak, "after": rss(),
                      "seconds": seconds, "params": params}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return 0
    sys.path.insert(0, str(ROOT / "bench"))
    from convert import _default_dir, build_checkpoint  # type: ignore[import-not-found]

    folder = args.dir or _default_dir()
    if not (folder / "config.json").exists():
        build_checkpoint(folder)
    out = subprocess.run([sys.executable, __file__, "--child", str(folder)], capture_output=True,
                         text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    gib = 1024**3
    print(f"parameters          {r['params']:,}")
    print(f"weights (bf16)      {r['weights'] / gib:.2f} GiB")
    print(f"RSS after imports   {r['baseline'] / gib:.2f} GiB")
    print(f"peak RSS, loading   {r['peak'] / gib:.2f} GiB = {r['peak'] / r['weights']:.2f} x weights "
          f"({(r['peak'] - r['baseline']) / r['weights']:.2f} x without the imports)")
    print(f"load time           {r['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
