"""`conversations`: list the stored conversations with their ids (for `export ID`); reads only."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from app.errors import UserError
from app.sentences import say


class NoDatabaseError(UserError):
    """The database named (or the default one) does not exist."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "conversations", help="list the conversations and their ids (for `export`)",
        description="List the conversations of the window's database, most recent first: id, "
                    "last change, messages on the shown path (and other versions), title. The "
                    "database is only read, also while the window has it open.")
    add_db_option(parser)
    parser.add_argument("--trash", action="store_true", help="list the conversations in the trash instead")
    parser.add_argument("--json", action="store_true", help="one JSON object per conversation, one a line")
    return parser


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, metavar="PATH", default=None,
                        help="the conversation database (default: the window's, in the data folder)")


def open_store(path: Path | None) -> Any:
    """The store, read-only: a script never changes the file the window writes (so an older
    file is not upgraded here: the window does that when it opens it)."""
    import logging
    import sqlite3

    from app.storage import ConversationStore, default_path, schema

    target = path or default_path()
    if not target.is_file():
        raise NoDatabaseError(say("There is no conversation database at {path}.", path=str(target)),
                              say("Give its path with --db PATH (the window's --db, if it was started with one)."))
    try:
        conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        version = schema.LATEST_VERSION  # the store's own checks say what is wrong
    if 0 < version < schema.LATEST_VERSION:
        raise NoDatabaseError(say("The conversation database {path} was written by an older version "
                                  "of the app.", path=str(target)),
                              say("Open it once in the window (it is upgraded then), then run this again."))
    logging.getLogger("app.storage.db").setLevel(logging.ERROR)  # "opened read-only" is the point
    return ConversationStore(target, read_only=True)


def run(args: argparse.Namespace) -> int:
    from app.storage.tree import current_path, other_versions

    with open_store(args.db) as store:
        chats = store.conversations.list_trash() if args.trash else store.conversations.list_recent()
        for chat in chats:
            tree = store.messages.tree_for(chat.id)
            shown, others = len(current_path(tree)), other_versions(tree)
            if args.json:
                print(json.dumps({"id": chat.id, "title": chat.title, "updated": chat.updated.isoformat(),
                                  "messages": shown, "other_versions": others,
                                  "imported": chat.imported is not None}, ensure_ascii=False))
                continue
            more = f" (+{others} other versions)" if others else ""
            title = " ".join(chat.title.split()) or "(untitled)"
            print(f"{chat.id:>6}  {chat.updated.astimezone():%Y-%m-%d %H:%M}  {shown:>4} messages{more}  {title}")
        if not chats and not args.json:
            print("The trash is empty." if args.trash else "No conversations yet.")
    return 0
