"""The catalog of the three InternLM2-1.8B models (models/catalog.toml), with their id on each source."""

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

SOURCE_NAMES: tuple[str, ...] = ("huggingface", "modelscope", "openxlab")
"""The hubs the model card publishes the models on, in the order they are tried on a tie."""


@dataclass(frozen=True)
class SourceRef:
    """Where one model lives on one source: its repository id and the revision to download."""

    source: str  # one of SOURCE_NAMES
    repo: str
    revision: str  # a branch or tag ("main", "master") until a verified commit id is known


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
    sources: tuple[SourceRef, ...] = ()  # empty: Hugging Face only, at `repo` and `revision`

    @property
    def is_chat(self) -> bool:
        return self.kind == "chat"

    def on(self, source: str) -> SourceRef | None:
        """The model's id on `source`, or None where the catalog does not list it there."""
        if source == "huggingface" and not any(s.source == source for s in self.sources):
            return SourceRef("huggingface", self.repo, self.revision)
        return next((s for s in self.sources if s.source == source), None)

    @property
    def source_names(self) -> tuple[str, ...]:
        """The sources that carry this model, in SOURCE_NAMES order."""
        return tuple(name for name in SOURCE_NAMES if self.on(name) is not None)


def _sources(entry: dict[str, Any]) -> tuple[SourceRef, ...]:
    found = []
    for name, value in dict(entry.get("sources", {})).items():
        if name not in SOURCE_NAMES:
            raise ValueError(f"catalog model {entry.get('id')!r}: unknown source {name!r}")
        found.append(SourceRef(name, str(value["repo"]), str(value.get("revision", "main"))))
    return tuple(sorted(found, key=lambda s: SOURCE_NAMES.index(s.source)))


def _model(entry: dict[str, Any]) -> CatalogModel:
    return CatalogModel(
        id=entry["id"], name=entry["name"], repo=entry["repo"], revision=entry["revision"],
        kind=entry["kind"], recommended=bool(entry.get("recommended", False)),
        summary=fixed(entry.get("summary", "")), files=tuple(entry["files"]),
        size_bytes=int(entry["size_bytes"]), default_quant=entry.get("default_quant", "q4_k_m"),
        licence=fixed(entry.get("licence", "")), sources=_sources(entry),
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
