"""Model sources against local fakes of each hub: one cache, resume across sources, auto choice, faults."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.errors import UserError
from app.hub import ChecksumMismatchError, HubUnreachableError, Status, model_state
from app.hub.cache import RepoCache
from app.hub.download import ModelDownloader, NoSourceAnsweredError
from app.hub.manager import HubSettings, ModelManager
from app.hub.sources import AUTO, SourceChoice
from app.hub.transfer import TransferSettings
from app.internlm2.catalog import CatalogModel
from tests.fakehub import FakeHub, closed_port_endpoint
from tests.fakesources import FakeApiHub, FakeModelScope, FakeOpenXLab
from tests.hub_helpers import Home, catalog_files, make_home
from tests.tinyhub import CHAT_ID, block_foreign_sockets, catalog_chat_model

BIG = "model-00002-of-00002.safetensors"
QUICK = TransferSettings(connect_timeout=2.0, read_timeout=2.0, retries=1, chunk_size=64 * 1024)


@pytest.fixture
def model() -> CatalogModel:
    return catalog_chat_model()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    block_foreign_sockets(monkeypatch)
    for var in ("MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN", "OPENXLAB_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    return make_home(tmp_path, monkeypatch)


@pytest.fixture
def files(model: CatalogModel) -> dict[str, bytes]:
    return catalog_files(model)


def _fake(kind: str, model: CatalogModel, files: dict[str, bytes]) -> FakeHub | FakeApiHub:
    ref = model.on(kind)
    assert ref is not None
    if kind == "huggingface":
        return FakeHub(repo_id=ref.repo, files=files, revision=ref.revision)
    cls = FakeModelScope if kind == "modelscope" else FakeOpenXLab
    return cls(ref.repo, files, ref.revision)


@pytest.fixture
def fakes(model: CatalogModel, files: dict[str, bytes]) -> Iterator[dict[str, Any]]:
    servers = {kind: _fake(kind, model, files) for kind in model.source_names}
    for server in servers.values():
        server.__enter__()
    try:
        yield servers
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)


def downloader(home: Home, source: str, endpoints: dict[str, str], **extra: Any) -> ModelDownloader:
    options: dict[str, Any] = {
        "cache_dir": home.cache, "offline": False, "conversion_dir": home.root / "models",
        "free_space": lambda path: 10**15, "metadata_timeout": 2.0, "transfer_settings": QUICK,
        "progress_interval": 0.0, "source": source, "endpoints": endpoints, "probe_timeout": 2.0,
    }
    options.update(extra)
    return ModelDownloader(**options)


def endpoints_of(fakes: dict[str, Any]) -> dict[str, str]:
    return {kind: server.endpoint for kind, server in fakes.items()}


def big_gets(server: Any) -> list[Any]:
    return server.gets(BIG) if isinstance(server, FakeHub) else server.byte_gets(BIG)


# -- every source downloads the model into the one cache folder --------------------------------
@pytest.mark.parametrize("kind", ["huggingface", "modelscope", "openxlab"])
def test_each_source_downloads_verified_files_into_the_one_cache_folder(
    home: Home, model: CatalogModel, files: dict[str, bytes], fakes: dict[str, Any], kind: str,
) -> None:
    result = downloader(home, kind, endpoints_of(fakes)).fetch(model)
    assert result.source == kind and result.commit == fakes[kind].commit
    assert result.snapshot.parent.parent == RepoCache(home.cache, model.repo).root
    for name, data in files.items():
        assert (result.snapshot / name).read_bytes() == data
    state = model_state(model, home.cache)
    assert state.status is Status.DOWNLOADED and state.source == kind and state.commit == result.commit


def test_the_same_files_from_another_source_are_not_downloaded_again(
    home: Home, model: CatalogModel, fakes: dict[str, Any],
) -> None:
    downloader(home, "huggingface", endpoints_of(fakes)).fetch(model)
    for kind in ("modelscope", "openxlab"):
        result = downloader(home, kind, endpoints_of(fakes)).fetch(model)
        assert result.source == kind
        assert big_gets(fakes[kind]) == [], f"{kind} fetched the weights the cache already holds"
    blobs = RepoCache(home.cache, model.repo).blobs
    weights = {f.sha256 for f in fakes["huggingface"].files.values() if f.name.endswith(".safetensors")}
    large = {p.name for p in blobs.iterdir() if p.stat().st_size == 300_000}
    assert large == weights  # one copy of each weights file, whatever the source


# -- a download started on one source finishes from another -------------------------------------
@pytest.mark.parametrize("second", ["modelscope", "openxlab"])
def test_a_partial_file_from_one_source_is_finished_by_another_with_the_same_hash(
    home: Home, model: CatalogModel, files: dict[str, bytes], fakes: dict[str, Any], second: str,
) -> None:
    hf = fakes["huggingface"]
    hf.drop_always(BIG, at_byte=len(files[BIG]) // 3)
    with pytest.raises(HubUnreachableError):
        downloader(home, "huggingface", endpoints_of(fakes)).fetch(model)
    partial = RepoCache(home.cache, model.repo).incomplete(hf.files[BIG].sha256)
    kept = partial.stat().st_size
    assert 0 < kept < len(files[BIG])

    result = downloader(home, second, endpoints_of(fakes)).fetch(model)
    (get,) = big_gets(fakes[second])
    assert get.range_start == kept  # continued, not started over
    assert (result.snapshot / BIG).read_bytes() == files[BIG]


def test_a_different_file_under_the_same_name_is_never_mixed_with_a_partial_one(
    home: Home, model: CatalogModel, files: dict[str, bytes], fakes: dict[str, Any],
) -> None:
    hf = fakes["huggingface"]
    hf.drop_always(BIG, at_byte=len(files[BIG]) // 2)
    with pytest.raises(HubUnreachableError):
        downloader(home, "huggingface", endpoints_of(fakes)).fetch(model)
    other = dict(files)
    other[BIG] = bytes(b ^ 0x5A for b in files[BIG])  # same name and size, other bytes and hash
    with FakeModelScope(model.on("modelscope").repo, other, "master") as ms:  # type: ignore[union-attr]
        result = downloader(home, "modelscope", {"modelscope": ms.endpoint}).fetch(model)
        (get,) = ms.byte_gets(BIG)
    assert get.range is None  # started from byte 0: the other hash names another blob
    assert (result.snapshot / BIG).read_bytes() == other[BIG]


def test_a_source_serving_other_bytes_than_it_lists_is_refused_and_nothing_outside_changes(
    home: Home, model: CatalogModel, files: dict[str, bytes], fakes: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = home.before()
    for kind in ("modelscope", "openxlab"):
        fakes[kind].substitute(BIG, files[BIG][::-1])
        capsys.readouterr()
        rc = main(["download", CHAT_ID, "--quiet", "--source", kind, "--endpoint", fakes[kind].endpoint,
                   "--cache-dir", str(home.cache)])
        err = capsys.readouterr().err
        assert rc == 1 and err.count("\n") == 1 and "is damaged" in err, err
        assert home.before() == before
    with pytest.raises(ChecksumMismatchError):
        downloader(home, "modelscope", endpoints_of(fakes)).fetch(model)


# -- down and slow sources ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["huggingface", "modelscope", "openxlab"])
def test_a_source_that_is_down_is_a_one_line_error(
    home: Home, kind: str, capsys: pytest.CaptureFixture[str],
) -> None:
    rc = main(["download", CHAT_ID, "--quiet", "--source", kind, "--endpoint", closed_port_endpoint(),
               "--cache-dir", str(home.cache)])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "Could not reach" in err, err


@pytest.mark.parametrize("kind", ["modelscope", "openxlab"])
def test_a_source_that_never_answers_is_given_up_on_in_bounded_time(
    home: Home, model: CatalogModel, fakes: dict[str, Any], kind: str,
) -> None:
    fakes[kind].stall()
    start = time.monotonic()
    with pytest.raises(HubUnreachableError) as caught:
        downloader(home, kind, endpoints_of(fakes), metadata_timeout=1.0).fetch(model)
    assert time.monotonic() - start < 10, "a stalled source must be bounded by the timeout"
    assert "no answer in time" in str(caught.value)


# -- the automatic choice ------------------------------------------------------------------------
def test_auto_picks_a_source_that_answers_and_says_which(
    home: Home, model: CatalogModel, files: dict[str, bytes], fakes: dict[str, Any],
) -> None:
    fakes["modelscope"].stall()  # slow: no answer within the probe time
    endpoints = endpoints_of(fakes)
    endpoints["huggingface"] = closed_port_endpoint()  # down
    choices: list[SourceChoice] = []
    start = time.monotonic()
    result = downloader(home, AUTO, endpoints).fetch(model, on_source=choices.append)
    assert time.monotonic() - start < 15, "the probes must be bounded"
    assert result.source == "openxlab" and (result.snapshot / BIG).read_bytes() == files[BIG]
    (choice,) = choices
    sentence = choice.sentence()
    assert choice.automatic and "OpenXLab" in sentence and "fastest" in sentence
    assert "ModelScope: no answer within 2 s" in sentence and "Hugging Face:" in sentence


def test_auto_with_no_source_answering_says_so_per_source(home: Home, model: CatalogModel) -> None:
    dead = {kind: closed_port_endpoint() for kind in model.source_names}
    with pytest.raises(NoSourceAnsweredError) as caught:
        downloader(home, AUTO, dead).fetch(model)
    text = str(caught.value)
    assert isinstance(caught.value, UserError)
    assert all(label in text for label in ("Hugging Face:", "ModelScope:", "OpenXLab:")), text


def test_auto_continues_from_the_next_source_when_the_first_fails(
    home: Home, model: CatalogModel, files: dict[str, bytes], fakes: dict[str, Any],
) -> None:
    hf, ms = fakes["huggingface"], fakes["modelscope"]
    hf.drop_always(BIG, at_byte=len(files[BIG]) // 4)  # answers probes, fails the weights
    gate = threading.Event()  # ModelScope answers its probe only after Hugging Face did
    ms.probe_gate = gate
    original = hf.body

    def body(*args: Any, **kwargs: Any) -> Any:
        gate.set()
        return original(*args, **kwargs)

    hf.body = body  # type: ignore[method-assign]  # the probe GETs config.json: its body sets the gate
    endpoints = endpoints_of(fakes)
    endpoints["openxlab"] = closed_port_endpoint()
    choices: list[SourceChoice] = []
    result = downloader(home, AUTO, endpoints, probe_timeout=5.0).fetch(model, on_source=choices.append)
    assert [c.source for c in choices] == ["huggingface", "modelscope"]
    assert "Hugging Face failed; continuing from ModelScope" in choices[1].sentence()
    assert result.source == "modelscope" and (result.snapshot / BIG).read_bytes() == files[BIG]
    (get,) = ms.byte_gets(BIG)
    assert get.range_start is not None and get.range_start > 0  # the partial file was continued


# -- the command line and the registry -------------------------------------------------------
def test_cli_records_the_resolved_commit_and_models_shows_it(
    home: Home, fakes: dict[str, Any], capsys: pytest.CaptureFixture[str],
) -> None:
    ms = fakes["modelscope"]
    capsys.readouterr()
    assert main(["download", CHAT_ID, "--quiet", "--source", "modelscope", "--endpoint", ms.endpoint,
                 "--cache-dir", str(home.cache)]) == 0
    out = capsys.readouterr().out
    assert f"from ModelScope (Shanghai_AI_Laboratory/internlm2-chat-1_8b master = commit {ms.commit})" in out
    assert main(["models", "--json", "--cache-dir", str(home.cache)]) == 0
    rows = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    row = rows[CHAT_ID]
    assert (row["state"], row["source"], row["commit"]) == ("downloaded", "modelscope", ms.commit)
    assert row["source_revision"] == "master"
    assert main(["models", "--cache-dir", str(home.cache)]) == 0
    assert f"source  modelscope (Shanghai_AI_Laboratory/internlm2-chat-1_8b master = commit {ms.commit})" \
        in capsys.readouterr().out


def test_cli_auto_says_which_source_it_chose(
    home: Home, fakes: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var, kind in (("HF_ENDPOINT", "huggingface"), ("MODELSCOPE_ENDPOINT", "modelscope"),
                      ("OPENXLAB_ENDPOINT", "openxlab")):
        monkeypatch.setenv(var, fakes[kind].endpoint)
    capsys.readouterr()
    assert main(["download", CHAT_ID, "--quiet", "--source", "auto", "--cache-dir", str(home.cache)]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("Downloading from ") and "the fastest source to answer" in captured.err
    assert captured.err.count("\n") == 1, captured.err
    chosen = captured.err.split("Downloading from ")[1].split(",")[0]
    assert f"Downloaded InternLM2-Chat-1.8B from {chosen} (" in captured.out


def test_endpoint_with_auto_is_refused_in_one_line(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["download", CHAT_ID, "--source", "auto", "--endpoint", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--source" in err


def test_manager_records_one_download_per_source(
    home: Home, model: CatalogModel, fakes: dict[str, Any], tmp_path: Path,
) -> None:
    for kind in ("openxlab", "huggingface"):
        manager = ModelManager(HubSettings(endpoint=fakes[kind].endpoint, offline=False, cache_dir=home.cache,
                                           source=kind), models_dir=tmp_path / "models",
                               free_space=lambda path: 10**15, transfer_settings=QUICK)
        manager.fetch(model)
    records = manager.registry.downloads(model.id)
    assert {(r.source, r.commit) for r in records} == {
        ("openxlab", fakes["openxlab"].commit), ("huggingface", fakes["huggingface"].commit)}
    last = manager.last_download(model)
    assert last is not None and last.source == "huggingface"
