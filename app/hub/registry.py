"""The registry of local models: converted GGUFs per catalog model and user-added models (JSON).

Stored as `registry.json` in app.paths.models_dir(), read afresh on every call (the command line
and the window may both change it) and written atomically (a temporary file renamed into place).
A damaged registry file is kept aside as `registry.json.bad-<time>` and the list starts empty.
"""

from __future__ import annotations

import json
import logging
import os
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
        )


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

    # -- writing ---------------------------------------------------------------------------
    def register(self, entry: LocalModel) -> LocalModel:
        """Add `entry`, replacing any entry for the same path; returns what was stored."""
        if not entry.added:
            entry = replace(entry, added=now_iso())
        with self._lock:
            key = _key(entry.path)
            kept = [e for e in self._read() if _key(e.path) != key]
            self._write([*kept, entry])
        return entry

    def forget(self, path: Path) -> bool:
        """Drop the entry for `path` (the files are not touched); False when there was none."""
        with self._lock:
            entries = self._read()
            key = _key(path)
            kept = [e for e in entries if _key(e.path) != key]
            if len(kept) == len(entries):
                return False
            self._write(kept)
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

    def _write(self, entries: list[LocalModel]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"schema": SCHEMA, "models": [e.to_json() for e in entries]}
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))
