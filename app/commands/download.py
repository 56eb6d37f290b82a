"""`download MODEL_ID [--convert TYPE]`: fetch a catalog model from the hub, then convert it to GGUF."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

# Listed here so that building the parser imports nothing heavy (same list as app.hub.manager).
CONVERT_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_k_m", "q5_k_m", "q6_k")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "download", help="download a catalog model (and convert it to GGUF)",
        description="Download a model of the catalog (see `models`) into the huggingface-hub "
                    "cache, resuming a partial download, and optionally convert it to a GGUF "
                    "file in the app's models folder. The hub address is --endpoint, else "
                    "HF_ENDPOINT, else https://huggingface.co.")
    parser.add_argument("model", metavar="MODEL_ID", help="catalog id, e.g. internlm2-chat-1_8b")
    parser.add_argument("--convert", choices=CONVERT_TYPES, metavar="TYPE", default=None,
                        help=f"convert to a GGUF of this type afterwards ({', '.join(CONVERT_TYPES)})")
    parser.add_argument("--endpoint", metavar="URL", default=None,
                        help="hub or mirror address (default: HF_ENDPOINT or huggingface.co)")
    parser.add_argument("--proxy", metavar="URL", default=None,
                        help="HTTP(S) proxy (default: HTTPS_PROXY & co from the environment)")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR", default=None,
                        help="huggingface-hub cache (default: HF_HUB_CACHE or ~/.cache/huggingface/hub)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


class _DownloadBar:
    """Draws DownloadProgress events with the shared text progress bar."""

    def __init__(self, stream: TextIO) -> None:
        from app.commands.progress import ProgressBar

        self.bar = ProgressBar(stream)

    def __call__(self, event: Any) -> None:
        self.bar("download", event.bytes_done, event.bytes_total)


def run(args: argparse.Namespace) -> int:
    from app.commands.progress import ProgressBar, human_bytes
    from app.hub.manager import HubSettings, ModelManager

    manager = ModelManager(HubSettings(endpoint=args.endpoint, proxy=args.proxy,
                                       cache_dir=args.cache_dir))
    model = manager.find(args.model)
    cancel = threading.Event()
    bar = None if args.quiet else _DownloadBar(sys.stderr)
    try:
        snapshot = manager.download(model, progress=bar, cancel=cancel, convert_to=args.convert)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        if bar is not None:
            bar.bar.finish()
    print(f"Downloaded {model.name} to {snapshot}")
    if args.convert:
        convert_bar = None if args.quiet else ProgressBar(sys.stderr)
        try:
            entry = manager.convert(model, args.convert, progress=convert_bar, cancel=cancel)
        finally:
            if convert_bar is not None:
                convert_bar.finish()
        print(f"Converted to {entry.path} ({human_bytes(entry.size_bytes)}, {args.convert.upper()})")
    return 0
