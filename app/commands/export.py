"""`export ID --format json|md [--output FILE]`: write one conversation as the window's File >
Export does (the same store functions: JSON with every version and the chosen path, Markdown of
the shown path), for scripts and backups. Reads the database only."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from app.commands.conversations import add_db_option, open_store
from app.errors import UserError
from app.sentences import say


class ExportError(UserError):
    """The conversation or the output file is not there to be used."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export", help="write a conversation as JSON (importable, every version) or Markdown",
        description="Write one conversation as the window's File > Export conversation does: "
                    "JSON keeps every answer version, the chosen path and the exact token ids "
                    "(File > Import conversation reads it back); Markdown is the shown path, "
                    "for reading. `conversations` lists the ids.")
    parser.add_argument("conversation_id", type=int, metavar="CONVERSATION_ID")
    parser.add_argument("--format", choices=("json", "md"), required=True)
    parser.add_argument("--output", type=Path, metavar="FILE", default=None,
                        help="write here (replaced whole, never half-written); default: standard output")
    add_db_option(parser)
    return parser


def _write(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder: the old file stays until the new one
    is complete."""
    folder = path.resolve().parent
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as err:
        raise ExportError(say("Could not write {path}.", path=str(path)),
                          say("Choose another folder, or check that you may write there."),
                          detail=str(err.strerror or err)) from err
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
        os.replace(temp, path)
    except OSError as err:
        Path(temp).unlink(missing_ok=True)
        raise ExportError(say("Could not write {path}.", path=str(path)),
                          say("Check the free disk space and try again."),
                          detail=str(err.strerror or err)) from err


def _refuse_the_database(output: Path | None, store_path: Path) -> None:
    """--output naming the database itself (or its -wal / -shm) would replace every
    conversation with one export: refused before anything is written."""
    if output is None:
        return
    target = output.resolve()
    database = store_path.resolve()
    if target in {database, database.with_name(database.name + "-wal"),
                  database.with_name(database.name + "-shm")}:
        raise ExportError(say("{path} is the conversation database itself: writing there would "
                              "replace every conversation.", path=str(output)),
                          say("Choose another file for --output."))


def run(args: argparse.Namespace) -> int:
    from app.storage import NotFoundError

    with open_store(args.db) as store:
        _refuse_the_database(args.output, store.path)
        try:
            store.conversations.get(args.conversation_id)
        except NotFoundError:
            raise ExportError(say("There is no conversation {id}.", id=str(args.conversation_id)),
                              say("`conversations` lists the ids.")) from None
        text = (store.export_json(args.conversation_id) if args.format == "json"
                else store.export_markdown(args.conversation_id))
    if args.output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        _write(args.output, text)
        print(f"Exported to {args.output}.", file=sys.stderr)
    return 0
