"""Benchmark: GGUF export time and peak memory on random weights of the real InternLM2-1.8B shape.

    .venv/bin/python bench/convert.py [--dir FOLDER] [--types f16,q4_k_m] [--keep]

Builds (once, then reuses) a bf16 checkpoint of the real shape in two shards, with the real
InternLM2 tokenizer (tests/data/internlm2-tokenizer: 92,544 pieces, the real special ids; a
checkpoint built earlier with the synthetic one gets it swapped in), in FOLDER (default: the
app's cache folder, bench/internlm2-1_8b-random). Building writes tensor by tensor, in row
chunks, so it needs little memory; the checkpoint takes 3.8 GB and each output up to 3.8 GB.
Each export runs in a fresh child process that reports its own peak RSS and that of its own
children (llama.cpp's quantizer for K-quants). Speed does not depend on weight values.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import struct
import subprocess
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

import numpy as np  # noqa: E402

from app.internlm2.safetensors_io import f32_to_bf16_bits  # noqa: E402
from tests.tiny_model import real_tokenizer_bytes, write_real_tokenizer  # noqa: E402

# InternLM2-Chat-1.8B (docs: internlm2.md)
_CONFIG = {
    "architectures": ["InternLM2ForCausalLM"], "model_type": "internlm2", "bias": False,
    "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2, "hidden_act": "silu",
    "hidden_size": 2048, "intermediate_size": 8192, "max_position_embeddings": 32768,
    "num_attention_heads": 16, "num_hidden_layers": 24, "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05, "rope_scaling": {"type": "dynamic", "factor": 2.0},
    "rope_theta": 1000000, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "vocab_size": 92544,
}
_CHUNK_ROWS = 1024
_DONE_MARKER = "bench-complete.txt"


def _shapes() -> dict[str, tuple[int, ...]]:
    c = _CONFIG
    h, inter, vocab = int(c["hidden_size"]), int(c["intermediate_size"]), int(c["vocab_size"])
    head = h // int(c["num_attention_heads"])
    qkv = (int(c["num_attention_heads"]) + 2 * int(c["num_key_value_heads"])) * head
    shapes: dict[str, tuple[int, ...]] = {"model.tok_embeddings.weight": (vocab, h)}
    for i in range(int(c["num_hidden_layers"])):
        p = f"model.layers.{i}."
        shapes.update({p + "attention.wqkv.weight": (qkv, h), p + "attention.wo.weight": (h, h),
                       p + "feed_forward.w1.weight": (inter, h), p + "feed_forward.w3.weight": (inter, h),
                       p + "feed_forward.w2.weight": (h, inter), p + "attention_norm.weight": (h,),
                       p + "ffn_norm.weight": (h,)})
    shapes["model.norm.weight"] = (h,)
    shapes["output.weight"] = (vocab, h)
    return shapes


def _write_shard(path: Path, shapes: dict[str, tuple[int, ...]], rng: np.random.Generator) -> None:
    """A bf16 safetensors file written in row chunks (never a whole tensor in float32)."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape in shapes.items():
        nbytes = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(blob)) + blob)
        for shape in shapes.values():
            if len(shape) == 1:
                fh.write(f32_to_bf16_bits(1.0 + 0.1 * rng.standard_normal(shape, dtype=np.float32)).tobytes())
                continue
            for a in range(0, shape[0], _CHUNK_ROWS):
                rows = min(_CHUNK_ROWS, shape[0] - a)
                vals = rng.standard_normal((rows, shape[1]), dtype=np.float32) * 0.02
                fh.write(f32_to_bf16_bits(vals).tobytes())


def build_checkpoint(folder: Path) -> Path:
    """The random 1.8B-shaped checkpoint in `folder` (reused when already complete)."""
    if (folder / _DONE_MARKER).exists():
        tok = folder / "tokenizer.model"
        if not tok.exists() or tok.read_bytes() != real_tokenizer_bytes():
            # Built before the benches used the real tokenizer (same 92,544 rows): swap it in.
            print("replacing the bench checkpoint's synthetic tokenizer with the real one", flush=True)
            write_real_tokenizer(folder, chat=True)
            for pattern in ("bench-*.gguf", "longdoc-*.gguf"):  # the benches' GGUFs hold the old vocabulary
                for stale in folder.parent.glob(pattern):
                    stale.unlink()
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    vocab = int(_CONFIG["vocab_size"])
    write_real_tokenizer(folder, chat=True)  # token counts as real users get them
    (folder / "config.json").write_text(json.dumps(_CONFIG, indent=2))
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": [2, vocab - 2]}))
    shapes = _shapes()
    names = list(shapes)
    half = names.index("model.layers.12.attention.wqkv.weight")
    weight_map: dict[str, str] = {}
    rng = np.random.default_rng(0)
    for k, part in enumerate((names[:half], names[half:])):
        fname = f"model-{k + 1:05d}-of-00002.safetensors"
        _write_shard(folder / fname, {n: shapes[n] for n in part}, rng)
        weight_map.update(dict.fromkeys(part, fname))
    total = sum(int(np.prod(s)) * 2 for s in shapes.values())
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
    (folder / _DONE_MARKER).write_text(f"built in {time.monotonic() - t0:.0f} s\n")
    return folder


def _measure(src: str, out: str, out_type: str) -> None:
    """Child: export once and print the figures as one JSON line."""
    from app.internlm2.gguf_export import export_gguf

    stages: dict[str, float] = {}
    t0 = time.monotonic()

    def progress(stage: str, done: int, total: int) -> None:
        stages.setdefault(stage, time.monotonic() - t0)

    export_gguf(src, out, out_type, progress=progress)
    seconds = time.monotonic() - t0
    kib = 1024 if sys.platform != "darwin" else 1  # ru_maxrss is KiB on Linux, bytes on macOS
    print(json.dumps({
        "seconds": seconds, "size": Path(out).stat().st_size,
        "quantize_started_s": stages.get("quantize"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kib / 1e6,
        "children_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kib / 1e6,
    }))


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _default_dir() -> Path:
    from app.paths import cache_dir

    return cache_dir() / "bench" / "internlm2-1_8b-random"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="where the checkpoint lives")
    parser.add_argument("--types", default="f16,q4_k_m", help="comma-separated GGUF types")
    parser.add_argument("--keep", action="store_true", help="keep the GGUF files")
    parser.add_argument("--measure", nargs=3, metavar=("SRC", "OUT", "TYPE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure(*args.measure)
        return 0
    folder = build_checkpoint(args.dir or _default_dir())
    print(f"machine: {_cpu_name()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; checkpoint: {folder}")
    for out_type in args.types.split(","):
        out = folder.parent / f"bench-{out_type}.gguf"
        proc = subprocess.run([sys.executable, __file__, "--measure", str(folder), str(out), out_type],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{out_type}: failed\n{proc.stderr}", file=sys.stderr)
            return 1
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        extra = ""
        if r["quantize_started_s"] is not None:
            q = r["seconds"] - r["quantize_started_s"]
            extra = (f" (intermediate {r['quantize_started_s']:.1f} s + llama.cpp quantize {q:.1f} s, "
                     f"quantizer peak RSS {r['children_peak_rss_mb']:.0f} MB)")
        print(f"{out_type:7s} {r['seconds']:6.1f} s  peak RSS {r['peak_rss_mb']:5.0f} MB  "
              f"size {r['size'] / 1e9:.2f} GB{extra}")
        if not args.keep:
            out.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
