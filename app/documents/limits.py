"""The bounds every reader keeps: a text cap, zip archives checked before inflating, cancelling.

A document from the internet is hostile input. Every reader here keeps three promises:
- it never inflates more than it checked first (zip member sizes, ratios and totals are read
  from the central directory, which also bounds what `zipfile` will ever return);
- it stops once the text passes `MAX_TEXT_CHARS` (far more than any context holds);
- it checks `cancel` regularly, so a read stops within a fraction of a second when the user
  replaces the document, closes the conversation or presses Cancel.
"""

from __future__ import annotations

import struct
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import TypeAlias

from app.documents.errors import (
    ArchiveTooLargeError,
    DocumentError,
    DocumentTextTooLongError,
    ReadCancelledError,
)

#: Text beyond this many characters is never read: the largest context holds ~1 M characters.
MAX_TEXT_CHARS = 20_000_000
#: Most uncompressed bytes read from one zip-based document (docx, epub), all members together.
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
#: Most uncompressed bytes of the members parsed as XML or HTML (a few seconds of parsing;
#: 16 MB of markup hold several million characters, more than any context).
MAX_MARKUP_BYTES = 16 * 1024 * 1024
#: Most members in one archive (a long book with its images has a few thousand).
MAX_ARCHIVE_MEMBERS = 20_000
#: Biggest central directory read (it is parsed whole by zipfile before anything else).
MAX_CENTRAL_DIRECTORY_BYTES = 4 * 1024 * 1024
#: A member that inflates more than this many times its compressed size is a bomb ...
MAX_COMPRESSION_RATIO = 300
#: ... once it is bigger than this (tiny members compress absurdly well and are harmless).
RATIO_CHECK_FROM_BYTES = 1024 * 1024

#: What a reader accepts as "cancel": an Event the GUI sets, or any callable returning True.
Cancel: TypeAlias = Callable[[], bool] | threading.Event | None

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


def cancelled(cancel: Cancel) -> bool:
    """True when the caller asked the read to stop."""
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def check_cancel(cancel: Cancel, name: str) -> None:
    """Raise ReadCancelledError when the caller asked the read of `name` to stop."""
    if cancelled(cancel):
        raise ReadCancelledError(name)


class TextBudget:
    """Counts the characters a reader produced; raises once they pass the cap.

    Also the readers' one place to check `cancel`, so every loop that adds text checks both.
    """

    def __init__(self, name: str, cancel: Cancel = None, limit: int | None = None) -> None:
        self.name = name
        self.cancel = cancel
        self.limit = MAX_TEXT_CHARS if limit is None else limit
        self.used = 0
        self.tokens = 0  # HTML tokens scanned (shared by the chapters of a book)

    def add(self, chars: int) -> None:
        """Count `chars` more characters of text (and check cancel)."""
        self.used += chars
        if self.used > self.limit:
            raise DocumentTextTooLongError(self.name, self.limit)
        check_cancel(self.cancel, self.name)

    def check(self) -> None:
        """Check cancel only (for loops that may add no text)."""
        check_cancel(self.cancel, self.name)


@dataclass(frozen=True)
class ArchiveLimits:
    """What one kind of zip-based document may hold; `markup` tells which members are parsed."""

    total_bytes: int = MAX_ARCHIVE_BYTES
    markup_bytes: int = MAX_MARKUP_BYTES
    members: int = MAX_ARCHIVE_MEMBERS
    ratio: int = MAX_COMPRESSION_RATIO
    markup_suffixes: tuple[str, ...] = (".xml", ".rels", ".xhtml", ".html", ".htm", ".opf", ".ncx")


def open_checked_zip(data: bytes, name: str, broken: Callable[[], DocumentError],
                     limits: ArchiveLimits | None = None) -> zipfile.ZipFile:
    """A ZipFile over `data` whose every member was checked before anything is inflated.

    The central directory's sizes are checked first (before zipfile parses it), then each
    member's declared size and compression ratio, the total and the markup total. zipfile never
    returns more bytes than a member declares (it fails on a CRC mismatch), so these checks
    bound what any later `read` can inflate. `broken()` makes the error for a damaged archive.
    """
    limits = limits or ArchiveLimits()
    _check_central_directory(data, name, broken)
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError, struct.error) as exc:
        raise broken() from exc
    try:
        if len(infos) > limits.members:
            raise ArchiveTooLargeError.members(name, len(infos), limits.members)
        total = markup = 0
        for info in infos:
            size, packed = info.file_size, max(info.compress_size, 1)
            if size > RATIO_CHECK_FROM_BYTES and size > limits.ratio * packed:
                raise ArchiveTooLargeError.ratio(name, info.filename, size, packed)
            total += size
            if info.filename.lower().endswith(limits.markup_suffixes):
                markup += size
        if total > limits.total_bytes:
            raise ArchiveTooLargeError.total(name, total, limits.total_bytes)
        if markup > limits.markup_bytes:
            raise ArchiveTooLargeError.markup(name, markup, limits.markup_bytes)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_central_directory(data: bytes, name: str, broken: Callable[[], DocumentError]) -> None:
    """Refuse an archive whose central directory is too big to parse (before zipfile does)."""
    start = data.rfind(_EOCD, max(0, len(data) - 65_536 - _EOCD_SIZE))
    if start < 0 or len(data) < start + _EOCD_SIZE:
        raise broken()
    entries, cd_size = struct.unpack_from("<HI", data, start + 10)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # ZIP64: the real figures are elsewhere
        locator = start - 20
        if locator < 0 or data[locator:locator + 4] != _ZIP64_LOCATOR:
            raise broken()
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if offset + 56 > len(data) or data[offset:offset + 4] != _ZIP64_EOCD:
            raise broken()
        entries, cd_size = struct.unpack_from("<QQ", data, offset + 32)
    if entries > MAX_ARCHIVE_MEMBERS:
        raise ArchiveTooLargeError.members(name, entries, MAX_ARCHIVE_MEMBERS)
    if cd_size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise ArchiveTooLargeError.members(name, max(entries, cd_size // 46), MAX_ARCHIVE_MEMBERS)


def read_member(archive: zipfile.ZipFile, member: str, budget: TextBudget,
                chunk: int = 1024 * 1024) -> bytes:
    """A member's bytes, read in chunks with cancel checks (its size was checked on open)."""
    parts: list[bytes] = []
    with archive.open(member) as handle:
        while True:
            budget.check()
            block = handle.read(chunk)
            if not block:
                break
            parts.append(block)
    return b"".join(parts)
