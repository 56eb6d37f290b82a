"""The SQLite connection: open checks, WAL, forward migrations and the transaction manager.

Opening a file, in order (`opening.py` holds the checks): the file is inspected without SQLite
(not a regular file, or another program's application id: `ForeignDatabaseError`; not SQLite:
`DatabaseCorruptError`), then `PRAGMA quick_check` (damaged: `DatabaseCorruptError`), then
whose tables these are and the schema version (`ForeignDatabaseError`, `DatabaseTooNewError`).
Until those checks pass nothing is written, so a refused file is never modified. A file that
another program holds locked is waited for a bounded time (`lock_wait_s`), then refused with
`DatabaseLockedError`, untouched. Then WAL mode and foreign keys are switched on and, under
the write lock, the missing migration steps run in one transaction; a file of ours that lacks
the application id (it is recognised by its tables) gets it there, and the app version that
wrote the file is recorded (`DatabaseTooNewError` names it to an older version).

A file that this process may not write (write-protected, or its folder is) opens read-only
when its schema is current: reading, search and export work, every write raises
`DatabaseReadOnlyError` (one sentence, nothing half-written). `read_only=True` asks for that.

A corrupt file is never deleted: `move_aside` renames it (and its -wal/-shm companions) with
a timestamp, after which a fresh database can be created at the same path. A damaged
full-text index is not corruption of the file: `rebuild_search_index` makes it again from the
messages.

One connection serves the whole app; a re-entrant lock serialises its use, so the inference
worker's thread may checkpoint a reply while the GUI thread reads. `synchronous=NORMAL` in
WAL mode makes each commit cheap (no fsync) and durable across an app crash; a power cut may
lose the last second of a streaming reply, never the file.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from app import __version__, paths
from app.sentences import say
from app.storage import opening, schema
from app.storage.errors import (
    DatabaseReadOnlyError,
    DatabaseTooNewError,
    DatabaseUnavailableError,
    ForeignDatabaseError,
    MigrationError,
    SearchIndexError,
    StorageError,
)
from app.storage.models import format_timestamp

_log = logging.getLogger(__name__)

DEFAULT_FILENAME = "conversations.sqlite3"
_BUSY_TIMEOUT_S = 5.0
LOCK_WAIT_S = 3.0
"""How long opening waits for another program to release the file before it says so."""


def default_path() -> Path:
    """Where the conversations live unless told otherwise (INTERNLM2_DESKTOP_DATA overrides)."""
    return paths.data_dir() / DEFAULT_FILENAME


def move_aside(path: Path) -> Path:
    """Rename a (damaged) database and its -wal/-shm files with a timestamp; never delete.

    Returns the new path of the main file. The companions follow it, so the set stays
    openable by SQLite tools for a recovery attempt. Only a regular file is ever moved.
    """
    if not path.is_file():
        raise ForeignDatabaseError(path, "not a regular file")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while any(Path(f"{target}{suffix}").exists() for suffix in ("", "-wal", "-shm")):
        counter += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
    try:
        for suffix in ("-wal", "-shm", ""):
            source = Path(f"{path}{suffix}")
            if source.exists():
                source.rename(f"{target}{suffix}")
    except OSError as err:  # e.g. another program holds the file open (Windows)
        raise DatabaseUnavailableError(path, err.strerror or str(err)) from err
    return target


class Database:
    """An open, checked and migrated conversation database file (maybe read-only)."""

    def __init__(self, path: Path | str, *, read_only: bool = False,
                 lock_wait_s: float | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._last_now: datetime | None = None
        self._lock_wait_s = LOCK_WAIT_S if lock_wait_s is None else lock_wait_s
        self._rebuilding = False
        self.read_only_reason: str = say("it was opened read-only") if read_only else ""
        self._conn = self._open()
        self._fts_tokenizer: str | None = None

    @property
    def read_only(self) -> bool:
        """True when writes are refused (`read_only_reason` says why)."""
        return bool(self.read_only_reason)

    # -- opening --------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        exists = opening.inspect_file(self.path)
        if not exists and not self.read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise DatabaseUnavailableError(
                    self.path, say("its folder cannot be made: {reason}", reason=err.strerror or str(err))) from err
        blocked = self.read_only_reason or opening.write_block(self.path, exists)
        if blocked and not exists:
            raise DatabaseUnavailableError(self.path, say("{reason}, so it cannot be created", reason=blocked))
        conn = opening.connect(self.path, exists=exists, read_only=bool(blocked),
                               wait_s=self._lock_wait_s)
        try:
            version, app_id = self._check(conn)
            if blocked:
                if version != len(schema.MIGRATIONS):
                    raise DatabaseUnavailableError(
                        self.path, say("{reason}, and it needs an upgrade to this version's schema", reason=blocked))
                self.read_only_reason = blocked
                _log.warning("%s opened read-only: %s", self.path, blocked)
            else:
                self._configure(conn)
                self._migrate(conn, app_id)
            conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000):d}")
        except BaseException:
            conn.close()
            raise
        conn.row_factory = sqlite3.Row
        return conn

    def _check(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """Read-only checks: integrity, ownership and version. Nothing is written here."""
        try:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            if problems == ["ok"]:
                opening.check_ours(conn, self.path, version, app_id)
        except sqlite3.Error as err:
            raise opening.classify(self.path, err, self._lock_wait_s) from err
        if problems != ["ok"]:
            raise opening.classify_problems(self.path, problems)
        return version, app_id

    def _configure(self, conn: sqlite3.Connection) -> None:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as err:
            raise opening.classify(self.path, err, self._lock_wait_s) from err
        if str(mode).lower() != "wal":
            _log.warning("%s: WAL mode unavailable, journal mode is %s", self.path, mode)

    def _migrate(self, conn: sqlite3.Connection, app_id: int) -> None:
        """Under the write lock (the bounded wait for another program ends here): the missing
        steps, the application id and the writer's version, all in one transaction, so the
        file upgrades whole or not at all."""
        steps = schema.MIGRATIONS
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise opening.classify(self.path, err, self._lock_wait_s) from err
        # Re-read under the write lock: another process may have upgraded meanwhile.
        start = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if start > len(steps):  # ...even past this version: never write a lower number
            conn.execute("ROLLBACK")
            raise DatabaseTooNewError(self.path, start, len(steps), opening.written_by(conn))
        try:
            for step in steps[start:]:
                step(conn)
            if start != len(steps):
                conn.execute(f"PRAGMA user_version = {len(steps):d}")
            if app_id != schema.APPLICATION_ID or start != len(steps):
                conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID:d}")
            conn.execute(
                "INSERT INTO settings (key, value, updated) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated = excluded.updated WHERE value != excluded.value",
                (opening.WRITTEN_BY_KEY, json.dumps(__version__), self.now()))
            conn.execute("COMMIT")
        except Exception as err:
            conn.execute("ROLLBACK")
            if start != len(steps):
                raise MigrationError(self.path, start, len(steps), str(err)) from err
            if isinstance(err, sqlite3.Error):
                raise opening.classify(self.path, err, self._lock_wait_s) from err
            raise
        if start != len(steps):
            _log.info("%s: schema upgraded from %d to %d", self.path, start, len(steps))

    # -- use ------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def fts_tokenizer(self) -> str:
        """The tokenizer the file's search index was built with ('trigram' or 'unicode61')."""
        if self._fts_tokenizer is None:
            with self.read() as conn:
                row = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE name = 'messages_fts'"
                ).fetchone()
            self._fts_tokenizer = "trigram" if row and "trigram" in row[0] else "unicode61"
        return self._fts_tokenizer

    def now(self) -> str:
        """The current time as a stored timestamp, strictly increasing for this database.

        Coarse clocks (Windows ticks in milliseconds) would otherwise give two quick updates
        the same time and make "most recently updated" ambiguous.
        """
        with self._lock:
            moment = datetime.now(timezone.utc)
            if self._last_now is not None and moment <= self._last_now:
                moment = self._last_now + timedelta(microseconds=1)
            self._last_now = moment
            return format_timestamp(moment)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, held against other threads for the block."""
        with self._lock:
            yield self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: commit on success, roll back on any exception.

        Nested use becomes a savepoint, so an inner failure undoes only the inner block.
        A read-only database refuses before anything runs (`DatabaseReadOnlyError`); a lock
        held past the busy timeout, a full disk or an I/O error become the store's typed
        errors; a damaged search index is rebuilt and reported (`SearchIndexError`).
        """
        with self._lock:
            if self.read_only:
                raise DatabaseReadOnlyError(self.path, self.read_only_reason)
            if self._depth:
                yield from self._savepoint()
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as err:
                raise opening.classify(self.path, err, _BUSY_TIMEOUT_S) from err
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as err:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(err, sqlite3.Error):
                    self._depth = 0
                    raise self._write_error(err) from err
                raise
            finally:
                self._depth = 0

    def _write_error(self, err: sqlite3.Error) -> Exception:
        """What a failed write means to the user; SQLite's own error when it is a bug of ours
        (a constraint, a syntax error: those are not the user's to act on)."""
        name = opening.error_name(err)
        if name == "SQLITE_CORRUPT_VTAB":
            if self._rebuilding:
                return err
            _log.warning("%s: search index damaged (%s); rebuilding it", self.path, err)
            try:
                self.rebuild_search_index()
            except (sqlite3.Error, StorageError) as failed:
                _log.error("%s: search index not rebuilt: %s", self.path, failed)
                return SearchIndexError(self.path, rebuilt=False)
            return SearchIndexError(self.path, rebuilt=True)
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_FULL",
                            "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_CORRUPT")):
            return opening.classify(self.path, err, _BUSY_TIMEOUT_S)
        return err

    def rebuild_search_index(self) -> None:
        """Make the full-text index again from the messages (it holds nothing else).

        First the cheap way (empty the index, index every finished message); if the index
        is too damaged for that, it is dropped and created again by the schema step that
        made it. Read-only files keep their index (search falls back to scanning)."""
        if self.read_only:
            return
        with self._lock:
            self._rebuilding = True
            try:
                self._rebuild_index()
            finally:
                self._rebuilding = False
            self._fts_tokenizer = None

    def _rebuild_index(self) -> None:
        """Empty and refill the index. When FTS5 cannot even load it (its structure record is
        damaged), its shadow tables are first reset to those of an empty index made by this
        SQLite in memory: the messages are the index's only source, nothing is lost."""
        fill = ("INSERT INTO messages_fts (rowid, text) "
                "SELECT id, text FROM messages WHERE state != 'streaming'")
        try:
            with self.transaction() as conn:
                conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('delete-all')")
                conn.execute(fill)
                conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
            return
        except sqlite3.Error as err:
            _log.warning("%s: search index reset from an empty one (%s)", self.path, err)
        empty = sqlite3.connect(":memory:")
        try:
            empty.execute("CREATE VIRTUAL TABLE blank USING fts5(text)")
            data = empty.execute("SELECT id, block FROM blank_data").fetchall()
            config = empty.execute("SELECT k, v FROM blank_config").fetchall()
        finally:
            empty.close()
        with self.transaction() as conn:
            for table in ("data", "idx", "config"):
                conn.execute(f"DELETE FROM messages_fts_{table}")
            conn.executemany("INSERT INTO messages_fts_data (id, block) VALUES (?, ?)", data)
            conn.executemany("INSERT INTO messages_fts_config (k, v) VALUES (?, ?)", config)
        with self.transaction() as conn:
            conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('delete-all')")
            conn.execute(fill)
            conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        name = f"sp{self._depth}"
        self._conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield self._conn
        except BaseException:
            self._conn.execute(f"ROLLBACK TO {name}")
            self._conn.execute(f"RELEASE {name}")
            raise
        else:
            self._conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    def close(self) -> None:
        """Close the connection; SQLite folds the WAL back into the file."""
        with self._lock:
            self._conn.close()

