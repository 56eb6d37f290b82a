"""Free-space checks before a download: the files themselves plus room for the GGUF conversion."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from app.hub.errors import NotEnoughDiskSpaceError, format_bytes

FreeSpace = Callable[[Path], int]
"""Free bytes on the disk that holds a path; injectable so tests can simulate a full disk."""

# Size of the GGUF the app converts to, as a share of the bf16 safetensors size.
# F16 is the model again; Q8_0 is 8.5 bits a weight; Q4_K_M is about 1.2 GB of 3.78 GB.
_GGUF_SHARE: dict[str, float] = {"f16": 1.0, "bf16": 1.0, "f32": 2.0, "q8_0": 0.54, "q4_k_m": 0.32}
SAFETY_SLACK = 64 * 1024 * 1024  # logs, the database, rounding: never plan to fill a disk to the byte


def free_bytes(path: Path) -> int:
    """Free bytes for an unprivileged user on the disk holding `path` (or its nearest existing parent)."""
    return shutil.disk_usage(_existing(path)).free


def conversion_margin(model_bytes: int, quant: str | None) -> int:
    """Bytes the GGUF conversion will write for `quant` ("f16", "q4_k_m", ...); 0 for no conversion."""
    if quant is None:
        return 0
    share = _GGUF_SHARE.get(quant.lower())
    if share is None:
        share = 1.0  # an unknown type: plan for the largest common one (f16)
    return int(model_bytes * share)


@dataclass(frozen=True)
class SpaceNeed:
    """Bytes that will be written under a folder, and why (for the message)."""

    path: Path
    bytes: int
    what: str


def check_free_space(
    needs: Iterable[SpaceNeed], free_space: FreeSpace = free_bytes,
    kept_aside: tuple[Path, int] | None = None,
) -> None:
    """Raise NotEnoughDiskSpaceError unless every disk has room for what will land on it.

    Needs on the same disk (e.g. the download cache and the converted models) add up.
    `kept_aside` is (folder, bytes) of damaged downloads kept aside there: they are on the disk
    until the files download correctly, so they are already used space; a shortfall says how
    much deleting them would free.
    """
    by_disk: dict[object, list[SpaceNeed]] = {}
    for need in needs:
        if need.bytes > 0:
            by_disk.setdefault(_disk_key(need.path), []).append(need)
    for group in by_disk.values():
        needed = sum(n.bytes for n in group) + SAFETY_SLACK
        path = group[0].path
        free = free_space(path)
        if free < needed:
            detail = " + ".join(f"{format_bytes(n.bytes)} {n.what}" for n in group)
            reclaim = None
            if kept_aside is not None and kept_aside[1] > 0 and _disk_key(kept_aside[0]) == _disk_key(path):
                reclaim = kept_aside
            raise NotEnoughDiskSpaceError(path, needed, free, detail, kept_aside=reclaim)


def _existing(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _disk_key(path: Path) -> object:
    """The device of the disk holding `path`; the path itself where that is unknown."""
    existing = _existing(path)
    try:
        return os.stat(existing).st_dev
    except OSError:
        return str(existing)
