"""Typed errors of the conversation store: the ones a user can meet say what to do."""

from __future__ import annotations

from pathlib import Path

from app.errors import UserError


class StorageError(UserError):
    """Base class of the store's errors a person can act on; `path` names the database file."""

    def __init__(self, path: Path, message: str, hint: str = "") -> None:
        self.path = path
        super().__init__(message, hint)


class DatabaseCorruptError(StorageError):
    """The file is not an SQLite database, or SQLite's integrity check fails on it."""

    def __init__(self, path: Path, detail: str = "") -> None:
        self.detail = detail
        super().__init__(
            path,
            f"The conversation database {path} is damaged and cannot be opened.",
            "Start a fresh database: the damaged file is kept beside it, renamed with the "
            "date, for a recovery attempt.",
        )


class DatabaseTooNewError(StorageError):
    """The file was written by a newer version of the app; it is left untouched."""

    def __init__(self, path: Path, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            path,
            f"The conversation database {path} was written by a newer version of "
            f"InternLM2 Desktop (schema {found}; this version reads up to {supported}).",
            "Update the app to open it; the file has not been changed.",
        )


class ForeignDatabaseError(StorageError):
    """An SQLite file that some other program made: the store refuses to write into it."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            path,
            f"{path} is an SQLite file but not an InternLM2 Desktop conversation database.",
            "Choose another file name for the conversations; this one has not been changed.",
        )


class DatabaseUnavailableError(StorageError):
    """The file cannot be opened or written now: no permission, locked, or disk full."""

    def __init__(self, path: Path, reason: str) -> None:
        self.reason = reason
        super().__init__(
            path,
            f"The conversation database {path} cannot be used right now ({reason}).",
            "Close other copies of the app, check that the folder is writable and that "
            "the disk has free space, then try again.",
        )


class MigrationError(StorageError):
    """Upgrading an older file failed; the transaction was rolled back, the file is as it was."""

    def __init__(self, path: Path, start: int, target: int, reason: str) -> None:
        self.reason = reason
        super().__init__(
            path,
            f"The conversation database {path} could not be upgraded from schema {start} "
            f"to {target} ({reason}).",
            "The file was left unchanged; please report this problem and keep the file.",
        )


class ImportFormatError(UserError):
    """A file given to import is not a conversation export this version can read."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"This file cannot be imported as a conversation: {reason}.",
            "Choose a JSON file exported by InternLM2 Desktop.",
        )


class NotFoundError(LookupError):
    """A conversation, message or document id that does not exist (a caller's mistake)."""
