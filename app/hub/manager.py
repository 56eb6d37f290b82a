"""The model manager's core: download -> convert to GGUF -> register, and what each model's state is.

One object shared by `python main.py download/models` and the model manager dialog (which runs
the long calls on a worker thread). Nothing here uses the network except `download`.
Settings read by `HubSettings.from_settings`: "hub.endpoint", "hub.proxy", "hub.offline",
"hub.source".
"""

from __future__ import annotations

import enum
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import UserError
from app.hub.cache import RepoCache, default_cache_dir
from app.hub.diskspace import FreeSpace, free_bytes
from app.hub.download import DownloadResult, ModelDownloader, SourceCallback
from app.hub.progress import ProgressCallback
from app.hub.registry import DownloadRecord, LocalModel, ModelRegistry
from app.hub.sources import AUTO, endpoint_configured
from app.hub.state import ModelState, Status, model_state
from app.hub.transfer import TransferSettings
from app.internlm2.catalog import SOURCE_NAMES, CatalogModel, load_catalog
from app.sentences import say
from app.settings_keys import HUB_ENDPOINT, HUB_OFFLINE, HUB_PROXY, HUB_SOURCE

_log = logging.getLogger(__name__)

ConvertProgress = Callable[[str, int, int], None]
"""progress(stage, done, total) from the GGUF exporter: stage "convert" or "quantize"."""

GGUF_CHOICES: tuple[str, ...] = ("q4_k_m", "q5_k_m", "q6_k", "q8_0", "f16")
"""The types offered in the model manager, the default first."""
CONVERT_TYPES: tuple[str, ...] = ("f32", "f16", "bf16", "q8_0", "q4_k_m", "q5_k_m", "q6_k")
_BITS_PER_WEIGHT = {"q4_k_m": 4.9, "q5_k_m": 5.7, "q6_k": 6.6, "q8_0": 8.5, "f16": 16.0,
                    "bf16": 16.0, "f32": 32.0}

SETTING_ENDPOINT = HUB_ENDPOINT
SETTING_PROXY = HUB_PROXY
SETTING_OFFLINE = HUB_OFFLINE
SETTING_SOURCE = HUB_SOURCE
SOURCE_CHOICES: tuple[str, ...] = (AUTO, *SOURCE_NAMES)


class ModelManagerError(UserError):
    """A model manager action that cannot be done as asked (unknown model, not downloaded, ...)."""


class Phase(enum.Enum):
    """Where a catalog model stands, most advanced last."""

    NOT_DOWNLOADED = "not downloaded"
    PARTIAL = "partially downloaded"
    DOWNLOADED = "downloaded"
    CONVERTED = "converted"


def estimated_gguf_bytes(model: CatalogModel | int, gguf_type: str) -> int:
    """About how big the GGUF of `model` (or of bf16 weights of that many bytes) will be."""
    n_params = (model if isinstance(model, int) else model.size_bytes) / 2
    return int(n_params * _BITS_PER_WEIGHT.get(gguf_type.lower(), 16.0) / 8)


@dataclass(frozen=True)
class HubSettings:
    """How the hub is reached. None everywhere: HF_ENDPOINT, the proxy and HF_HUB_OFFLINE from the
    environment, and the standard huggingface-hub cache."""

    endpoint: str | None = None  # the address (mirror) of `source`; Hugging Face's when no source is set
    proxy: str | None = None
    offline: bool | None = None
    cache_dir: Path | None = None
    source: str | None = None  # one of SOURCE_CHOICES; None: Hugging Face if an address is set, else auto
    endpoints: tuple[tuple[str, str], ...] = ()  # (source, address) for the automatic choice
    probe_timeout: float = 3.0

    @classmethod
    def from_settings(cls, get: Callable[[str, Any], Any], cache_dir: Path | None = None) -> HubSettings:
        """From a settings getter such as `ConversationStore.settings.get` (blank means unset)."""
        endpoint = str(get(SETTING_ENDPOINT, "") or "").strip() or None
        proxy = str(get(SETTING_PROXY, "") or "").strip() or None
        offline = get(SETTING_OFFLINE, None)
        source = str(get(SETTING_SOURCE, "") or "").strip().lower() or None
        if source not in (None, *SOURCE_CHOICES):
            source = None
        return cls(endpoint, proxy, None if offline is None else bool(offline), cache_dir, source)

    def effective_source(self) -> str:
        """The source downloads use: the setting; else Hugging Face when a mirror address for it
        is set (the setting or HF_ENDPOINT), as before sources existed; else AUTO."""
        if self.source:
            return self.source
        return "huggingface" if endpoint_configured("huggingface", self.endpoint) else AUTO


@dataclass(frozen=True)
class ModelOverview:
    """A catalog model, its download state and the GGUFs converted from it."""

    model: CatalogModel
    hub: ModelState
    ggufs: tuple[LocalModel, ...]

    @property
    def phase(self) -> Phase:
        if self.ggufs:
            return Phase.CONVERTED
        return {Status.DOWNLOADED: Phase.DOWNLOADED, Status.PARTIAL: Phase.PARTIAL}.get(
            self.hub.status, Phase.NOT_DOWNLOADED)

    @property
    def snapshot(self) -> Path | None:
        return self.hub.snapshot

    def best_path(self) -> Path | None:
        """What to load: the default-type GGUF, else any GGUF, else the checkpoint folder."""
        ordered = sorted(self.ggufs, key=lambda e: e.gguf_type != self.model.default_quant)
        return ordered[0].path if ordered else self.hub.snapshot

    def describe(self) -> str:
        """One line for `python main.py models`."""
        parts = [self.hub.describe()]
        for entry in self.ggufs:
            parts.append(f"GGUF {(entry.gguf_type or '?').upper()} {entry.path}")
        return "; ".join(parts)


class ModelManager:
    """Download, convert, register, delete and list models; blocking calls, no Qt."""

    def __init__(
        self,
        settings: HubSettings | None = None,
        registry: ModelRegistry | None = None,
        catalog: list[CatalogModel] | None = None,
        models_dir: Path | None = None,
        free_space: FreeSpace = free_bytes,
        transfer_settings: TransferSettings | None = None,
    ) -> None:
        self.settings = settings or HubSettings()
        self.transfer_settings = transfer_settings or TransferSettings()
        self._catalog = catalog
        self._models_dir = models_dir
        self.registry = registry or ModelRegistry(self.models_dir / "registry.json")
        self.free_space = free_space

    # -- what there is ---------------------------------------------------------------------
    @property
    def catalog(self) -> list[CatalogModel]:
        if self._catalog is None:
            self._catalog = load_catalog()
        return self._catalog

    @property
    def models_dir(self) -> Path:
        if self._models_dir is None:
            from app.paths import models_dir

            self._models_dir = models_dir()
        return self._models_dir

    @property
    def cache_dir(self) -> Path:
        return self.settings.cache_dir or default_cache_dir()

    def find(self, key: str) -> CatalogModel:
        """A catalog model by id, repo id or name (case-insensitive)."""
        wanted = key.strip().lower()
        for m in self.catalog:
            if wanted in (m.id.lower(), m.repo.lower(), m.name.lower()):
                return m
        known = ", ".join(m.id for m in self.catalog)
        raise ModelManagerError(say("There is no model {key!r} in the catalog.", key=key),
                                say("Choose one of: {choices}.", choices=known))

    def overview(self, model: CatalogModel) -> ModelOverview:
        """The state of one catalog model, from the disk alone (no network)."""
        return ModelOverview(model, model_state(model, self.cache_dir),
                             tuple(self.registry.converted(model.id)))

    def overviews(self) -> list[ModelOverview]:
        return [self.overview(m) for m in self.catalog]

    def local_models(self) -> list[LocalModel]:
        """Models the person added (checkpoint folders, GGUF files)."""
        return self.registry.added()

    def gguf_path(self, model: CatalogModel, gguf_type: str) -> Path:
        return self.models_dir / f"{model.id}-{gguf_type.lower()}.gguf"

    # -- long work (run on a worker thread in the app) ---------------------------------------
    def downloader(self, source: str | None = None) -> ModelDownloader:
        """A downloader for `source` (one of SOURCE_CHOICES; None: the settings' choice).

        The address setting belongs to the settings' source (Hugging Face when none is set), so
        choosing another source for one download does not send it to that mirror.
        """
        s = self.settings
        chosen = source or s.effective_source()
        if chosen not in SOURCE_CHOICES:
            raise ModelManagerError(say("Unknown source {source!r}.", source=chosen),
                                    say("Choose one of: {choices}.", choices=", ".join(SOURCE_CHOICES)))
        owner = s.source if s.source not in (None, AUTO) else "huggingface"
        endpoints = dict(s.endpoints)
        if s.endpoint:
            endpoints.setdefault(str(owner), s.endpoint)
        return ModelDownloader(cache_dir=s.cache_dir, endpoint=endpoints.get(chosen),
                               proxy=s.proxy, offline=s.offline, conversion_dir=self.models_dir,
                               free_space=self.free_space,
                               transfer_settings=self.transfer_settings, source=chosen,
                               endpoints=endpoints, probe_timeout=s.probe_timeout)

    def download(self, model: CatalogModel, *, progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None, convert_to: str | None = None,
                 on_source: SourceCallback | None = None, source: str | None = None) -> Path:
        """Download (or resume) every file of `model`; room for `convert_to` is checked first."""
        return self.fetch(model, progress=progress, cancel=cancel, convert_to=convert_to,
                          on_source=on_source, source=source).snapshot

    def fetch(self, model: CatalogModel, *, progress: ProgressCallback | None = None,
              cancel: threading.Event | None = None, convert_to: str | None = None,
              on_source: SourceCallback | None = None, source: str | None = None) -> DownloadResult:
        """As `download`; the source, revision and commit it resolved to are recorded in the registry."""
        result = self.downloader(source).fetch(model, progress=progress, cancel=cancel,
                                               quant=convert_to.lower() if convert_to else None,
                                               on_source=on_source)
        if result.endpoint is not None:  # not when answered from the cache alone
            try:
                self.registry.record_download(DownloadRecord(
                    catalog_id=model.id, source=result.source, repo=result.repo,
                    revision=result.revision, commit=result.commit, snapshot=result.snapshot,
                    endpoint=result.endpoint))
            except OSError as error:  # the files are there and verified: the record is a detail
                _log.warning("could not record the download of %s in %s: %s", model.id,
                             self.registry.path, error)
        return result

    def last_download(self, model: CatalogModel) -> DownloadRecord | None:
        """The latest recorded download of `model` whose snapshot is still the complete one."""
        snapshot = self.overview(model).snapshot
        for record in self.registry.downloads(model.id):
            if snapshot is not None and record.snapshot == snapshot:
                return record
        return None

    def convert(self, model: CatalogModel, gguf_type: str, *, progress: ConvertProgress | None = None,
                cancel: threading.Event | None = None, threads: int = 0) -> LocalModel:
        """Convert the downloaded `model` to a GGUF in the models folder and register it."""
        from app.internlm2.gguf_export import export_gguf

        gguf_type = _check_type(gguf_type)
        state = self.overview(model).hub
        snapshot = state.snapshot
        if snapshot is None:
            raise ModelManagerError(say("{model} is not downloaded yet.", model=model.name),
                                    say("Download it first: python main.py download {id}", id=model.id))
        out = export_gguf(snapshot, self.gguf_path(model, gguf_type), gguf_type, progress=progress,
                          cancel=cancel, free_space=self.free_space, name=model.name, threads=threads)
        return self.registry.register(LocalModel(
            path=out, kind="gguf", name=f"{model.name} {gguf_type.upper()}", source="converted",
            catalog_id=model.id, gguf_type=gguf_type, size_bytes=out.stat().st_size,
            commit=state.commit))

    def download_and_convert(
        self, model: CatalogModel, gguf_type: str, *, progress: ProgressCallback | None = None,
        convert_progress: ConvertProgress | None = None, cancel: threading.Event | None = None,
    ) -> LocalModel:
        """The first-run path: download, then convert; the GGUF to load is returned."""
        self.download(model, progress=progress, cancel=cancel, convert_to=gguf_type)
        return self.convert(model, gguf_type, progress=convert_progress, cancel=cancel)

    # -- removing --------------------------------------------------------------------------
    def download_bytes(self, model: CatalogModel) -> int:
        """Bytes `delete_download` would free: the model's whole folder in the hub cache."""
        return _tree_bytes(RepoCache(self.cache_dir, model.repo).root)

    def delete_download(self, model: CatalogModel) -> int:
        """Remove the downloaded (and partly downloaded) files of `model`; returns bytes freed.

        The converted GGUFs stay (they load without the checkpoint).
        """
        root = RepoCache(self.cache_dir, model.repo).root
        freed = _tree_bytes(root)
        if root.exists():
            shutil.rmtree(root)
        return freed

    def discard_partial(self, model: CatalogModel) -> int:
        """Undo an unfinished download of `model` (after a cancel); returns bytes freed.

        A model that is not complete loses everything downloaded so far; a complete one (a
        re-download was cancelled) keeps its files and loses only the partial ones.
        """
        if self.overview(model).hub.status is not Status.DOWNLOADED:
            return self.delete_download(model)
        blobs = RepoCache(self.cache_dir, model.repo).blobs
        freed = 0
        for part in blobs.glob("*.incomplete"):
            freed += _size(part)
            part.unlink(missing_ok=True)
        return freed

    def delete_gguf(self, path: Path) -> int:
        """Delete a GGUF the app converted and forget it; returns bytes freed.

        Models the person added are only forgotten (`forget_local`), never deleted.
        """
        entry = self.registry.find(path)
        if entry is None or entry.source != "converted":
            raise ModelManagerError(say("{path} is not a GGUF converted by this app, so it is not deleted.", path=path),
                                    say("Remove it from the list instead, or delete it in your file manager."))
        freed = _size(entry.path)
        entry.path.unlink(missing_ok=True)
        self.registry.forget(entry.path)
        return freed

    # -- models the person adds --------------------------------------------------------------
    def add_local(self, path: Path) -> LocalModel:
        """Register a checkpoint folder or a GGUF file after checking that it is an InternLM2 model."""
        path = Path(path).expanduser().resolve()
        if path.is_dir():
            from app.internlm2.checkpoint import open_checkpoint

            with open_checkpoint(path) as ck:
                size = ck.weight_bytes
            return self.registry.register(LocalModel(path=path, kind="checkpoint", name=path.name,
                                                     source="added", size_bytes=size))
        if path.is_file():
            from app.engine.gguf_meta import read_gguf_info

            info = read_gguf_info(path)
            if info.arch != "internlm2":
                raise ModelManagerError(say("{name} is a GGUF of a {arch!r} model, not InternLM2.", name=path.name,
                                            arch=info.arch),
                                        say("Pick a GGUF converted from an InternLM2 model."))
            return self.registry.register(LocalModel(path=path, kind="gguf", name=path.stem,
                                                     source="added", size_bytes=_size(path)))
        raise ModelManagerError(say("There is nothing at {path}.", path=path),
                                say("Pick a checkpoint folder or a .gguf file."))

    def convert_local(self, folder: Path, gguf_type: str, *, progress: ConvertProgress | None = None,
                      cancel: threading.Event | None = None, threads: int = 0) -> LocalModel:
        """Convert a checkpoint folder the person added to a GGUF in the models folder (named
        after the folder); it is listed with the person's own models."""
        from app.internlm2.gguf_export import export_gguf

        gguf_type = _check_type(gguf_type)
        folder = Path(folder).expanduser().resolve()
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.name).strip("-.") or "checkpoint"
        out = export_gguf(folder, self.models_dir / f"{stem}-{gguf_type.lower()}.gguf", gguf_type,
                          progress=progress, cancel=cancel, free_space=self.free_space, name=folder.name,
                          threads=threads)
        return self.registry.register(LocalModel(
            path=out, kind="gguf", name=f"{folder.name} {gguf_type.upper()}", source="added",
            gguf_type=gguf_type, size_bytes=out.stat().st_size))

    def forget_local(self, path: Path) -> bool:
        """Take an added model off the list; its files stay where they are."""
        return self.registry.forget(path)


def _check_type(gguf_type: str) -> str:
    lowered = gguf_type.lower()
    if lowered not in CONVERT_TYPES:
        raise ModelManagerError(say("Unknown GGUF type {type!r}.", type=gguf_type),
                                say("Choose one of: {choices}.", choices=", ".join(CONVERT_TYPES)))
    return lowered


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tree_bytes(root: Path) -> int:
    """Bytes of the regular files under `root` (links are not counted twice)."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                total += _size(path)
    return total
