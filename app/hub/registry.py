"""The registry of local models: converted GGUFs, user-added models, and what each download resolved to.

Stored as `registry.json` in app.paths.models_dir(), read afresh on every call (the command line
and the window may both change it) and written atomically (a temporary file renamed into place).
A damaged registry file is kept aside as `registry.json.bad-<time>` and the list starts empty.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

SCHEMA = 1
REGISTRY_NAME = "registry.json"
Kind = Literal["gguf", "checkpoint"]
Source = Literal["converted", "added"]
_KINDS = ("gguf", "checkpoint")
_SOURCES = ("converted", "added")


@dataclass(frozen=True)
class LocalModel:
    """One model on this computer that the app can load."""

    path: Path
    kind: Kind  # "gguf": a file for llama.cpp; "checkpoint": a folder for PyTorch
    name: str
    source: Source  # "converted" by the app from a catalog model, or "added" by the person
    catalog_id: str | None = None  # the catalog model it came from, when known
    gguf_type: str | None = None  # "q4_k_m", "q8_0", ... for converted GGUFs
    size_bytes: int = 0
    added: str = ""  # ISO 8601 UTC
    commit: str | None = None  # for converted GGUFs: the commit of the download it came from

    @property
    def exists(self) -> bool:
        return self.path.is_file() if self.kind == "gguf" else self.path.is_dir()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LocalModel:
        kind, source = data["kind"], data["source"]
        if kind not in _KINDS or source not in _SOURCES:
            raise ValueError(f"unknown kind/source {kind!r}/{source!r}")
        return cls(
            path=Path(data["path"]), kind=kind, name=str(data["name"]), source=source,
            catalog_id=data.get("catalog_id"), gguf_type=data.get("gguf_type"),
            size_bytes=int(data.get("size_bytes", 0)), added=str(data.get("added", "")),
            commit=_commit_or_none(data.get("commit")),
        )


@dataclass(frozen=True)
class DownloadRecord:
    """What one download of a catalog model resolved to: the source, revision and exact commit."""

    catalog_id: str
    source: str  # "huggingface", "modelscope", "openxlab"
    repo: str  # the model's id on that source
    revision: str  # what was asked for ("main", "master", a tag or a commit)
    commit: str  # the commit it resolved to (40 hex)
    snapshot: Path
    endpoint: str = ""
    finished: str = ""  # ISO 8601 UTC

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["snapshot"] = str(self.snapshot)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DownloadRecord:
        commit = _commit_or_none(data["commit"])
        if commit is None:
            raise ValueError(f"not a commit id: {data['commit']!r}")
        return cls(
            catalog_id=str(data["catalog_id"]), source=str(data["source"]), repo=str(data["repo"]),
            revision=str(data["revision"]), commit=commit, snapshot=Path(data["snapshot"]),
            endpoint=str(data.get("endpoint", "")), finished=str(data.get("finished", "")),
        )


def _commit_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{40}", value) else None


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ModelRegistry:
    """The JSON list of local models. Thread-safe within a process; no Qt, no network."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from app.paths import models_dir

            path = models_dir() / REGISTRY_NAME
        self.path = Path(path)
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------
    def entries(self) -> list[LocalModel]:
        """Every registered model, files that have disappeared included (see `LocalModel.exists`)."""
        with self._lock:
            return self._read()

    def converted(self, catalog_id: str) -> list[LocalModel]:
        """The GGUFs converted from one catalog model that still exist, sorted by type."""
        found = [e for e in self.entries()
                 if e.source == "converted" and e.catalog_id == catalog_id and e.exists]
        return sorted(found, key=lambda e: e.gguf_type or "")

    def added(self) -> list[LocalModel]:
        """The models the person added (a checkpoint folder or a GGUF file), existing or not."""
        return [e for e in self.entries() if e.source == "added"]

    def find(self, path: Path) -> LocalModel | None:
        key = _key(path)
        return next((e for e in self.entries() if _key(e.path) == key), None)

    def downloads(self, catalog_id: str | None = None) -> list[DownloadRecord]:
        """The recorded downloads (of one catalog model), the latest first."""
        with self._lock:
            found = self._read_downloads()
        if catalog_id is not None:
            found = [d for d in found if d.catalog_id == catalog_id]
        return sorted(found, key=lambda d: d.finished, reverse=True)

    def record_download(self, record: DownloadRecord) -> DownloadRecord:
        """Record a finished download, replacing the record of the same model and source."""
        if not record.finished:
            record = replace(record, finished=now_iso())
        with self._lock:
            kept = [d for d in self._read_downloads()
                    if (d.catalog_id, d.source) != (record.catalog_id, record.source)]
            self._write(self._read(), [*kept, record])
        return record

    # -- writing ---------------------------------------------------------------------------
    def register(self, entry: LocalModel) -> LocalModel:
        """Add `entry`, replacing any entry for the same path; returns what was stored."""
        if not entry.added:
            entry = replace(entry, added=now_iso())
        with self._lock:
            key = _key(entry.path)
            kept = [e for e in self._read() if _key(e.path) != key]
            self._write([*kept, entry], self._read_downloads())
        return entry

    def forget(self, path: Path) -> bool:
        """Drop the entry for `path` (the files are not touched); False when there was none."""
        with self._lock:
            entries = self._read()
            key = _key(path)
            kept = [e for e in entries if _key(e.path) != key]
            if len(kept) == len(entries):
                return False
            self._write(kept, self._read_downloads())
            return True

    # -- file ------------------------------------------------------------------------------
    def _read(self) -> list[LocalModel]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("models"), list):
                raise ValueError("not a registry object")
            return [LocalModel.from_json(item) for item in data["models"]]
        except (ValueError, KeyError, TypeError) as error:
            kept = self.path.with_name(f"{self.path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.path, kept)
            log.warning("model registry %s is damaged (%s); kept aside as %s", self.path, error, kept)
            return []

    def _read_downloads(self) -> list[DownloadRecord]:
        """The download records; a damaged one is skipped (the models list is what matters)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        records = data.get("downloads", []) if isinstance(data, dict) else []
        found = []
        for item in records if isinstance(records, list) else []:
            try:
                found.append(DownloadRecord.from_json(item))
            except (ValueError, KeyError, TypeError) as error:
                log.warning("skipping a damaged download record in %s (%s)", self.path, error)
        return found

    def _write(self, entries: list[LocalModel], downloads: list[DownloadRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"schema": SCHEMA, "models": [e.to_json() for e in entries],
                "downloads": [d.to_json() for d in downloads]}
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))
