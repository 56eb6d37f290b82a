"""The catalog of the three InternLM2-1.8B models (models/catalog.toml)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from app.sentences import fixed

CATALOG_PATH = Path(__file__).resolve().parents[2] / "models" / "catalog.toml"


@dataclass(frozen=True)
class CatalogModel:
    """One downloadable model: where it lives on the hub and what it is."""

    id: str
    name: str
    repo: str
    revision: str
    kind: str  # "chat" or "base"
    recommended: bool
    summary: str
    files: tuple[str, ...]
    size_bytes: int
    default_quant: str
    licence: str

    @property
    def is_chat(self) -> bool:
        return self.kind == "chat"


def _model(entry: dict[str, Any]) -> CatalogModel:
    return CatalogModel(
        id=entry["id"], name=entry["name"], repo=entry["repo"], revision=entry["revision"],
        kind=entry["kind"], recommended=bool(entry.get("recommended", False)),
        summary=fixed(entry.get("summary", "")), files=tuple(entry["files"]),
        size_bytes=int(entry["size_bytes"]), default_quant=entry.get("default_quant", "q4_k_m"),
        licence=fixed(entry.get("licence", "")),
    )


def load_catalog(path: Path = CATALOG_PATH) -> list[CatalogModel]:
    """All catalog models, recommended first."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    models = [_model(e) for e in data.get("model", [])]
    return sorted(models, key=lambda m: not m.recommended)


def find_model(key: str, path: Path = CATALOG_PATH) -> CatalogModel | None:
    """A catalog model by id, repo id or display name (case-insensitive)."""
    key = key.lower()
    for m in load_catalog(path):
        if key in (m.id.lower(), m.repo.lower(), m.name.lower()):
            return m
    return None
