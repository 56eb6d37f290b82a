"""Before a database file is used: what kind of file it is, whether this process may write it,
whose it is, and what SQLite's errors while opening it mean. Nothing here writes to the file.

The decisions, in the order `db.Database` makes them:
- not a regular file (a folder, a FIFO, a device) -> `ForeignDatabaseError`: never opened;
- a header that is not SQLite's -> `DatabaseCorruptError` (the only case, with a failed
  `quick_check`, where the caller may move the file aside);
- an SQLite header carrying another program's application id -> `ForeignDatabaseError`;
- the file or its folder write-protected -> opened read-only (`read_only_reason`);
- SQLITE_BUSY / SQLITE_LOCKED after the bounded wait -> `DatabaseLockedError`;
- tables that are not ours (an old file of ours has no application id: it is recognised by
  its tables and columns) -> `ForeignDatabaseError`; a newer schema -> `DatabaseTooNewError`
  naming the app version that wrote it, when the file records one.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
from pathlib import Path

from app.sentences import say
from app.storage import schema
from app.storage.errors import (
    DatabaseCorruptError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseTooNewError,
    DatabaseUnavailableError,
    ForeignDatabaseError,
    SearchIndexError,
    StorageError,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100
_APP_ID_AT = 68  # big-endian 4 bytes in the SQLite header
WRITTEN_BY_KEY = "store.written_by"  # settings key: the app version that last wrote the file
_VERSION_TEXT = re.compile(r"[0-9A-Za-z.+-]{1,32}")

# What each schema version has (cumulative): a file of ours at version N has these.
_TABLES_SINCE = {1: {"conversations", "messages", "documents"}, 2: {"messages_fts"},
                 3: {"settings"}}
_COLUMNS = {
    "conversations": {"id", "title", "created", "updated", "model", "system_prompt"},
    "messages": {"id", "conversation_id", "position", "role", "text", "state", "created"},
    "documents": {"id", "conversation_id", "name", "sha256", "text"},
}
# Columns later steps add (cumulative, like the tables): the store reads them on every row, so a
# file claiming version N without them is not one of ours at N (a hand-made or damaged file).
_COLUMNS_SINCE = {
    3: {("conversations", "deleted_at")},
    4: {("documents", "warnings"), ("conversations", "drop_turns")},
    5: {("messages", "token_ids"), ("messages", "token_vocab")},
    6: {("conversations", "imported")},
}


def inspect_file(path: Path) -> bool:
    """Whether the file exists; refuses what cannot be a database of ours (see module doc).

    The file is opened non-blocking and checked with fstat before a byte is read, so a FIFO
    or a device named by --db is never read from (no hang, no endless input)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        if path.is_symlink():
            raise ForeignDatabaseError(path, "a symbolic link to nothing") from None
        return False
    except IsADirectoryError:
        raise ForeignDatabaseError(path, "a folder") from None
    except OSError as err:
        raise DatabaseUnavailableError(path, err.strerror or str(err)) from err
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ForeignDatabaseError(path, "not a regular file")
        head = os.read(fd, _HEADER_BYTES)
    except OSError as err:
        raise DatabaseUnavailableError(path, err.strerror or str(err)) from err
    finally:
        os.close(fd)
    if not head:
        return True  # an empty file: SQLite makes it a new database
    if not head.startswith(SQLITE_MAGIC):
        raise DatabaseCorruptError(path, "not an SQLite file")
    if len(head) >= _APP_ID_AT + 4:
        app_id = int.from_bytes(head[_APP_ID_AT:_APP_ID_AT + 4], "big")
        if app_id not in (0, schema.APPLICATION_ID):
            raise ForeignDatabaseError(path, f"application id {app_id:#010x}")
    return True


def write_block(path: Path, exists: bool) -> str:
    """Why this process cannot write the database ('' when it can): SQLite writes the file and
    creates its -wal/-shm companions beside it, so both the file and its folder count."""
    if exists and not os.access(path, os.W_OK):
        return say("the file is write-protected")
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return say("its folder {folder} is write-protected", folder=folder)
    return ""


def connect(path: Path, *, exists: bool, read_only: bool, wait_s: float) -> sqlite3.Connection:
    """A connection (autocommit, any thread). Read-only uses `mode=ro`, except for a WAL file
    with no -wal beside it (nothing waits to be folded in): that opens `immutable`, so that
    not even the -wal/-shm companions are created and the folder stays exactly as it was."""
    uri = Path(os.path.abspath(path)).as_uri()
    if not read_only:
        mode = "mode=rw" if exists else "mode=rwc"
    elif _is_wal(path) and not Path(f"{path}-wal").exists():
        mode = "mode=ro&immutable=1"
    else:
        mode = "mode=ro"
    try:
        conn = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=wait_s,
                               isolation_level=None, check_same_thread=False)
        if read_only:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as err:
        raise classify(path, err, wait_s) from err
    return conn


def _is_wal(path: Path) -> bool:
    """Header bytes 18-19 are 2 for a WAL-mode file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(20)
    except OSError:
        return False
    return len(head) == 20 and head[18] == 2 and head[19] == 2


def error_name(err: sqlite3.Error) -> str:
    """SQLite's result code name (Python 3.11+), or one read off the message (3.10)."""
    name = getattr(err, "sqlite_errorname", None)
    if isinstance(name, str) and name:
        return name
    text = str(err).lower()
    for words, guess in ((("locked", "busy"), "SQLITE_BUSY"), (("malformed",), "SQLITE_CORRUPT"),
                         (("not a database",), "SQLITE_NOTADB"), (("readonly",), "SQLITE_READONLY"),
                         (("unable to open",), "SQLITE_CANTOPEN")):
        if any(word in text for word in words):
            return guess
    return "SQLITE_ERROR"


def classify(path: Path, err: sqlite3.Error, wait_s: float) -> StorageError:
    """The store error an SQLite error stands for (no error is 'corrupt' unless SQLite says)."""
    name = error_name(err)
    reason = str(err) or type(err).__name__
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return DatabaseLockedError(path, wait_s)
    if name == "SQLITE_CORRUPT_VTAB":  # the search index, not the file: never "damaged"
        return SearchIndexError(path, rebuilt=False)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return DatabaseCorruptError(path, reason)
    if name.startswith("SQLITE_READONLY"):
        return DatabaseReadOnlyError(path, reason)
    return DatabaseUnavailableError(path, reason)


def classify_problems(path: Path, problems: list[str]) -> DatabaseCorruptError:
    """`PRAGMA quick_check` found damage: SQLite's first few sentences, for the log."""
    return DatabaseCorruptError(path, "; ".join(map(str, problems[:5])))


def check_ours(conn: sqlite3.Connection, path: Path, version: int, app_id: int) -> None:
    """Refuse a file that is not a conversation database of ours, or one newer than this code."""
    tables = _tables(conn)
    if version == 0:
        if tables:
            raise ForeignDatabaseError(path, f"tables {sorted(tables)[:5]} but no schema version")
        return
    looks_ours = _TABLES_SINCE[1] <= tables and _columns_ok(conn)
    if app_id != schema.APPLICATION_ID and not looks_ours:
        raise ForeignDatabaseError(path, f"schema version {version} without our tables")
    supported = len(schema.MIGRATIONS)
    if version > supported:
        raise DatabaseTooNewError(path, version, supported, written_by(conn))
    needed = set().union(*(names for since, names in _TABLES_SINCE.items() if since <= version))
    if not needed <= tables or not looks_ours:
        raise ForeignDatabaseError(path, f"schema {version} lacks {sorted(needed - tables)}")
    missing = sorted(f"{table}.{column}" for since, pairs in _COLUMNS_SINCE.items() if since <= version
                     for table, column in pairs if column not in _table_columns(conn, table))
    if missing:
        raise ForeignDatabaseError(path, f"schema {version} lacks {missing}")


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\'").fetchall()
    return {str(row[0]) for row in rows}


def _table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})").fetchall()}


def _columns_ok(conn: sqlite3.Connection) -> bool:
    return all(wanted <= _table_columns(conn, table) for table, wanted in _COLUMNS.items())


def written_by(conn: sqlite3.Connection) -> str:
    """The app version a file records as its last writer ('' when none, or not readable).

    The value comes from a file that may be hostile: only a short version-like text is used."""
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (WRITTEN_BY_KEY,)).fetchone()
        value = json.loads(row[0]) if row is not None and len(str(row[0])) < 100 else ""
    except (sqlite3.Error, ValueError, TypeError):
        return ""
    return value if isinstance(value, str) and _VERSION_TEXT.fullmatch(value) else ""
