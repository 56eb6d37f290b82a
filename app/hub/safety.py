"""What a hub answer may decide about local paths: validated names, and paths kept inside the cache.

Every path component that comes from outside the app (a commit id, a blob name taken from an
ETag, a file name from the catalog or a repo listing, a repository id) is checked here before
it is joined to a path, and every final path is resolved and checked to lie inside the cache
folder before anything is renamed, replaced or linked there. A value that fails is refused
with UnsafeAnswerError and nothing is written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

from app.hub.errors import HubError
from app.sentences import Sentence, say

_COMMIT = re.compile(r"[0-9a-f]{40}")
_BLOB = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REPO_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_NAME = 255  # bytes in one path component on the common file systems
_MAX_PATH = 1024
_MAX_FILE_BYTES = 1 << 40  # 1 TiB: no file of a 1.8B model comes near; a bigger claim is not a model file


class UnsafeAnswerError(HubError):
    """A hub answer (or catalog entry) carries a value that must not become a local path."""

    def __init__(self, source: str, what: str, value: object, filename: str) -> None:
        self.source = source
        self.what = what
        self.value = value
        self.filename = filename
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        who = describe_source(source)
        if filename:
            message = say("{source} gave an unusable {what} {value} for {filename}, so the download was "
                          "stopped before anything was written.", source=who, what=what, value=shown,
                          filename=filename)
        else:
            message = say("{source} gave an unusable {what} {value}, so the download was stopped before "
                          "anything was written.", source=who, what=what, value=shown)
        super().__init__(
            message, say("The hub or mirror may be misconfigured: try again later or choose another source."))


CATALOG = "the catalog"  # the source of a value the app's own catalog gave
_CATALOG_ENTRY = "the catalog entry of "


def describe_source(source: str) -> Sentence:
    """"The model hub at URL" for an address, "The catalog" (or its entry of a model) for the
    catalog's values, and the folder for a path."""
    if source.startswith(("http://", "https://")):
        return say("The model hub at {address}", address=source)
    if source == CATALOG:
        return say("The catalog")
    if source.startswith(_CATALOG_ENTRY):
        return say("The catalog entry of {model}", model=source[len(_CATALOG_ENTRY):])
    return say("The folder {path}", path=source) if source else say("The model hub")


def check_commit(value: str | None, *, source: str, filename: str) -> str:
    """A commit id: exactly 40 lowercase hex characters."""
    if not isinstance(value, str) or _COMMIT.fullmatch(value) is None:
        raise UnsafeAnswerError(source, say("commit id"), value, filename)
    return value


def check_blob_name(value: str | None, *, source: str, filename: str) -> str:
    """A blob name: a 40-hex git sha1 or a 64-hex sha256 (lowercase), and nothing else."""
    if not isinstance(value, str) or _BLOB.fullmatch(value) is None:
        raise UnsafeAnswerError(source, say("file hash (ETag)"), value, filename)
    return value


def check_size(value: int | None, *, source: str, filename: str) -> int:
    """A file size: a whole number of bytes, not negative, not absurd."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_FILE_BYTES:
        raise UnsafeAnswerError(source, say("file size"), value, filename)
    return value


def is_safe_filename(name: object) -> bool:
    """Whether `name` is a relative POSIX path of plain components that stays where it is put."""
    if not isinstance(name, str) or not name or len(name.encode("utf-8", "surrogatepass")) > _MAX_PATH:
        return False
    if "\\" in name or "\0" in name or ":" in name or _DRIVE.match(name):
        return False  # backslashes, NUL, drive letters and NTFS streams
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return False
    if name.startswith("/") or PurePosixPath(name).is_absolute():
        return False
    parts = name.split("/")
    for part in parts:
        if part in ("", ".", "..") or len(part.encode("utf-8", "surrogatepass")) > _MAX_NAME:
            return False
        if part != part.strip() or part.endswith("."):
            return False  # Windows drops trailing dots and spaces: two names, one file
    return True


def check_filename(name: object, *, source: str) -> str:
    """A file name of the repo: relative, no `..`, no absolute part, backslash or drive letter."""
    if not is_safe_filename(name):
        raise UnsafeAnswerError(source, say("file name"), name, "")
    assert isinstance(name, str)
    return name


def check_repo_id(repo: object, *, source: str) -> str:
    """A repository id `org/name` whose two parts are plain names (they become one folder name)."""
    parts = repo.split("/") if isinstance(repo, str) else []
    if len(parts) != 2 or not all(_REPO_PART.fullmatch(p) and ".." not in p for p in parts):
        raise UnsafeAnswerError(source, say("repository id"), repo, "")
    return str(repo)


def check_download_url(location: str | None, base: str, *, source: str, filename: str) -> str:
    """Where the bytes come from: an http(s) address (a relative one is taken against `base`)."""
    if not isinstance(location, str) or not location:
        raise UnsafeAnswerError(source, say("download address"), location, filename)
    given = urlsplit(location)
    if given.scheme and (given.scheme not in ("http", "https") or not given.hostname):
        raise UnsafeAnswerError(source, say("download address"), location, filename)
    url = urljoin(base, location)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAnswerError(source, say("download address"), location, filename)
    return url


def inside(root: Path, path: Path, *, source: str = "", filename: str = "") -> Path:
    """`path` itself, after checking that its folder, resolved (links followed), lies inside `root`.

    Called before every rename, replace and link into the cache, so a planted link or a name
    that slipped through can never make the app rename or replace anything outside the cache
    folder. The entry itself may be a link: a rename or replace acts on the entry, not its target.
    """
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path.parent)) / path.name
    if path.name in ("", ".", "..") or real_root not in real.parents:
        raise UnsafeAnswerError(source or str(root), say("path outside the cache"), str(path), filename)
    return path
