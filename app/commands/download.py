"""`download MODEL_ID [--source S] [--convert TYPE]`: fetch a catalog model from a hub, then convert it."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from app.sentences import say

# Listed here so that building the parser imports nothing heavy (same list as app.hub.manager).
CONVERT_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_k_m", "q5_k_m", "q6_k")
SOURCES = ("auto", "huggingface", "modelscope", "openxlab")  # as app.hub.manager.SOURCE_CHOICES


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "download", help="download a catalog model (and convert it to GGUF)",
        description="Download a model of the catalog (see `models`) into the huggingface-hub "
                    "cache, resuming a partial download (also one begun on another source, when "
                    "the files' hashes agree), and optionally convert it to a GGUF file in the "
                    "app's models folder. The source is --source; without it, Hugging Face when "
                    "--endpoint or HF_ENDPOINT names a mirror, else the fastest source to answer.")
    parser.add_argument("model", metavar="MODEL_ID", help="catalog id, e.g. internlm2-chat-1_8b")
    parser.add_argument("--convert", choices=CONVERT_TYPES, metavar="TYPE", default=None,
                        help=f"convert to a GGUF of this type afterwards ({', '.join(CONVERT_TYPES)})")
    parser.add_argument("--source", choices=SOURCES, default=None,
                        help="where to download from (default: auto, the fastest to answer)")
    parser.add_argument("--endpoint", metavar="URL", default=None,
                        help="address (mirror) of the source (default: HF_ENDPOINT, MODELSCOPE_ENDPOINT, "
                             "OPENXLAB_ENDPOINT or the public hub)")
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


def _say_source(choice: Any) -> None:
    """One stderr line when the source was chosen automatically or another took over."""
    if choice.automatic or choice.fallback_from is not None:
        print(choice.sentence(), file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from app.commands.progress import ProgressBar, human_bytes
    from app.errors import UserError
    from app.hub.manager import HubSettings, ModelManager
    from app.hub.sources import AUTO, SOURCE_LABELS

    if args.endpoint and args.source == AUTO:
        raise UserError(say("--endpoint names the address of one source, so it cannot go with --source auto."),
                        say("Add --source huggingface, modelscope or openxlab."))
    manager = ModelManager(HubSettings(endpoint=args.endpoint, proxy=args.proxy,
                                       cache_dir=args.cache_dir, source=args.source))
    model = manager.find(args.model)
    cancel = threading.Event()
    bar = None if args.quiet else _DownloadBar(sys.stderr)
    try:
        result = manager.fetch(model, progress=bar, cancel=cancel, convert_to=args.convert,
                               on_source=_say_source)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        if bar is not None:
            bar.bar.finish()
    where = (f" from {SOURCE_LABELS.get(result.source, result.source)} ({result.repo} {result.revision}"
             f" = commit {result.commit})")
    print(f"Downloaded {model.name}{where} to {result.snapshot}")
    if args.convert:
        convert_bar = None if args.quiet else ProgressBar(sys.stderr)
        try:
            entry = manager.convert(model, args.convert, progress=convert_bar, cancel=cancel)
        finally:
            if convert_bar is not None:
                convert_bar.finish()
        print(f"Converted to {entry.path} ({human_bytes(entry.size_bytes)}, {args.convert.upper()})")
    return 0
