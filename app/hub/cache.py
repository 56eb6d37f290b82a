"""The huggingface-hub cache layout (blobs, snapshots, refs) as app.hub reads and writes it.

Files land exactly where `hf_hub_download` would put them, so other tools share them:

    <cache>/models--<org>--<name>/
        blobs/<etag>                  the verified file (sha256 for LFS files, git sha1 else)
        blobs/<etag>.incomplete       a partial download, resumed with an HTTP Range request
        blobs/<name>.bad-<timestamp>  a download that failed verification, kept aside
        refs/<revision>               the commit a branch or tag resolved to
        snapshots/<commit>/<file>     a relative symlink to ../../blobs/<etag>
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

from huggingface_hub import constants

_COMMIT = re.compile(r"[0-9a-f]{40}")


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
        return self.cache_dir / "--".join(["models", *self.repo_id.split("/")])

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    def blob(self, etag: str) -> Path:
        return self.blobs / etag

    def incomplete(self, etag: str) -> Path:
        """The partial file; the name huggingface-hub's cache scan reports as an interrupted download."""
        return self.blobs / f"{etag}.incomplete"

    def lock(self, etag: str) -> Path:
        """The lock file huggingface-hub takes for the same blob, so the two never write it at once."""
        return self.cache_dir / ".locks" / self.root.name / f"{etag}.lock"

    def snapshot(self, commit: str) -> Path:
        return self.root / "snapshots" / commit

    def pointer(self, commit: str, filename: str) -> Path:
        return self.snapshot(commit).joinpath(*filename.split("/"))

    def ref(self, revision: str) -> Path:
        return self.root / "refs" / revision

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
        path = self.ref(revision)
        if self.resolve(revision) == commit:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(commit, encoding="ascii")
        os.replace(tmp, path)

    def incomplete_bytes(self) -> int:
        """Bytes held by partial downloads of this repo."""
        total = 0
        if self.blobs.is_dir():
            for path in self.blobs.glob("*.incomplete"):
                with contextlib.suppress(OSError):
                    total += path.stat().st_size
        return total


def link_into_snapshot(blob: Path, pointer: Path) -> None:
    """Make `pointer` name `blob`: a relative symlink, else a hard link, else a copy.

    The pointer appears atomically under its final name (built aside, then renamed).
    """
    pointer.parent.mkdir(parents=True, exist_ok=True)
    tmp = pointer.with_name(f".{pointer.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        try:
            os.symlink(os.path.relpath(blob, pointer.parent), tmp)
        except OSError:  # no symlinks (Windows without developer mode, some mounts)
            try:
                os.link(blob, tmp)
            except OSError:
                shutil.copyfile(blob, tmp)
        os.replace(tmp, pointer)
    finally:
        if os.path.lexists(tmp):
            tmp.unlink()


def keep_aside(path: Path, filename: str) -> Path:
    """Rename a bad download to `<name>.bad-<timestamp>` beside it (never deleted) and return the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(filename).name
    target = path.with_name(f"{base}.bad-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{base}.bad-{stamp}-{n}")
    os.replace(path, target)
    return target
