"""Whether each catalog model is downloaded, partly downloaded or absent (from the cache alone).

A model counts as downloaded when the snapshot of any source's revision holds every catalog
file: all sources share one cache folder (the model's Hugging Face id).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.hub.cache import RepoCache, default_cache_dir, is_commit_hash
from app.hub.sources import ref_name
from app.internlm2.catalog import CatalogModel, SourceRef, load_catalog


class Status(enum.Enum):
    NOT_DOWNLOADED = "not downloaded"
    PARTIAL = "partially downloaded"
    DOWNLOADED = "downloaded"


@dataclass(frozen=True)
class ModelState:
    """Where one catalog model stands in the huggingface-hub cache. No network is used."""

    model: CatalogModel
    status: Status
    bytes_present: int  # complete files of the revision plus partial downloads
    snapshot: Path | None  # the snapshot folder, set when status is DOWNLOADED
    missing: tuple[str, ...]  # catalog files not yet complete
    source: str | None = None  # the source whose revision the snapshot is, when DOWNLOADED
    commit: str | None = None  # the commit that revision resolved to, when DOWNLOADED

    def describe(self) -> str:
        """One line for `python main.py models` and the model manager."""
        if self.status is Status.DOWNLOADED:
            return f"{self.model.name}: downloaded from {self.source} at {self.commit} ({self.snapshot})"
        if self.status is Status.PARTIAL:
            share = self.bytes_present / self.model.size_bytes if self.model.size_bytes else 0.0
            return (
                f"{self.model.name}: partially downloaded ({self.bytes_present:,} bytes, "
                f"about {min(share, 0.99):.0%}); download again to resume"
            )
        return f"{self.model.name}: not downloaded"


def source_commit(ref: SourceRef, cache: RepoCache | None) -> str | None:
    """The commit `ref` stands for: itself when pinned to one, else what the cache recorded."""
    if is_commit_hash(ref.revision):
        return ref.revision
    return cache.resolve(ref_name(ref)) if cache is not None else None


def complete_snapshots(model: CatalogModel, cache: RepoCache) -> list[tuple[str, str, Path]]:
    """(source, commit, snapshot) of every source revision complete in the cache, newest first."""
    found: list[tuple[float, str, str, Path]] = []
    for name in model.source_names:
        ref = model.on(name)
        commit = source_commit(ref, cache) if ref is not None else None
        if commit is None:
            continue
        if all(os.path.isfile(cache.pointer(commit, f)) for f in model.files):
            snapshot = cache.snapshot(commit)
            found.append((_mtime(snapshot), name, commit, snapshot))
    found.sort(key=lambda item: -item[0])
    return [(name, commit, snapshot) for _, name, commit, snapshot in found]


def model_state(model: CatalogModel, cache_dir: Path | None = None) -> ModelState:
    """The state of `model` at its catalog revisions in `cache_dir` (default: the standard cache)."""
    cache = RepoCache(Path(cache_dir) if cache_dir is not None else default_cache_dir(), model.repo)
    complete = complete_snapshots(model, cache)
    if complete:
        name, done_commit, snapshot = complete[0]
        present = sum(_size(cache.pointer(done_commit, f)) for f in model.files)
        return ModelState(model, Status.DOWNLOADED, present, snapshot, (), name, done_commit)
    commit = cache.resolve(model.revision)
    present = 0
    missing: list[str] = []
    for name in model.files:
        pointer = cache.pointer(commit, name) if commit is not None else None
        if pointer is not None and os.path.isfile(pointer):
            present += _size(pointer)
        else:
            missing.append(name)
    present += cache.incomplete_bytes()
    status = Status.PARTIAL if present > 0 else Status.NOT_DOWNLOADED
    return ModelState(model, status, present, None, tuple(missing))


def catalog_states(
    models: Iterable[CatalogModel] | None = None, cache_dir: Path | None = None,
) -> list[ModelState]:
    """The state of every catalog model (the app's catalog unless `models` is given)."""
    return [model_state(m, cache_dir) for m in (load_catalog() if models is None else models)]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
