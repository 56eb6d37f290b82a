"""Checking downloaded bytes against the hub's published size and hash (sha256 or git sha1)."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.hub.cache import keep_aside
from app.hub.errors import ChecksumMismatchError

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_READ_BLOCK = 4 * 1024 * 1024

HashKind = Literal["sha256", "git-sha1", "none"]


@dataclass(frozen=True)
class Expected:
    """What the hub says a file is: its size and, where the ETag is a hash, that hash.

    LFS files (the weights, tokenizer.model) carry their sha256 in X-Linked-Etag; files kept
    in git (config.json, ...) carry the git blob sha1 of `b"blob <size>\\0" + content` in ETag.
    """

    filename: str
    size: int
    etag: str

    @property
    def kind(self) -> HashKind:
        if _SHA256.fullmatch(self.etag):
            return "sha256"
        if _SHA1.fullmatch(self.etag):
            return "git-sha1"
        return "none"


class Hasher:
    """An incremental hash of a file's bytes, of the kind `expected` calls for."""

    def __init__(self, expected: Expected) -> None:
        self.expected = expected
        self.size = 0
        self._hash: hashlib._Hash | None
        if expected.kind == "sha256":
            self._hash = hashlib.sha256()
        elif expected.kind == "git-sha1":
            self._hash = hashlib.sha1(b"blob %d\0" % expected.size, usedforsecurity=False)
        else:
            self._hash = None

    def update(self, data: bytes) -> None:
        self.size += len(data)
        if self._hash is not None:
            self._hash.update(data)

    def hexdigest(self) -> str | None:
        return self._hash.hexdigest() if self._hash is not None else None

    def seed_from(self, path: Path, length: int, cancelled: Callable[[], bool]) -> bool:
        """Hash the first `length` bytes already on disk (a resumed download); False if cancelled."""
        with path.open("rb") as fh:
            left = length
            while left > 0:
                if cancelled():
                    return False
                block = fh.read(min(_READ_BLOCK, left))
                if not block:
                    raise OSError(f"{path} is shorter than {length} bytes")
                self.update(block)
                left -= len(block)
        return True


def mismatch(expected: Expected, hasher: Hasher) -> tuple[str, str] | None:
    """(expected, actual) descriptions when the bytes do not match, None when they do."""
    if hasher.size != expected.size:
        return f"{expected.size:,} bytes", f"{hasher.size:,} bytes"
    digest = hasher.hexdigest()
    if digest is not None and digest != expected.etag:
        return f"{expected.kind} {expected.etag[:16]}…", f"{digest[:16]}…"
    return None


def check_or_keep_aside(path: Path, expected: Expected, hasher: Hasher) -> None:
    """Raise ChecksumMismatchError, after moving `path` to `<name>.bad-<time>`, if it is wrong."""
    bad = mismatch(expected, hasher)
    if bad is None:
        return
    kept = keep_aside(path, expected.filename)
    raise ChecksumMismatchError(expected.filename, kept, bad[0], bad[1])


def verify_file(path: Path, expected: Expected, cancel: threading.Event | None = None) -> bool:
    """Whether the file on disk matches `expected` (reads it all; False also when cancelled)."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    if size != expected.size:
        return False
    hasher = Hasher(expected)
    if not hasher.seed_from(path, size, cancel.is_set if cancel else lambda: False):
        return False
    return mismatch(expected, hasher) is None
