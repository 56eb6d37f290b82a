"""The download core (app.hub) against a fake hub on 127.0.0.1: progress, resume, cancel, errors."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import hf_hub_download, scan_cache_dir, try_to_load_from_cache

from app.errors import UserError
from app.hub import (
    BadEndpointError,
    ChecksumMismatchError,
    DownloadCancelled,
    DownloadProgress,
    HubServerError,
    HubUnreachableError,
    ModelDownloader,
    NotEnoughDiskSpaceError,
    OfflineModeError,
    RemoteFileNotFoundError,
    Status,
    TransferSettings,
    catalog_states,
    conversion_margin,
    model_state,
)
from app.hub.cache import RepoCache
from app.hub.diskspace import SAFETY_SLACK, SpaceNeed, check_free_space
from app.hub.verify import Expected, verify_file
from app.internlm2.catalog import CatalogModel
from tests.fakehub import FakeHub, closed_port_endpoint

BIG = "model.safetensors"
CHUNK = 64 * 1024
PLENTY = 10**15


# -- fixtures -------------------------------------------------------------------------------
class ForeignSocket(AssertionError):
    """A test tried to reach something other than 127.0.0.1."""


@pytest.fixture(autouse=True)
def local_sockets_only(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Refuse (and record) every TCP connection or name lookup that is not 127.0.0.1."""
    opened: list[tuple[str, int]] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host, port = address[0], address[1]
            if host != "127.0.0.1":
                raise ForeignSocket(f"connection to {host}:{port} attempted")
            opened.append((host, port))

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", b"127.0.0.1"):
            raise ForeignSocket(f"name lookup of {host!r} attempted")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return opened


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub() as fake:
        yield fake


def catalog_entry(fake: FakeHub, extra_files: tuple[str, ...] = ()) -> CatalogModel:
    return CatalogModel(
        id="tiny", name="Tiny Model", repo=fake.repo_id, revision="main", kind="chat",
        recommended=False, summary="", files=tuple(fake.files) + extra_files,
        size_bytes=sum(len(f.data) for f in fake.files.values()), default_quant="q4_k_m",
        licence="",
    )


@pytest.fixture
def model(hub: FakeHub) -> CatalogModel:
    return catalog_entry(hub)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "hf-cache"


@pytest.fixture
def make_downloader(
    hub: FakeHub, cache_dir: Path, tmp_path: Path,
) -> Callable[..., ModelDownloader]:
    def make(**overrides: Any) -> ModelDownloader:
        settings = overrides.pop("transfer_settings", None) or TransferSettings(
            connect_timeout=2.0, read_timeout=2.0, retries=2, chunk_size=CHUNK,
        )
        options: dict[str, Any] = {
            "cache_dir": cache_dir,
            "endpoint": hub.endpoint,
            "offline": False,
            "conversion_dir": tmp_path / "models",
            "free_space": lambda path: PLENTY,
            "metadata_timeout": 2.0,
            "transfer_settings": settings,
            "progress_interval": 0.0,
        }
        options.update(overrides)
        return ModelDownloader(**options)

    return make


def served(hub: FakeHub, name: str) -> bytes:
    return hub.files[name].data


def partial_path(hub: FakeHub, cache_dir: Path, name: str) -> Path:
    return RepoCache(cache_dir, hub.repo_id).incomplete(hub.files[name].etag)


# -- a normal download --------------------------------------------------------------------
def test_download_reports_progress_to_100_percent_and_files_match(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    cache_dir: Path,
) -> None:
    hub.throttle_bps = 10_000_000  # slow enough to measure a speed
    events: list[DownloadProgress] = []
    snapshot = make_downloader(progress_interval=0.1).download(model, progress=events.append)

    total = sum(len(f.data) for f in hub.files.values())
    assert events[-1].bytes_done == events[-1].bytes_total == total
    assert events[-1].fraction == 1.0 and events[-1].seconds_left == 0.0
    done = [e.bytes_done for e in events]
    assert done == sorted(done), "progress went backwards"
    big = [e for e in events if e.file == BIG]
    assert big[-1].file_bytes_done == big[-1].file_bytes_total == len(served(hub, BIG))
    measured = [e for e in events if e.speed > 0 and e.seconds_left]
    assert measured and 1_000_000 < measured[-1].speed < 30_000_000, [e.speed for e in measured]
    for name in hub.files:
        assert (snapshot / name).read_bytes() == served(hub, name)
    assert snapshot == cache_dir / "models--fake-org--tiny-model" / "snapshots" / hub.commit
    assert not list(cache_dir.rglob("*.incomplete"))


def test_download_lands_in_the_standard_cache_that_huggingface_hub_reads(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    cache_dir: Path,
) -> None:
    snapshot = make_downloader().download(model)

    cached = try_to_load_from_cache(hub.repo_id, BIG, cache_dir=cache_dir, revision="main")
    assert cached == str(snapshot / BIG)
    offline_path = hf_hub_download(
        hub.repo_id, BIG, cache_dir=cache_dir, local_files_only=True,
    )
    assert Path(offline_path).read_bytes() == served(hub, BIG)
    info = scan_cache_dir(cache_dir)
    assert not info.warnings
    (repo,) = info.repos
    assert repo.size_on_disk == sum(len(f.data) for f in hub.files.values())


def test_second_download_transfers_nothing(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    first = make_downloader().download(model)
    hub.requests.clear()
    events: list[DownloadProgress] = []
    assert make_downloader().download(model, progress=events.append) == first
    assert not [r for r in hub.requests if r.method == "GET"]
    assert events[-1].fraction == 1.0


# -- resume -------------------------------------------------------------------------------
def test_cut_connection_resumes_with_a_range_request(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    half = len(served(hub, BIG)) // 2
    hub.drop_once(BIG, at_byte=half)
    events: list[DownloadProgress] = []

    snapshot = make_downloader().download(model, progress=events.append)

    first, second = hub.gets(BIG)
    assert first.range is None
    assert second.range_start is not None and half - CHUNK <= second.range_start <= half
    assert (snapshot / BIG).read_bytes() == served(hub, BIG)
    assert events[-1].bytes_done == events[-1].bytes_total  # nothing counted twice
    assert max(e.bytes_done for e in events) == events[-1].bytes_total


def test_restart_after_a_failed_download_continues_the_partial_file(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    cache_dir: Path,
) -> None:
    hub.drop_always(BIG, at_byte=len(served(hub, BIG)) // 3)  # retries get nothing more
    with pytest.raises(HubUnreachableError):
        make_downloader().download(model)
    partial = partial_path(hub, cache_dir, BIG)
    kept = partial.stat().st_size
    assert 0 < kept < len(served(hub, BIG))
    assert model_state(model, cache_dir).status is Status.PARTIAL

    hub.clear_faults()
    snapshot = make_downloader().download(model)  # a new downloader: as after an app restart

    assert hub.gets(BIG)[-1].range_start == kept
    assert (snapshot / BIG).read_bytes() == served(hub, BIG)


# -- cancel -------------------------------------------------------------------------------
def _cancel_when(
    cancel: threading.Event, condition: Callable[[DownloadProgress], bool], delay: float,
) -> tuple[Callable[[DownloadProgress], None], list[float]]:
    """A progress callback that sets `cancel` from another thread `delay` s after `condition`."""
    set_at: list[float] = []

    def fire() -> None:
        time.sleep(delay)
        set_at.append(time.monotonic())
        cancel.set()

    def on_progress(event: DownloadProgress) -> None:
        if condition(event) and not set_at and not cancel.is_set():
            set_at.append(0.0)  # before the thread starts: its time must come last
            threading.Thread(target=fire, daemon=True).start()

    return on_progress, set_at


def _assert_nothing_final(hub: FakeHub, cache_dir: Path, name: str) -> None:
    cache = RepoCache(cache_dir, hub.repo_id)
    assert not cache.blob(hub.files[name].etag).exists()
    assert not os.path.lexists(cache.pointer(hub.commit, name))
    partial = cache.incomplete(hub.files[name].etag)
    assert 0 < partial.stat().st_size < len(served(hub, name))


def test_cancel_stops_within_a_second_and_keeps_only_the_partial_file(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    cache_dir: Path,
) -> None:
    hub.throttle_bps = 1_000_000
    cancel = threading.Event()
    on_progress, set_at = _cancel_when(
        cancel, lambda e: e.file == BIG and e.file_bytes_done > 300_000, delay=0.0,
    )
    with pytest.raises(DownloadCancelled) as caught:
        make_downloader().download(model, progress=on_progress, cancel=cancel)
    stopped = time.monotonic()

    assert stopped - set_at[-1] < 1.0
    assert isinstance(caught.value, UserError) and "resumes" in str(caught.value)
    _assert_nothing_final(hub, cache_dir, BIG)
    assert model_state(model, cache_dir).status is Status.PARTIAL


def test_cancel_works_while_the_connection_is_stalled(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    cache_dir: Path,
) -> None:
    hub.stall(BIG, stage="cdn", at_byte=1_000_000)
    slow_timeouts = TransferSettings(connect_timeout=2.0, read_timeout=30.0, retries=2, chunk_size=CHUNK)
    cancel = threading.Event()
    on_progress, set_at = _cancel_when(
        cancel, lambda e: e.file == BIG and e.file_bytes_done >= 1_000_000 - CHUNK, delay=0.3,
    )
    with pytest.raises(DownloadCancelled):
        make_downloader(transfer_settings=slow_timeouts).download(
            model, progress=on_progress, cancel=cancel,
        )
    assert time.monotonic() - set_at[-1] < 1.0  # not the 30 s read timeout
    _assert_nothing_final(hub, cache_dir, BIG)
    kept = partial_path(hub, cache_dir, BIG).stat().st_size

    hub.clear_faults()
    snapshot = make_downloader().download(model)
    assert hub.gets(BIG)[-1].range_start == kept
    assert (snapshot / BIG).read_bytes() == served(hub, BIG)


# -- verification -------------------------------------------------------------------------
@pytest.mark.parametrize("name", [BIG, "config.json"])  # sha256 (LFS) and git sha1 (git file)
def test_checksum_mismatch_keeps_the_bad_file_aside(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    cache_dir: Path, name: str,
) -> None:
    hub.corrupt(name)
    with pytest.raises(ChecksumMismatchError) as caught:
        make_downloader().download(model)

    error = caught.value
    assert isinstance(error, UserError)
    assert error.kept_at.exists() and ".bad-" in error.kept_at.name
    assert error.kept_at.name.startswith(name)
    bad = error.kept_at.read_bytes()
    assert len(bad) == len(served(hub, name)) and bad != served(hub, name)
    assert str(error.kept_at) in str(error) and "kept aside" in str(error)
    cache = RepoCache(cache_dir, hub.repo_id)
    assert not cache.blob(hub.files[name].etag).exists()
    assert not cache.incomplete(hub.files[name].etag).exists()
    assert not os.path.lexists(cache.pointer(hub.commit, name))

    expected = Expected(name, len(served(hub, name)), hub.files[name].etag)
    assert not verify_file(error.kept_at, expected)
    hub.clear_faults()  # a new attempt downloads it cleanly; the bad copy is no longer needed
    snapshot = make_downloader().download(model)
    assert (snapshot / name).read_bytes() == served(hub, name)
    assert verify_file(snapshot / name, expected)
    assert not error.kept_at.exists() and cache.kept_aside(name) == []


# -- hub errors ---------------------------------------------------------------------------
def _raises_fast(kind: type[Exception], call: Callable[[], object], limit: float = 3.0) -> Exception:
    start = time.monotonic()
    with pytest.raises(kind) as caught:
        call()
    assert time.monotonic() - start < limit
    assert isinstance(caught.value, UserError)
    return caught.value


def test_missing_file_is_a_typed_404_error(
    hub: FakeHub, make_downloader: Callable[..., ModelDownloader],
) -> None:
    model = catalog_entry(hub, extra_files=("missing.json",))
    error = _raises_fast(RemoteFileNotFoundError, lambda: make_downloader().download(model))
    assert "missing.json" in str(error) and "404" in str(error)


def test_plain_404_from_a_mirror_is_the_same_typed_error(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    hub.fail(404, filename="config.json")
    _raises_fast(RemoteFileNotFoundError, lambda: make_downloader().download(model))


@pytest.mark.parametrize("stage", ["resolve", "cdn"])
def test_server_error_is_typed_and_fast(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    stage: str,
) -> None:
    hub.fail(500, filename=BIG, stage=stage)
    error = _raises_fast(HubServerError, lambda: make_downloader().download(model))
    assert isinstance(error, HubServerError) and error.status == 500
    assert "500" in str(error)


def test_unreachable_hub_is_typed_and_fast(
    model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    error = _raises_fast(
        HubUnreachableError, lambda: make_downloader(endpoint=closed_port_endpoint()).download(model),
    )
    assert "Could not reach" in str(error)


def test_hub_that_never_answers_times_out(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    hub.stall(None, stage="resolve")
    _raises_fast(HubUnreachableError, lambda: make_downloader(metadata_timeout=1.0).download(model))


def test_transfer_that_stalls_gives_up_with_a_typed_error(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    hub.stall(BIG, stage="cdn", at_byte=100_000)
    quick = TransferSettings(connect_timeout=1.0, read_timeout=0.5, retries=1, chunk_size=CHUNK)
    _raises_fast(
        HubUnreachableError, lambda: make_downloader(transfer_settings=quick).download(model),
        limit=6.0,
    )


# -- disk space ---------------------------------------------------------------------------
def test_full_disk_is_refused_before_any_byte_is_downloaded(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    downloader = make_downloader(free_space=lambda path: 1_000_000)
    with pytest.raises(NotEnoughDiskSpaceError) as caught:
        downloader.download(model)
    error = caught.value
    assert error.free == 1_000_000 and error.needed > error.free
    assert "1.0 MB free" in str(error) and "needed" in str(error)
    assert not [r for r in hub.requests if r.method == "GET"]


def test_disk_check_counts_the_conversion_margin(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    assert conversion_margin(3_780_000_000, "f16") == 3_780_000_000
    assert 1_100_000_000 < conversion_margin(3_780_000_000, "q4_k_m") < 1_300_000_000
    download = sum(len(f.data) for f in hub.files.values())
    margin = conversion_margin(len(served(hub, BIG)), "q4_k_m")  # the catalog's default type
    room = download + SAFETY_SLACK + margin // 2  # the files fit; files plus conversion do not
    downloader = make_downloader(free_space=lambda path: room)

    with pytest.raises(NotEnoughDiskSpaceError) as caught:
        downloader.download(model)
    assert "q4_k_m conversion" in str(caught.value)
    assert downloader.download(model, quant=None).is_dir()  # no conversion planned: it fits


def test_space_needs_on_one_disk_add_up(tmp_path: Path) -> None:
    needs = [SpaceNeed(tmp_path / "a", 600, "to download"), SpaceNeed(tmp_path / "b", 600, "x")]
    check_free_space(needs[:1], free_space=lambda path: 1000 + SAFETY_SLACK)
    with pytest.raises(NotEnoughDiskSpaceError):
        check_free_space(needs, free_space=lambda path: 1000 + SAFETY_SLACK)


# -- offline mode -------------------------------------------------------------------------
def test_offline_mode_uses_only_the_cache(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineModeError) as caught:
        make_downloader(offline=None).download(model)
    assert "Offline mode is on" in str(caught.value) and "config.json" in str(caught.value)
    assert BIG in caught.value.missing
    assert hub.requests == []

    monkeypatch.delenv("HF_HUB_OFFLINE")
    snapshot = make_downloader(offline=None).download(model)
    hub.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    events: list[DownloadProgress] = []
    assert make_downloader(offline=None).download(model, progress=events.append) == snapshot
    assert hub.requests == []
    assert events[-1].fraction == 1.0


# -- state --------------------------------------------------------------------------------
def test_model_state_follows_the_download(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    cache_dir: Path,
) -> None:
    assert model_state(model, cache_dir).status is Status.NOT_DOWNLOADED
    hub.drop_always(BIG, at_byte=500_000)
    with pytest.raises(HubUnreachableError):
        make_downloader().download(model)
    partial = model_state(model, cache_dir)
    assert partial.status is Status.PARTIAL and partial.snapshot is None
    assert BIG in partial.missing
    assert partial.bytes_present >= 500_000 - CHUNK
    assert "partially downloaded" in partial.describe()

    hub.clear_faults()
    snapshot = make_downloader().download(model)
    state = model_state(model, cache_dir)
    assert state.status is Status.DOWNLOADED and state.snapshot == snapshot
    assert state.bytes_present == sum(len(f.data) for f in hub.files.values())


def test_catalog_states_of_an_empty_cache(tmp_path: Path) -> None:
    states = catalog_states(cache_dir=tmp_path)
    assert len(states) == 3
    assert {s.status for s in states} == {Status.NOT_DOWNLOADED}
    assert all(s.bytes_present == 0 for s in states)


# -- network settings ---------------------------------------------------------------------
def test_proxy_setting_carries_every_request(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    dead = closed_port_endpoint()  # only reachable through the proxy
    snapshot = make_downloader(endpoint=dead, proxy=hub.endpoint).download(model)
    assert (snapshot / BIG).read_bytes() == served(hub, BIG)
    assert hub.requests and all(r.proxied for r in hub.requests)
    hub.requests.clear()
    make_downloader(proxy=None).download(catalog_entry(hub))  # back to direct connections
    assert not any(r.proxied for r in hub.requests)


def test_token_goes_to_the_hub_but_never_to_the_cdn(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    make_downloader(token="hf_not_a_real_token").download(model)
    assert all(r.authorized for r in hub.requests if r.server == "hub")
    cdn = [r for r in hub.requests if r.server == "cdn"]
    assert cdn and not any(r.authorized for r in cdn)


def test_no_connection_leaves_127_0_0_1(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    local_sockets_only: list[tuple[str, int]],
) -> None:
    with pytest.raises(ForeignSocket):
        socket.create_connection(("192.0.2.1", 443), timeout=0.5)
    make_downloader().download(model)
    assert local_sockets_only and {host for host, _ in local_sockets_only} == {"127.0.0.1"}


# -- robustness ---------------------------------------------------------------------------
def test_expired_cdn_address_is_refreshed_and_the_download_continues(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
) -> None:
    hub.drop_once(BIG, at_byte=1_000_000)
    hub.fail(403, filename=BIG, stage="cdn", times=1)  # the signed address has expired
    snapshot = make_downloader().download(model)
    assert (snapshot / BIG).read_bytes() == served(hub, BIG)
    heads = [r for r in hub.requests if r.method == "HEAD" and r.path.endswith("/" + BIG)]
    assert len(heads) == 2  # the first metadata call, then one for a fresh address
    assert hub.gets(BIG)[-1].range_start is not None


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_disk_filling_up_during_the_download_is_a_typed_error(
    hub: FakeHub, model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    cache_dir: Path,
) -> None:
    partial = partial_path(hub, cache_dir, BIG)
    partial.parent.mkdir(parents=True)
    partial.symlink_to("/dev/full")  # every write fails with ENOSPC
    with pytest.raises(NotEnoughDiskSpaceError) as caught:
        make_downloader().download(model)
    assert "filled up" in str(caught.value)


@pytest.mark.parametrize("address", ["huggingface.co", "ftp://mirror.example", ""])
def test_bad_hub_address_setting_is_explained(
    model: CatalogModel, make_downloader: Callable[..., ModelDownloader],
    monkeypatch: pytest.MonkeyPatch, address: str,
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", address or "not a url")
    with pytest.raises(BadEndpointError) as caught:
        make_downloader(endpoint=address or None).download(model)
    assert isinstance(caught.value, UserError) and "https://" in str(caught.value)
