"""Command-line options every command that runs a model shares (`ask`, `needle`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_model_options(parser: argparse.ArgumentParser, *, ctx_default_help: str) -> None:
    """--model, --backend, --device, --threads, --kv-type and --ctx, with the same meaning everywhere."""
    parser.add_argument("--model", required=True, type=Path, metavar="PATH",
                        help="a GGUF file or an InternLM2 checkpoint folder")
    parser.add_argument("--backend", choices=("auto", "torch", "llamacpp"), default="auto")
    parser.add_argument("--device", default="auto", help="torch backend: auto, cuda, mps or cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--kv-type", choices=("f16", "q8_0", "f32"), default="f16")
    parser.add_argument("--ctx", type=int, default=None, metavar="N",
                        help=f"context length in tokens (default: {ctx_default_help})")
