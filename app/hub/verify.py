"""Checking downloaded bytes against the hub's published size and hash (sha256 or git sha1).

There is no unverified path: an Expected can only be built with a 64-hex sha256 or a 40-hex
git blob sha1, so no answer of a hub or mirror can switch the check off.
"""

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
from app.hub.safety import check_blob_name, check_filename, check_size

_SHA256 = re.compile(r"[0-9a-f]{64}")
_READ_BLOCK = 4 * 1024 * 1024

HashKind = Literal["sha256", "git-sha1"]


@dataclass(frozen=True)
class Expected:
    """What the hub says a file is: its size and, where the ETag is a hash, that hash.

    LFS files (the weights, tokenizer.model) carry their sha256 in X-Linked-Etag; files kept
    in git (config.json, ...) carry the git blob sha1 of `b"blob <size>\\0" + content` in ETag.
    """

    filename: str
    size: int
    etag: str

    def __post_init__(self) -> None:  # the last line of defence; callers validate with their source
        check_filename(self.filename, source="")
        check_size(self.size, source="", filename=self.filename)
        check_blob_name(self.etag, source="", filename=self.filename)

    @property
    def kind(self) -> HashKind:
        return "sha256" if _SHA256.fullmatch(self.etag) else "git-sha1"


class Hasher:
    """An incremental hash of a file's bytes, of the kind `expected` calls for."""

    def __init__(self, expected: Expected) -> None:
        self.expected = expected
        self.size = 0
        self._hash: hashlib._Hash
        if expected.kind == "sha256":
            self._hash = hashlib.sha256()
        else:  # git's blob id: sha1 of b"blob <size>\0" + content
            self._hash = hashlib.sha1(b"blob %d\0" % expected.size, usedforsecurity=False)

    def update(self, data: bytes) -> None:
        self.size += len(data)
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

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
    if digest != expected.etag:
        return f"{expected.kind} {expected.etag[:16]}…", f"{digest[:16]}…"
    return None


def check_or_keep_aside(path: Path, expected: Expected, hasher: Hasher, cache_dir: Path) -> None:
    """Raise ChecksumMismatchError, after moving `path` to `<name>.bad-<time>`, if it is wrong."""
    bad = mismatch(expected, hasher)
    if bad is None:
        return
    kept = keep_aside(path, expected.filename, cache_dir)
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
