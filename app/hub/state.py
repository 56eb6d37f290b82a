"""Whether each catalog model is downloaded, partly downloaded or absent (from the cache alone)."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.hub.cache import RepoCache, default_cache_dir
from app.internlm2.catalog import CatalogModel, load_catalog


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

    def describe(self) -> str:
        """One line for `python main.py models` and the model manager."""
        if self.status is Status.DOWNLOADED:
            return f"{self.model.name}: downloaded ({self.snapshot})"
        if self.status is Status.PARTIAL:
            share = self.bytes_present / self.model.size_bytes if self.model.size_bytes else 0.0
            return (
                f"{self.model.name}: partially downloaded ({self.bytes_present:,} bytes, "
                f"about {min(share, 0.99):.0%}); download again to resume"
            )
        return f"{self.model.name}: not downloaded"


def model_state(model: CatalogModel, cache_dir: Path | None = None) -> ModelState:
    """The state of `model` at its catalog revision in `cache_dir` (default: the standard cache)."""
    cache = RepoCache(Path(cache_dir) if cache_dir is not None else default_cache_dir(), model.repo)
    commit = cache.resolve(model.revision)
    present = 0
    missing: list[str] = []
    for name in model.files:
        pointer = cache.pointer(commit, name) if commit is not None else None
        if pointer is not None and os.path.isfile(pointer):
            present += _size(pointer)
        else:
            missing.append(name)
    if commit is not None and not missing:
        return ModelState(model, Status.DOWNLOADED, present, cache.snapshot(commit), ())
    present += cache.incomplete_bytes()
    status = Status.PARTIAL if present > 0 else Status.NOT_DOWNLOADED
    return ModelState(model, status, present, None, tuple(missing))


def catalog_states(
    models: Iterable[CatalogModel] | None = None, cache_dir: Path | None = None,
) -> list[ModelState]:
    """The state of every catalog model (the app's catalog unless `models` is given)."""
    return [model_state(m, cache_dir) for m in (load_catalog() if models is None else models)]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
