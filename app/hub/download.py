"""Downloading a catalog model into the huggingface-hub cache: metadata, space, transfer, verify."""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from huggingface_hub import HfFileMetadata, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.utils import WeakFileLock, build_hf_headers

from app import APP_ID, __version__
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
from app.hub.network import (
    http_status,
    offline_requested,
    resolve_endpoint,
    same_origin,
    session,
    translate,
)
from app.hub.progress import ProgressCallback, ProgressTracker
from app.hub.safety import (
    UnsafeAnswerError,
    check_blob_name,
    check_commit,
    check_download_url,
    check_filename,
    check_size,
    inside,
)
from app.hub.transfer import TransferCancelled, TransferFailed, TransferSettings, transfer
from app.hub.verify import Expected, check_or_keep_aside
from app.internlm2.catalog import CatalogModel

log = logging.getLogger(__name__)

MODEL_DEFAULT = "model-default"
"""`quant` value meaning: plan disk space for the catalog's default GGUF type of the model."""

_WEIGHT_SUFFIXES = (".safetensors", ".bin")
_URL_REFRESHES = 2  # new CDN addresses asked for when a signed one expires mid-download


@dataclass(frozen=True)
class RemoteFile:
    """One file of the model as the hub describes it now."""

    expected: Expected
    url: str  # where the bytes come from (the CDN address for LFS files)
    commit: str
    same_origin: bool  # the bytes come from the hub itself (credentials may be sent)


@dataclass
class ModelDownloader:
    """Downloads catalog models with huggingface-hub's metadata, URLs, session and cache layout.

    Each file streams into `blobs/<etag>.incomplete` (kept on cancel or a cut, continued with
    an HTTP Range request next time), is checked against the hub's size and sha256 (git sha1
    for small git files), then renamed to `blobs/<etag>` and linked into the snapshot folder.
    Blocking: run it on a worker thread; `cancel` stops it within a fraction of a second.
    """

    cache_dir: Path | None = None  # None: the standard huggingface-hub cache (shared with other tools)
    endpoint: str | None = None  # None: HF_ENDPOINT, else https://huggingface.co
    proxy: str | None = None  # e.g. "http://proxy:3128"; None: HTTPS_PROXY & co from the environment
    token: str | bool | None = None  # None: the token huggingface-hub has saved, if any
    offline: bool | None = None  # None: HF_HUB_OFFLINE
    conversion_dir: Path | None = None  # where the GGUF will be written; None: app.paths.models_dir()
    free_space: FreeSpace = free_bytes
    metadata_timeout: float = 5.0
    transfer_settings: TransferSettings = field(default_factory=TransferSettings)
    progress_interval: float = 0.1

    def download(
        self,
        model: CatalogModel,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        quant: str | None = MODEL_DEFAULT,
    ) -> Path:
        """Make every catalog file of `model` present and verified; return the snapshot folder.

        `quant` is the GGUF type the model will be converted to (its room is checked up front);
        None when no conversion will follow. Raises subclasses of HubError (a UserError).
        """
        cancel = cancel or threading.Event()
        cache = RepoCache(self._cache_dir(), model.repo)
        for filename in model.files:  # the catalog is checked like any answer
            check_filename(filename, source="the catalog entry of " + model.id)
        if offline_requested(self.offline):
            return self._report_cached(model, self._from_cache(model, cache), progress)
        endpoint = resolve_endpoint(self.endpoint)
        try:
            files = self._metadata(model, endpoint, cancel)
        except (HubUnreachableError, HubServerError):
            cached = self._cached_snapshot(model, cache)
            if cached is not None:
                log.warning("hub unreachable; using the cached %s at %s", model.id, cached)
                return self._report_cached(model, cached, progress)
            raise
        commit = files[0].commit
        for folder in (cache.blobs, cache.snapshot(commit), cache.ref(model.revision), cache.lock(files[0].expected.etag)):
            inside(cache.cache_dir, folder)  # a link planted in the cache never leads outside
        cache.write_ref(model.revision, commit)

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
        client = session(self.proxy)
        headers = build_hf_headers(token=self.token, library_name=APP_ID, library_version=__version__)
        for f in files:
            pointer = cache.pointer(commit, f.expected.filename)
            if f.expected.filename not in done:
                self._fetch_one(model, f, cache, client, headers, tracker, cancel, endpoint)
            if not os.path.isfile(pointer):
                link_into_snapshot(cache.blob(f.expected.etag), pointer, cache.cache_dir)
            cache.drop_kept_aside(f.expected.filename)  # the file is good now: the bad copy can go
        tracker.emit(force=True)
        return cache.snapshot(commit)

    # -- steps ---------------------------------------------------------------------------
    def _metadata(self, model: CatalogModel, endpoint: str, cancel: threading.Event) -> list[RemoteFile]:
        """HEAD every file; the first answer pins the commit so all files come from one commit.

        Every value of the answers that becomes part of a local path or decides the check is
        validated here, before anything is written (app.hub.safety).
        """
        files: list[RemoteFile] = []
        revision = model.revision
        for filename in model.files:
            if cancel.is_set():
                raise DownloadCancelled(model.name)
            meta = self._file_metadata(model, filename, revision, endpoint)
            if meta.commit_hash is None or meta.etag is None or meta.size is None:
                raise HubServerError(
                    endpoint, filename, None,
                    "the answer lacks the hub's file headers (commit, ETag, size), "
                    "so this address may not be a hub or mirror",
                )
            commit = check_commit(meta.commit_hash, source=endpoint, filename=filename)
            if files and commit != files[0].commit:
                raise UnsafeAnswerError(endpoint, "commit id (not the one of the other files)",
                                        commit, filename)
            url = check_download_url(
                meta.location, hf_hub_url(model.repo, filename, revision=revision, endpoint=endpoint),
                source=endpoint, filename=filename,
            )
            files.append(
                RemoteFile(
                    expected=Expected(
                        filename,
                        check_size(meta.size, source=endpoint, filename=filename),
                        check_blob_name(meta.etag, source=endpoint, filename=filename),
                    ),
                    url=url,
                    commit=commit,
                    same_origin=same_origin(url, endpoint),
                )
            )
            revision = commit
        return files

    def _file_metadata(
        self, model: CatalogModel, filename: str, revision: str, endpoint: str,
    ) -> HfFileMetadata:
        """huggingface-hub's HEAD of one file, failures turned into typed errors."""
        url = hf_hub_url(model.repo, filename, revision=revision, endpoint=endpoint)
        session(self.proxy)  # make sure the proxy setting is in place for huggingface-hub
        try:
            return get_hf_file_metadata(
                url, token=self.token, timeout=self.metadata_timeout, endpoint=endpoint,
                library_name=APP_ID, library_version=__version__,
            )
        except OfflineModeIsEnabled:
            raise self._offline_error(model, RepoCache(self._cache_dir(), model.repo)) from None
        except Exception as error:  # every failure becomes a typed, user-facing error
            raise translate(
                error, endpoint=endpoint, repo=model.repo, revision=model.revision,
                filename=filename, proxy=self.proxy,
            ) from error

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
        self, model: CatalogModel, f: RemoteFile, cache: RepoCache, client: httpx2.Client,
        headers: dict[str, str], tracker: ProgressTracker, cancel: threading.Event, endpoint: str,
    ) -> None:
        etag = f.expected.etag
        blob, partial = cache.blob(etag), cache.incomplete(etag)
        for path in (blob, partial, cache.lock(etag)):
            inside(cache.cache_dir, path, filename=f.expected.filename)
        request_headers = dict(headers)
        if not f.same_origin:  # a signed CDN address: never send the hub token there
            request_headers.pop("authorization", None)
            request_headers.pop("Authorization", None)
        with self._lock(cache, etag, cancel, model):
            if _size(blob) == f.expected.size:  # another process finished it meanwhile
                tracker.skip(f.expected.size)
                return
            url = f.url
            for refresh in range(_URL_REFRESHES + 1):
                try:
                    hasher = transfer(
                        client, url, request_headers, partial, f.expected, tracker, cancel,
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
                    if (
                        refresh < _URL_REFRESHES and not f.same_origin
                        and http_status(cause) in (401, 403, 410)
                    ):  # the signed CDN address expired: ask the hub for a fresh one
                        fresh = self._file_metadata(model, f.expected.filename, f.commit, endpoint)
                        url = check_download_url(fresh.location, url, source=endpoint,
                                                 filename=f.expected.filename)
                        continue
                    raise translate(
                        cause, endpoint=endpoint, repo=model.repo, revision=model.revision,
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
    def _from_cache(self, model: CatalogModel, cache: RepoCache) -> Path:
        cached = self._cached_snapshot(model, cache)
        if cached is None:
            raise self._offline_error(model, cache)
        return cached

    def _cached_snapshot(self, model: CatalogModel, cache: RepoCache) -> Path | None:
        commit = cache.resolve(model.revision)
        if commit is None:
            return None
        if all(os.path.isfile(cache.pointer(commit, name)) for name in model.files):
            return cache.snapshot(commit)
        return None

    def _report_cached(
        self, model: CatalogModel, snapshot: Path, progress: ProgressCallback | None,
    ) -> Path:
        """Report a model found complete in the cache as one 100% event."""
        sizes = [_size(snapshot.joinpath(*name.split("/"))) for name in model.files]
        tracker = ProgressTracker(model.id, sum(sizes), progress)
        tracker.skip(sum(sizes))
        tracker.emit(force=True)
        return snapshot

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
