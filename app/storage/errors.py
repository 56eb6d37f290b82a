"""Typed errors of the conversation store: the ones a user can meet say what to do."""

from __future__ import annotations

from pathlib import Path

from app.errors import UserError
from app.sentences import say


class StorageError(UserError):
    """Base class of the store's errors a person can act on; `path` names the database file."""

    def __init__(self, path: Path, message: str, hint: str = "", detail: str = "") -> None:
        self.path = path
        super().__init__(message, hint, detail)


class DatabaseCorruptError(StorageError):
    """The file is not an SQLite database, or SQLite's integrity check fails on it."""

    def __init__(self, path: Path, detail: str = "") -> None:
        super().__init__(
            path,
            say("The conversation database {path} is damaged and cannot be opened.", path=path),
            say("Start a fresh database: the damaged file is kept beside it, renamed with the "
                "date, for a recovery attempt."),
            detail,
        )


class DatabaseTooNewError(StorageError):
    """The file was written by a newer version of the app; it is left untouched.

    `written_by` is the app version the file records (empty when it records none)."""

    def __init__(self, path: Path, found: int, supported: int, written_by: str = "") -> None:
        self.found = found
        self.supported = supported
        self.written_by = written_by
        if written_by:
            message = say("The conversation database {path} was written by InternLM2 Desktop {version}, a "
                          "newer version (schema {found}; this version reads up to {supported}).",
                          path=path, version=written_by, found=found, supported=supported)
        else:
            message = say("The conversation database {path} was written by a newer InternLM2 Desktop "
                          "(schema {found}; this version reads up to {supported}).",
                          path=path, found=found, supported=supported)
        super().__init__(path, message, say("Update the app to open it; the file has not been changed."))


class ForeignDatabaseError(StorageError):
    """A file some other program made (or not a file at all): the store refuses to touch it.

    `detail` says what gave it away (for the log)."""

    def __init__(self, path: Path, detail: str = "") -> None:
        super().__init__(
            path,
            say("{path} is not an InternLM2 Desktop conversation database.", path=path),
            say("Choose another file name for the conversations; this one has not been changed."),
            detail,
        )


class DatabaseLockedError(StorageError):
    """Another program (or another copy of the app) holds the file locked; it is untouched."""

    def __init__(self, path: Path, waited_s: float) -> None:
        self.waited_s = waited_s
        super().__init__(
            path,
            say("Another program is using the conversation database {path} (it kept the file "
                "locked for more than {seconds} seconds).", path=path, seconds=f"{waited_s:g}"),
            say("Close the other program or the other copy of InternLM2 Desktop, then try "
                "again; the file has not been changed."),
        )


class DatabaseReadOnlyError(StorageError):
    """The file could only be opened read-only: browsing and export work, saving does not."""

    def __init__(self, path: Path, reason: str) -> None:
        self.reason = reason
        super().__init__(
            path,
            say("The conversation database {path} is read-only ({reason}), so new messages and "
                "changes cannot be saved.", path=path, reason=reason),
            say("Conversations can still be read and exported. To save again, make the file and "
                "its folder writable, or start with --db and a writable file, then restart."),
        )


class SearchIndexError(StorageError):
    """The full-text index was damaged; `rebuilt` when it was made again from the messages
    (nothing else is lost either way: the index holds no data of its own)."""

    def __init__(self, path: Path, rebuilt: bool) -> None:
        self.rebuilt = rebuilt
        if rebuilt:
            message = say("The search index of the conversation database {path} was damaged and "
                          "has been rebuilt from the messages.", path=path)
            hint = say("Nothing was saved by the last action; please do it again.")
        else:
            message = say("The search index of the conversation database {path} is damaged and "
                          "could not be rebuilt.", path=path)
            hint = say("Your messages are kept; please report this problem and keep the file.")
        super().__init__(path, message, hint)


class DatabaseUnavailableError(StorageError):
    """The file cannot be opened or written now: no permission, a folder that cannot be
    written or made, disk full, an I/O error."""

    def __init__(self, path: Path, reason: str) -> None:
        self.reason = reason
        super().__init__(
            path,
            say("The conversation database {path} cannot be used right now ({reason}).", path=path,
                reason=reason),
            say("Check that the folder is writable and that the disk has free space, or start "
                "with --db and another file, then try again."),
        )


class MigrationError(StorageError):
    """Upgrading an older file failed; the transaction was rolled back, the file is as it was."""

    def __init__(self, path: Path, start: int, target: int, reason: str) -> None:
        self.reason = reason
        super().__init__(
            path,
            say("The conversation database {path} could not be upgraded from schema {start} "
                "to {target} ({reason}).", path=path, start=start, target=target, reason=reason),
            say("The file was left unchanged; please report this problem and keep the file."),
        )


class ImportFormatError(UserError):
    """A file given to import is not a conversation export this version can read."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            say("This file cannot be imported as a conversation: {reason}.", reason=reason),
            say("Choose a JSON file exported by InternLM2 Desktop."),
        )


class NotFoundError(LookupError):
    """A conversation, message or document id that does not exist (a caller's mistake)."""
