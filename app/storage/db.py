"""The SQLite connection: open checks, WAL, forward migrations and the transaction manager.

Opening a file, in order: the header is checked (not SQLite: `DatabaseCorruptError`), then
`PRAGMA quick_check` (damaged: `DatabaseCorruptError`), then the schema version (newer than
this code: `DatabaseTooNewError`; another program's file: `ForeignDatabaseError`). Until
those checks pass nothing is written, so a refused file is never modified. Then WAL mode and
foreign keys are switched on and the missing migration steps run in one transaction.

A corrupt file is never deleted: `move_aside` renames it (and its -wal/-shm companions) with
a timestamp, after which a fresh database can be created at the same path.

One connection serves the whole app; a re-entrant lock serialises its use, so the inference
worker's thread may checkpoint a reply while the GUI thread reads. `synchronous=NORMAL` in
WAL mode makes each commit cheap (no fsync) and durable across an app crash; a power cut may
lose the last second of a streaming reply, never the file.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from app import paths
from app.storage import schema
from app.storage.errors import (
    DatabaseCorruptError,
    DatabaseTooNewError,
    DatabaseUnavailableError,
    ForeignDatabaseError,
    MigrationError,
)
from app.storage.models import format_timestamp

_log = logging.getLogger(__name__)

DEFAULT_FILENAME = "conversations.sqlite3"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_BUSY_TIMEOUT_S = 5.0


def default_path() -> Path:
    """Where the conversations live unless told otherwise (INTERNLM2_DESKTOP_DATA overrides)."""
    return paths.data_dir() / DEFAULT_FILENAME


def move_aside(path: Path) -> Path:
    """Rename a (damaged) database and its -wal/-shm files with a timestamp; never delete.

    Returns the new path of the main file. The companions follow it, so the set stays
    openable by SQLite tools for a recovery attempt.
    """
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


def _check_header(path: Path) -> None:
    """Refuse a non-empty file whose first bytes are not SQLite's (before SQLite touches it)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as err:
        raise DatabaseUnavailableError(path, err.strerror or str(err)) from err
    if head and head != _SQLITE_MAGIC:
        raise DatabaseCorruptError(path, "not an SQLite file")


def _reason(err: sqlite3.Error) -> str:
    return str(err) or type(err).__name__


class Database:
    """An open, checked and migrated conversation database file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._last_now: datetime | None = None
        self._conn = self._open()
        self._fts_tokenizer: str | None = None

    # -- opening --------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DatabaseUnavailableError(self.path, err.strerror or str(err)) from err
        _check_header(self.path)
        try:
            conn = sqlite3.connect(
                str(self.path),
                timeout=_BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as err:
            raise DatabaseUnavailableError(self.path, _reason(err)) from err
        try:
            self._check(conn)
            self._configure(conn)
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        conn.row_factory = sqlite3.Row
        return conn

    def _check(self, conn: sqlite3.Connection) -> None:
        """Read-only checks: integrity, ownership and version. Nothing is written here."""
        try:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
        except sqlite3.OperationalError as err:
            raise DatabaseUnavailableError(self.path, _reason(err)) from err
        except sqlite3.DatabaseError as err:
            raise DatabaseCorruptError(self.path, _reason(err)) from err
        if problems != ["ok"]:
            raise DatabaseCorruptError(self.path, "; ".join(map(str, problems[:5])))
        if app_id not in (0, schema.APPLICATION_ID) or (version == 0 and tables):
            raise ForeignDatabaseError(self.path)
        supported = len(schema.MIGRATIONS)
        if version > supported:
            raise DatabaseTooNewError(self.path, version, supported)

    def _configure(self, conn: sqlite3.Connection) -> None:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as err:
            raise DatabaseUnavailableError(self.path, _reason(err)) from err
        if str(mode).lower() != "wal":
            _log.warning("%s: WAL mode unavailable, journal mode is %s", self.path, mode)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Run the missing steps, all in one transaction: the file upgrades whole or not at all."""
        steps = schema.MIGRATIONS
        start = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if start >= len(steps):
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise DatabaseUnavailableError(self.path, _reason(err)) from err
        try:
            # Re-read under the write lock: another process may have upgraded meanwhile.
            start = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for step in steps[start:]:
                step(conn)
            conn.execute(f"PRAGMA user_version = {len(steps):d}")
            conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID:d}")
            conn.execute("COMMIT")
        except Exception as err:
            conn.execute("ROLLBACK")
            raise MigrationError(self.path, start, len(steps), str(err)) from err
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
        Disk-full and lock-timeout failures become `DatabaseUnavailableError`.
        """
        with self._lock:
            if self._depth:
                yield from self._savepoint()
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                raise DatabaseUnavailableError(self.path, _reason(err)) from err
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as err:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(err, sqlite3.OperationalError) and _is_unavailable(err):
                    raise DatabaseUnavailableError(self.path, _reason(err)) from err
                raise
            finally:
                self._depth = 0

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


def _is_unavailable(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return any(word in text for word in ("full", "locked", "busy", "readonly", "i/o"))
