"""`convert SRC_DIR OUT.gguf --type TYPE`: export an InternLM2 checkpoint folder to GGUF."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

# The GGUF types, listed here so that building the parser imports neither numpy nor gguf.
TYPES = ("f32", "f16", "bf16", "q8_0", "q4_k_m", "q5_k_m", "q6_k")
DEFAULT_TYPE = "q4_k_m"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "convert", help="convert an InternLM2 checkpoint folder to a GGUF file",
        description="Convert an InternLM2 checkpoint folder (config.json, tokenizer.model, "
                    "*.safetensors) to a GGUF file for the llama.cpp backend.")
    parser.add_argument("src", type=Path, metavar="SRC_DIR", help="the checkpoint folder")
    parser.add_argument("out", type=Path, metavar="OUT.gguf", help="the GGUF file to write")
    parser.add_argument("--type", dest="out_type", choices=TYPES, default=DEFAULT_TYPE,
                        help=f"weight type of the GGUF (default {DEFAULT_TYPE})")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads for llama.cpp's quantizer (default: all cores)")
    parser.add_argument("--name", default=None, help="model name stored in the file "
                                                     "(default: the folder's name)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run(args: argparse.Namespace) -> int:
    from app.commands.progress import ProgressBar, human_bytes
    from app.internlm2.gguf_export import export_gguf

    bar = None if args.quiet else ProgressBar(sys.stderr)
    start = time.monotonic()
    try:
        out = export_gguf(args.src, args.out, args.out_type, progress=bar, name=args.name,
                          threads=args.threads)
    finally:
        if bar is not None:
            bar.finish()
    print(f"Wrote {out} ({human_bytes(out.stat().st_size)}, {args.out_type.upper()}) "
          f"in {time.monotonic() - start:.1f} s")
    return 0
