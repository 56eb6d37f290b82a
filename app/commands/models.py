"""`models`: list the catalog models and local models with their state (no network is used)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "models", help="list the models and whether they are downloaded or converted",
        description="List the catalog models (downloaded? converted to which GGUF types?) and "
                    "the models you added, then say the next command to run. Reads the disk "
                    "only; never uses the network.",
        epilog="Marks: * the recommended model, + a model you added (a file or folder of your "
               "own). States: not downloaded, partially downloaded (`download` resumes it), "
               "downloaded (a checkpoint folder: the PyTorch backend, or `download ID --convert "
               "TYPE` for llama.cpp), converted (a GGUF of the listed types: ready for `ask "
               "--model ID`), added, missing (the file or folder you added is gone).")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR", default=None,
                        help="huggingface-hub cache (default: HF_HUB_CACHE or ~/.cache/huggingface/hub)")
    parser.add_argument("--json", action="store_true", help="one JSON object per model, one a line")
    parser.add_argument("--recommend", action="store_true",
                        help="also say which model and backend suit this computer")
    return parser


def run(args: argparse.Namespace) -> int:
    from app.commands.progress import human_bytes
    from app.hub.manager import HubSettings, ModelManager

    manager = ModelManager(HubSettings(cache_dir=args.cache_dir))
    for view in manager.overviews():
        m = view.model
        record = manager.last_download(m)
        source = record.source if record else view.hub.source
        commit = record.commit if record else view.hub.commit
        if args.json:
            print(json.dumps({
                "id": m.id, "name": m.name, "repo": m.repo, "revision": m.revision,
                "source": source, "commit": commit,
                "source_repo": record.repo if record else None,
                "source_revision": record.revision if record else None,
                "state": view.phase.value, "bytes_present": view.hub.bytes_present,
                "size_bytes": m.size_bytes, "snapshot": str(view.snapshot) if view.snapshot else None,
                "ggufs": [{"type": e.gguf_type, "path": str(e.path), "size_bytes": e.size_bytes}
                          for e in view.ggufs],
                "recommended": m.recommended}, ensure_ascii=False))
            continue
        star = "*" if m.recommended else " "
        types = ", ".join((e.gguf_type or "?").upper() for e in view.ggufs)
        state = view.phase.value + (f" ({types})" if types else "")
        print(f"{star} {m.id:<26} {human_bytes(m.size_bytes):>8}  {state}")
        for e in view.ggufs:
            print(f"    {(e.gguf_type or '?').upper():<7} {e.path}")
        if view.snapshot is not None:
            print(f"    folder  {view.snapshot}")
        if source is not None and commit is not None:
            asked = f"{record.repo} {record.revision} = " if record else ""
            print(f"    source  {source} ({asked}commit {commit})")
    for entry in manager.local_models():
        state = "added" if entry.exists else "missing"
        if args.json:
            print(json.dumps({"id": None, "name": entry.name, "state": state, "kind": entry.kind,
                              "path": str(entry.path), "size_bytes": entry.size_bytes},
                             ensure_ascii=False))
        else:
            print(f"+ {entry.name:<26} {human_bytes(entry.size_bytes):>8}  {state} {entry.kind} {entry.path}")
    if args.recommend:
        from app.hub.recommend import detect_hardware, recommend

        print(recommend(detect_hardware(), manager.catalog).sentence)
    if not args.json:
        print()
        print("* recommended   + added by you   (GGUF types in brackets)")
        print(_next_step(manager.overviews()))
    return 0


def _next_step(views: list[Any]) -> str:
    """The command that moves the person on: ask a converted model, else convert or resume or
    download the recommended one."""
    from app.commands.hints import command
    from app.hub.manager import Phase

    ready = next((v for v in views if v.phase is Phase.CONVERTED), None)
    if ready is not None:
        ask = command(f"ask --model {ready.model.id}")
        return f'Next: {ask} "Hello"'
    best = next((v for v in views if v.model.recommended), views[0] if views else None)
    if best is None:
        return "The catalog is empty: give ask a .gguf file or a checkpoint folder."
    m = best.model
    fetch = command(f"download {m.id} --convert {m.default_quant}")
    if best.phase is Phase.DOWNLOADED:
        return f"Next: convert it for llama.cpp with {fetch}"
    if best.phase is Phase.PARTIAL:
        return f"Next: resume the download with {fetch}"
    return f"Next: download and convert the recommended model with {fetch}"
