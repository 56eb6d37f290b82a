"""Downloading a catalog model into the huggingface-hub cache from a source: list, space, transfer, verify."""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.utils import WeakFileLock

from app.hub.cache import RepoCache, default_cache_dir, keep_aside, link_into_snapshot
from app.hub.diskspace import FreeSpace, SpaceNeed, check_free_space, conversion_margin, free_bytes
from app.hub.errors import (
    DiskWriteError,
    DownloadCancelled,
    HubError,
    HubServerError,
    HubUnreachableError,
    NotEnoughDiskSpaceError,
    OfflineModeError,
)
from app.hub.network import http_status, offline_requested, translate
from app.hub.progress import ProgressCallback, ProgressTracker
from app.hub.safety import UnsafeAnswerError, check_filename, inside
from app.hub.sources import (
    AUTO,
    SOURCE_LABELS,
    FetchContext,
    ProbeResult,
    RemoteFile,
    Source,
    SourceChoice,
    SourceOffline,
    get_source,
    probe_sources,
    ref_name,
    session,
    source_endpoint,
)
from app.hub.state import complete_snapshots, source_commit
from app.hub.transfer import TransferCancelled, TransferFailed, TransferSettings, transfer
from app.hub.verify import check_or_keep_aside
from app.internlm2.catalog import CatalogModel, SourceRef
from app.sentences import say

log = logging.getLogger(__name__)

MODEL_DEFAULT = "model-default"
"""`quant` value meaning: plan disk space for the catalog's default GGUF type of the model."""

_WEIGHT_SUFFIXES = (".safetensors", ".bin")
_URL_REFRESHES = 2  # new CDN addresses asked for when a signed one expires mid-download

SourceCallback = Callable[[SourceChoice], None]
"""Told which source a download uses (and, when chosen automatically, how each answered)."""

__all__ = ["MODEL_DEFAULT", "DownloadResult", "ModelDownloader", "RemoteFile", "SourceCallback"]


class NoSourceAnsweredError(HubUnreachableError):
    """Automatic choice: no source answered the probe."""

    def __init__(self, details: str) -> None:
        HubError.__init__(
            self, say("None of the model sources answered."),
            say("Check your internet connection, or set a mirror address in Settings if the hubs "
                "are blocked where you are."),
            details,
        )
        self.endpoint = ""


class NotOnSourceError(HubError):
    """The catalog does not list the model on the chosen source."""

    def __init__(self, model: CatalogModel, source: str) -> None:
        others = ", ".join(SOURCE_LABELS[s] for s in model.source_names)
        super().__init__(say("The catalog does not list {model} on {source}.", model=model.name,
                             source=SOURCE_LABELS.get(source, source)),
                         say("Choose one of: {choices}.", choices=others))


@dataclass(frozen=True)
class DownloadResult:
    """Where a download ended up and exactly what it resolved to."""

    snapshot: Path
    source: str
    repo: str  # the model's id on that source
    revision: str  # the revision asked for (a branch, tag or commit)
    commit: str  # the commit it resolved to
    endpoint: str | None  # None: answered from the cache alone
    choice: SourceChoice | None = None


@dataclass
class ModelDownloader:
    """Downloads catalog models from one source (or the fastest to answer) into the HF cache.

    Each file streams into `blobs/<hash>.incomplete` (kept on cancel or a cut, continued with
    an HTTP Range request next time, from any source that announces the same hash), is checked
    against the announced size and sha256 (git sha1 for small git files), then renamed to
    `blobs/<hash>` and linked into the snapshot folder of the commit the source resolved.
    Blocking: run it on a worker thread; `cancel` stops it within a fraction of a second.
    """

    cache_dir: Path | None = None  # None: the standard huggingface-hub cache (shared with other tools)
    endpoint: str | None = None  # the address of `source`; None: its environment variable or public hub
    proxy: str | None = None  # e.g. "http://proxy:3128"; None: HTTPS_PROXY & co from the environment
    token: str | bool | None = None  # None: the token huggingface-hub has saved, if any
    offline: bool | None = None  # None: HF_HUB_OFFLINE
    conversion_dir: Path | None = None  # where the GGUF will be written; None: app.paths.models_dir()
    free_space: FreeSpace = free_bytes
    metadata_timeout: float = 5.0
    transfer_settings: TransferSettings = field(default_factory=TransferSettings)
    progress_interval: float = 0.1
    source: str = "huggingface"  # or AUTO: the fastest source to answer, the next ones if it fails
    endpoints: dict[str, str] = field(default_factory=dict)  # per source, for AUTO
    probe_timeout: float = 3.0

    def download(
        self,
        model: CatalogModel,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        quant: str | None = MODEL_DEFAULT,
        on_source: SourceCallback | None = None,
    ) -> Path:
        """Make every catalog file of `model` present and verified; return the snapshot folder.

        `quant` is the GGUF type the model will be converted to (its room is checked up front);
        None when no conversion will follow. Raises subclasses of HubError (a UserError).
        """
        return self.fetch(model, progress=progress, cancel=cancel, quant=quant,
                          on_source=on_source).snapshot

    def fetch(
        self,
        model: CatalogModel,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        quant: str | None = MODEL_DEFAULT,
        on_source: SourceCallback | None = None,
    ) -> DownloadResult:
        """As `download`, returning the source, revision and commit the files came from."""
        cancel = cancel or threading.Event()
        cache = RepoCache(self._cache_dir(), model.repo)
        for filename in model.files:  # the catalog is checked like any answer
            check_filename(filename, source="the catalog entry of " + model.id)
        if offline_requested(self.offline):
            return self._report_cached(model, self._from_cache(model, cache), progress)
        automatic = self.source == AUTO
        probes: tuple[ProbeResult, ...] = ()
        if automatic:
            probes = tuple(probe_sources(model, self.endpoints, proxy=self.proxy,
                                         timeout=self.probe_timeout, cancel=cancel))
            if cancel.is_set():
                raise DownloadCancelled(model.name)
            order = [p.source for p in probes if p.seconds is not None]
            if not order:
                cached = complete_snapshots(model, cache)
                if cached:
                    log.warning("no source answered; using the cached %s", model.id)
                    return self._report_cached(model, cached[0], progress)
                raise NoSourceAnsweredError("; ".join(p.describe() for p in probes))
        else:
            if model.on(self.source) is None:
                raise NotOnSourceError(model, self.source)
            order = [self.source]
        for i, name in enumerate(order):
            last = i == len(order) - 1
            choice = SourceChoice(name, automatic, probes, order[i - 1] if i else None)
            if on_source is not None:
                on_source(choice)
            try:
                return self._fetch_from(model, name, cache, progress, cancel, quant, choice, last)
            except (HubUnreachableError, HubServerError) as error:
                if last:
                    raise
                log.warning("%s failed (%s); trying %s", name, error, order[i + 1])
        raise AssertionError("unreachable")

    # -- steps ---------------------------------------------------------------------------
    def _endpoint_for(self, name: str) -> str:
        configured = self.endpoint if name == self.source and self.endpoint else self.endpoints.get(name)
        return source_endpoint(name, configured)

    def _fetch_from(
        self, model: CatalogModel, name: str, cache: RepoCache, progress: ProgressCallback | None,
        cancel: threading.Event, quant: str | None, choice: SourceChoice, last: bool,
    ) -> DownloadResult:
        ref = model.on(name)
        assert ref is not None
        endpoint = self._endpoint_for(name)
        source = get_source(name)
        client = session(self.proxy)
        ctx = FetchContext(endpoint, client, self.metadata_timeout, self.proxy, self.token, cancel)
        try:
            files = source.list_files(model, ref, ctx)
        except SourceOffline:
            raise self._offline_error(model, cache) from None
        except (HubUnreachableError, HubServerError):
            cached = complete_snapshots(model, cache)
            if cached and last:
                log.warning("%s unreachable; using the cached %s at %s", name, model.id, cached[0])
                return self._report_cached(model, cached[0], progress)
            raise
        commit = files[0].commit
        if source_commit(ref, None) not in (None, commit):  # a pinned commit must be what came back
            raise UnsafeAnswerError(endpoint, say("commit id (not the one asked for)"), commit, "")
        for path in (cache.blobs, cache.snapshot(commit), cache.ref(ref_name(ref)),
                     cache.lock(files[0].expected.etag)):
            inside(cache.cache_dir, path)  # a link planted in the cache never leads outside
        cache.write_ref(ref_name(ref), commit)

        done: dict[str, int] = {}
        partial = 0
        for f in files:
            blob = cache.blob(f.expected.etag)
            if _size(blob) == f.expected.size:
                done[f.expected.filename] = f.expected.size
            elif blob.exists():
                kept = keep_aside(blob, f.expected.filename, cache.cache_dir)
                log.warning("cached %s has the wrong size; kept aside as %s", blob, kept)
            partial += min(_size(cache.incomplete(f.expected.etag)), f.expected.size)
        total = sum(f.expected.size for f in files)
        remaining = total - sum(done.values()) - partial
        if remaining > 0:
            check_free_space(
                self._space_needs(model, files, cache, remaining, quant), self.free_space,
                kept_aside=(cache.blobs, cache.kept_aside_bytes()),
            )

        tracker = ProgressTracker(model.id, total, progress, interval=self.progress_interval)
        for size in done.values():
            tracker.skip(size)
        tracker.emit(force=True)
        headers = source.headers(ctx)
        for f in files:
            pointer = cache.pointer(commit, f.expected.filename)
            if f.expected.filename not in done:
                self._fetch_one(model, ref, source, f, cache, headers, tracker, ctx)
            if not os.path.isfile(pointer):
                link_into_snapshot(cache.blob(f.expected.etag), pointer, cache.cache_dir)
            cache.drop_kept_aside(f.expected.filename)  # the file is good now: the bad copy can go
        tracker.emit(force=True)
        return DownloadResult(cache.snapshot(commit), name, ref.repo, ref.revision, commit, endpoint,
                              choice)

    def _space_needs(
        self, model: CatalogModel, files: list[RemoteFile], cache: RepoCache, remaining: int,
        quant: str | None,
    ) -> list[SpaceNeed]:
        if quant == MODEL_DEFAULT:
            quant = model.default_quant
        weights = sum(f.expected.size for f in files if f.expected.filename.endswith(_WEIGHT_SUFFIXES))
        margin = conversion_margin(weights or model.size_bytes, quant)
        needs = [SpaceNeed(cache.blobs, remaining, "to download")]
        if margin:
            needs.append(SpaceNeed(self._conversion_dir(), margin, f"for the {quant} conversion"))
        return needs

    def _fetch_one(
        self, model: CatalogModel, ref: SourceRef, source: Source, f: RemoteFile, cache: RepoCache,
        headers: dict[str, str], tracker: ProgressTracker, ctx: FetchContext,
    ) -> None:
        etag = f.expected.etag
        blob, partial = cache.blob(etag), cache.incomplete(etag)
        for path in (blob, partial, cache.lock(etag)):
            inside(cache.cache_dir, path, filename=f.expected.filename)
        request_headers = dict(headers)
        if not f.same_origin:  # a signed CDN address: never send the hub token there
            request_headers.pop("authorization", None)
            request_headers.pop("Authorization", None)
        with self._lock(cache, etag, ctx.cancel, model):
            if _size(blob) == f.expected.size:  # another process finished it meanwhile
                tracker.skip(f.expected.size)
                return
            url = f.url
            for refresh in range(_URL_REFRESHES + 1):
                try:
                    hasher = transfer(
                        ctx.client, url, request_headers, partial, f.expected, tracker, ctx.cancel,
                        self.transfer_settings,
                    )
                    break
                except TransferCancelled:
                    raise DownloadCancelled(model.name) from None
                except TransferFailed as failed:
                    cause = failed.cause
                    if isinstance(cause, OfflineModeIsEnabled):
                        raise self._offline_error(model, cache) from None
                    if not isinstance(cause, (httpx2.HTTPError, HfHubHTTPError)):
                        needed = f.expected.size - _size(partial)
                        raise _disk_error(cause, partial, needed, self.free_space) from cause
                    if refresh < _URL_REFRESHES and http_status(cause) in (401, 403, 410):
                        fresh = source.fresh_url(model, ref, f, ctx)  # a signed address expired
                        if fresh is not None:
                            url = fresh
                            continue
                    raise translate(
                        cause, endpoint=ctx.endpoint, repo=ref.repo, revision=ref.revision,
                        filename=f.expected.filename, proxy=self.proxy,
                    ) from cause
            check_or_keep_aside(partial, f.expected, hasher, cache.cache_dir)
            os.replace(inside(cache.cache_dir, partial), inside(cache.cache_dir, blob))

    @contextmanager
    def _lock(
        self, cache: RepoCache, etag: str, cancel: threading.Event, model: CatalogModel,
    ) -> Iterator[None]:
        """huggingface-hub's lock for this blob, waited for in short steps so cancel still works."""
        path = cache.lock(etag)
        path.parent.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            while True:
                if cancel.is_set():
                    raise DownloadCancelled(model.name)
                try:
                    stack.enter_context(WeakFileLock(path, timeout=0.5))
                    break
                except TimeoutError:  # filelock.Timeout: another process is writing this blob
                    continue
            yield

    # -- the cache alone -----------------------------------------------------------------
    def _from_cache(self, model: CatalogModel, cache: RepoCache) -> tuple[str, str, Path]:
        cached = complete_snapshots(model, cache)
        if not cached:
            raise self._offline_error(model, cache)
        return cached[0]

    def _report_cached(
        self, model: CatalogModel, cached: tuple[str, str, Path], progress: ProgressCallback | None,
    ) -> DownloadResult:
        """Report a model found complete in the cache as one 100% event."""
        name, commit, snapshot = cached
        sizes = [_size(snapshot.joinpath(*f.split("/"))) for f in model.files]
        tracker = ProgressTracker(model.id, sum(sizes), progress)
        tracker.skip(sum(sizes))
        tracker.emit(force=True)
        ref = model.on(name)
        assert ref is not None
        return DownloadResult(snapshot, name, ref.repo, ref.revision, commit, None)

    def _offline_error(self, model: CatalogModel, cache: RepoCache) -> HubError:
        commit = cache.resolve(model.revision)
        missing = tuple(
            name for name in model.files
            if commit is None or not os.path.isfile(cache.pointer(commit, name))
        )
        return OfflineModeError(model.name, missing, cache.cache_dir)

    def _cache_dir(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()

    def _conversion_dir(self) -> Path:
        if self.conversion_dir is not None:
            return Path(self.conversion_dir)
        from app.paths import models_dir  # platformdirs; only needed for the default

        return models_dir()


def _disk_error(error: Exception, path: Path, needed: int, free_space: FreeSpace) -> HubError:
    """The typed error for a local failure while writing `path` (`needed` bytes still to write)."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        free = free_space(path.parent)
        return NotEnoughDiskSpaceError(
            path.parent, max(needed, free + 1), free, "the disk filled up during the download",
        )
    return DiskWriteError(path, str(error) or type(error).__name__)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
