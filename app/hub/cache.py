"""The huggingface-hub cache layout (blobs, snapshots, refs) as app.hub reads and writes it.

Files land exactly where `hf_hub_download` would put them, so other tools share them:

    <cache>/models--<org>--<name>/
        blobs/<etag>                  the verified file (sha256 for LFS files, git sha1 else)
        blobs/<etag>.incomplete       a partial download, resumed with an HTTP Range request
        blobs/<name>.bad-<timestamp>  a download that failed verification, kept aside (one per
                                      file; removed once the file downloads correctly)
        refs/<revision>               the commit a branch or tag resolved to
        snapshots/<commit>/<file>     a relative symlink to ../../blobs/<etag>

Every component that comes from a hub answer or the catalog (repo id, commit, blob name, file
name, ref) is validated by app.hub.safety when its path is built, and every rename, replace and
link is checked to land inside the cache folder first.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from huggingface_hub import constants

from app.hub.safety import (
    CATALOG,
    UnsafeAnswerError,
    check_blob_name,
    check_commit,
    check_filename,
    check_repo_id,
    inside,
    is_safe_filename,
)
from app.sentences import say

_COMMIT = re.compile(r"[0-9a-f]{40}")
_BAD = ".bad-"


def default_cache_dir() -> Path:
    """The standard huggingface-hub cache: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub."""
    env = os.environ.get("HF_HUB_CACHE")
    if env:
        return Path(env).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    return Path(constants.HF_HUB_CACHE).expanduser()


def is_commit_hash(revision: str) -> bool:
    return _COMMIT.fullmatch(revision) is not None


@dataclass(frozen=True)
class RepoCache:
    """Paths of one model repository inside a huggingface-hub cache folder."""

    cache_dir: Path
    repo_id: str

    @property
    def root(self) -> Path:
        """models--<org>--<name>, as huggingface-hub names a model repository's folder."""
        repo = check_repo_id(self.repo_id, source="the catalog")
        return self.cache_dir / "--".join(["models", *repo.split("/")])

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    def blob(self, etag: str) -> Path:
        return self.blobs / check_blob_name(etag, source="", filename="")

    def incomplete(self, etag: str) -> Path:
        """The partial file; the name huggingface-hub's cache scan reports as an interrupted download."""
        return self.blobs / f"{check_blob_name(etag, source='', filename='')}.incomplete"

    def lock(self, etag: str) -> Path:
        """The lock file huggingface-hub takes for the same blob, so the two never write it at once."""
        name = check_blob_name(etag, source="", filename="")
        return self.cache_dir / ".locks" / self.root.name / f"{name}.lock"

    def snapshot(self, commit: str) -> Path:
        return self.root / "snapshots" / check_commit(commit, source="", filename="")

    def pointer(self, commit: str, filename: str) -> Path:
        name = check_filename(filename, source="the catalog")
        return self.snapshot(commit).joinpath(*name.split("/"))

    def ref(self, revision: str) -> Path:
        if not is_safe_filename(revision):
            raise UnsafeAnswerError(CATALOG, say("revision"), revision, "")
        return self.root / "refs" / revision

    def kept_aside(self, filename: str) -> list[Path]:
        """The `.bad-*` copies of `filename` kept aside in blobs/ (at most one after any download)."""
        if not self.blobs.is_dir():
            return []
        prefix = _bad_prefix(filename)
        return sorted(p for p in self.blobs.iterdir() if p.name.startswith(prefix))

    def kept_aside_bytes(self) -> int:
        """Bytes held by every `.bad-*` file of this repo."""
        total = 0
        if self.blobs.is_dir():
            for path in self.blobs.iterdir():
                if _BAD in path.name and not path.is_symlink():
                    with contextlib.suppress(OSError):
                        total += path.stat().st_size
        return total

    def drop_kept_aside(self, filename: str) -> int:
        """Remove the `.bad-*` copies of `filename` (it has now downloaded correctly); bytes freed."""
        freed = 0
        for path in self.kept_aside(filename):
            inside(self.cache_dir, path, filename=filename)
            with contextlib.suppress(OSError):
                freed += 0 if path.is_symlink() else path.stat().st_size
                path.unlink()
        return freed

    def resolve(self, revision: str) -> str | None:
        """The commit `revision` points to in this cache (without any network), or None."""
        if is_commit_hash(revision):
            return revision
        try:
            commit = self.ref(revision).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return commit if is_commit_hash(commit) else None

    def write_ref(self, revision: str, commit: str) -> None:
        """Record that `revision` resolved to `commit` (atomically; nothing to do for a commit)."""
        if revision == commit:
            return
        check_commit(commit, source="", filename="")
        path = self.ref(revision)
        if self.resolve(revision) == commit:
            return
        inside(self.cache_dir, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_text(commit, encoding="ascii")
            os.replace(tmp, inside(self.cache_dir, path))
        finally:
            tmp.unlink(missing_ok=True)

    def incomplete_bytes(self) -> int:
        """Bytes held by partial downloads of this repo."""
        total = 0
        if self.blobs.is_dir():
            for path in self.blobs.glob("*.incomplete"):
                with contextlib.suppress(OSError):
                    total += path.stat().st_size
        return total


def link_into_snapshot(blob: Path, pointer: Path, cache_dir: Path) -> None:
    """Make `pointer` name `blob`: a relative symlink, else a hard link, else a copy.

    The pointer appears atomically under its final name (built aside, then renamed); both,
    and what the link resolves to, are checked to lie inside `cache_dir` first.
    """
    inside(cache_dir, blob)
    inside(cache_dir, pointer)  # before mkdir: the folders to create must lie inside too
    pointer.parent.mkdir(parents=True, exist_ok=True)
    tmp = pointer.with_name(f".{pointer.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        try:
            os.symlink(os.path.relpath(blob, pointer.parent), tmp)
            if os.path.realpath(tmp) != os.path.realpath(blob):
                raise UnsafeAnswerError("", say("path outside the cache"), str(pointer), pointer.name)
        except OSError:  # no symlinks (Windows without developer mode, some mounts)
            if os.path.lexists(tmp):
                tmp.unlink()
            try:
                os.link(blob, tmp)
            except OSError:
                shutil.copyfile(blob, tmp)
        os.replace(tmp, inside(cache_dir, pointer))
    finally:
        if os.path.lexists(tmp):
            tmp.unlink()


def keep_aside(path: Path, filename: str, cache_dir: Path) -> Path:
    """Rename a bad download to `<name>.bad-<timestamp>` beside it and return the new path.

    At most one copy per file is kept: an older `.bad-*` of the same file is removed first.
    """
    inside(cache_dir, path, filename=filename)
    for old in path.parent.glob("*"):
        if old.name.startswith(_bad_prefix(filename)) and not old.is_dir():
            inside(cache_dir, old, filename=filename)
            with contextlib.suppress(FileNotFoundError):
                old.unlink()
    target = path.with_name(f"{_bad_prefix(filename)}{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, inside(cache_dir, target, filename=filename))
    return target


def _bad_prefix(filename: str) -> str:
    """`<name>.bad-`, the file name with its folders kept distinct (`a/b.json` -> `a%2Fb.json`)."""
    return quote(check_filename(filename, source="the catalog"), safe="") + _BAD
