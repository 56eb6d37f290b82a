"""The model manager core and its worker: download -> convert -> register -> load, against a fake hub."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.engine.loader import LoadSpec, open_backend
from app.engine.types import Finished, GenerateRequest, TextPiece
from app.errors import UserError
from app.hub import DownloadProgress, HubServerError, TransferSettings
from app.hub.manager import (
    SETTING_ENDPOINT,
    SETTING_OFFLINE,
    SETTING_PROXY,
    SETTING_SOURCE,
    HubSettings,
    ModelManager,
    ModelManagerError,
    Phase,
)
from app.hub.recommend import Hardware, detect_hardware, recommend
from app.hub.registry import DownloadRecord, LocalModel, ModelRegistry
from app.internlm2.catalog import load_catalog
from app.internlm2.chat_format import Message, Sampling, build_chat_prompt, stop_ids
from app.internlm2.errors import ExportCancelled
from app.internlm2.tokenizer import InternLM2Tokenizer
from app.storage import ConversationStore
from app.ui.models.model_jobs import ModelJobs
from tests.fakehub import FakeHub
from tests.tinyhub import CHAT_ID, block_foreign_sockets, catalog_chat_model, tiny_hub

SMALL_CHUNKS = TransferSettings(connect_timeout=2.0, read_timeout=2.0, retries=1, chunk_size=16 * 1024)


@pytest.fixture(autouse=True)
def _no_foreign_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    block_foreign_sockets(monkeypatch)


@pytest.fixture
def hub(tiny_model: Path) -> Iterator[FakeHub]:
    with tiny_hub(tiny_model) as fake:
        yield fake


@pytest.fixture
def manager(hub: FakeHub, tmp_path: Path) -> ModelManager:
    return ModelManager(HubSettings(endpoint=hub.endpoint, offline=False, cache_dir=tmp_path / "hf"),
                        models_dir=tmp_path / "models", transfer_settings=SMALL_CHUNKS)


def reply(gguf: Path, folder: Path, n: int = 4) -> tuple[str, int]:
    """Load `gguf` and answer one question greedily with at most `n` new tokens."""
    tok = InternLM2Tokenizer.from_folder(folder)
    ids = build_chat_prompt([Message("user", "Hello?")]).ids(tok)
    backend = open_backend(LoadSpec(gguf, n_ctx=256, n_threads=1))
    try:
        request = GenerateRequest(ids, Sampling(temperature=0.0, max_new_tokens=n),
                                  frozenset(stop_ids(tok, chat=True)))
        events = list(backend.generate(request))
    finally:
        backend.unload()
    done = events[-1]
    assert isinstance(done, Finished)
    assert "".join(e.text for e in events if isinstance(e, TextPiece)) == done.text
    return done.text, done.stats.new_tokens


# -- the core ----------------------------------------------------------------------------------
def test_download_convert_register_then_delete_follows_the_states(
        manager: ModelManager, tiny_model: Path) -> None:
    model = manager.find(CHAT_ID)
    assert manager.overview(model).phase is Phase.NOT_DOWNLOADED
    events: list[DownloadProgress] = []
    snapshot = manager.download(model, progress=events.append, convert_to="q8_0")
    assert events[-1].fraction == 1.0 and events[-1].bytes_total == sum(
        (tiny_model / name).stat().st_size for name in model.files)
    assert sorted(p.name for p in snapshot.iterdir()) == sorted(model.files)
    assert manager.overview(model).phase is Phase.DOWNLOADED

    stages: list[str] = []
    entry = manager.convert(model, "q8_0", progress=lambda stage, done, total: stages.append(stage))
    assert stages and set(stages) == {"convert"}
    assert entry.path == manager.gguf_path(model, "q8_0") and entry.path.is_file()
    view = manager.overview(model)
    assert view.phase is Phase.CONVERTED and [e.gguf_type for e in view.ggufs] == ["q8_0"]
    assert view.best_path() == entry.path
    # the registry is plain JSON other code (and people) can read
    stored = json.loads(manager.registry.path.read_text(encoding="utf-8"))
    assert stored["models"][0]["catalog_id"] == CHAT_ID and stored["models"][0]["gguf_type"] == "q8_0"

    size = entry.path.stat().st_size
    assert manager.delete_gguf(entry.path) == size and not entry.path.exists()
    assert manager.overview(model).phase is Phase.DOWNLOADED
    on_disk = manager.download_bytes(model)
    assert on_disk >= sum((tiny_model / n).stat().st_size for n in model.files)
    assert manager.delete_download(model) == on_disk
    assert manager.overview(model).phase is Phase.NOT_DOWNLOADED
    # the other catalog models were never touched
    assert all(manager.overview(m).phase is Phase.NOT_DOWNLOADED for m in manager.catalog)


def test_a_cut_download_is_partial_then_resumes(manager: ModelManager, hub: FakeHub) -> None:
    model = manager.find(CHAT_ID)
    shard = "model-00001-of-00002.safetensors"
    hub.drop_always(shard, at_byte=16 * 1024 * 3)
    with pytest.raises(UserError):
        manager.download(model)
    view = manager.overview(model)
    assert view.phase is Phase.PARTIAL and view.hub.bytes_present > 0
    hub.clear_faults()
    manager.download(model)
    assert manager.overview(model).phase is Phase.DOWNLOADED
    resumed = [r for r in hub.gets(shard) if r.range_start]
    assert resumed and resumed[-1].range_start == 16 * 1024 * 3


def test_server_error_is_one_typed_sentence(manager: ModelManager, hub: FakeHub) -> None:
    hub.fail(500, "config.json")
    with pytest.raises(HubServerError, match="HTTP 500"):
        manager.download(manager.find(CHAT_ID))
    assert manager.overview(manager.find(CHAT_ID)).phase is Phase.NOT_DOWNLOADED


def test_convert_needs_a_download_and_a_known_type(manager: ModelManager) -> None:
    model = manager.find(CHAT_ID)
    with pytest.raises(ModelManagerError, match="not downloaded"):
        manager.convert(model, "q8_0")
    manager.download(model)
    with pytest.raises(ModelManagerError, match="Unknown GGUF type"):
        manager.convert(model, "q3_k")
    with pytest.raises(ModelManagerError, match="no model 'nope'"):
        manager.find("nope")


def test_cancelled_conversion_leaves_no_file_and_no_entry(manager: ModelManager) -> None:
    model = manager.find(CHAT_ID)
    manager.download(model)
    cancel = threading.Event()
    with pytest.raises(ExportCancelled):
        manager.convert(model, "f32", progress=lambda *_: cancel.set(), cancel=cancel)
    assert list(manager.models_dir.glob("*.gguf*")) == []
    assert manager.overview(model).phase is Phase.DOWNLOADED


def test_add_local_checks_the_model(manager: ModelManager, tiny_model: Path, tiny_gguf: Path,
                                    tmp_path: Path) -> None:
    folder = manager.add_local(tiny_model)
    gguf = manager.add_local(tiny_gguf)
    assert (folder.kind, gguf.kind) == ("checkpoint", "gguf")
    assert [e.path for e in manager.local_models()] == [tiny_model.resolve(), tiny_gguf.resolve()]
    not_a_model = tmp_path / "photos"
    not_a_model.mkdir()
    with pytest.raises(UserError):
        manager.add_local(not_a_model)
    with pytest.raises(ModelManagerError, match="nothing at"):
        manager.add_local(tmp_path / "missing.gguf")
    with pytest.raises(ModelManagerError, match="not deleted"):
        manager.delete_gguf(tiny_gguf)  # an added file is never deleted, only forgotten
    assert manager.forget_local(tiny_gguf) and tiny_gguf.is_file()
    assert [e.path for e in manager.local_models()] == [tiny_model.resolve()]


def test_registry_survives_a_damaged_file(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "registry.json")
    gguf = tmp_path / "a.gguf"
    gguf.write_bytes(b"x")
    registry.register(LocalModel(gguf, "gguf", "A", "converted", catalog_id="m", gguf_type="q8_0"))
    assert [e.name for e in ModelRegistry(registry.path).converted("m")] == ["A"]
    gguf.unlink()
    assert registry.converted("m") == []  # a file deleted behind the app's back is not offered
    registry.path.write_text("{not json", encoding="utf-8")
    assert registry.entries() == []
    kept = list(tmp_path.glob("registry.json.bad-*"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "{not json"


def test_registry_records_what_each_download_resolved_to(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "registry.json")
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    registry.register(LocalModel(path=gguf, kind="gguf", name="m", source="converted", catalog_id="m",
                                 commit="c" * 40))
    first = registry.record_download(DownloadRecord("m", "huggingface", "org/m", "main", "a" * 40,
                                                    tmp_path / "snap-a", "http://hub"))
    registry.record_download(DownloadRecord("m", "modelscope", "Org/m", "master", "b" * 40,
                                            tmp_path / "snap-b", "http://ms", finished="2099-01-01T00:00:00Z"))
    again = registry.record_download(DownloadRecord("m", "huggingface", "org/m", "main", "d" * 40,
                                                    tmp_path / "snap-d", "http://hub"))
    records = registry.downloads("m")
    assert [(r.source, r.commit) for r in records] == [("modelscope", "b" * 40), ("huggingface", "d" * 40)]
    assert first.finished and again.snapshot == tmp_path / "snap-d"
    assert registry.entries()[0].commit == "c" * 40  # the models list is kept alongside
    data = json.loads(registry.path.read_text(encoding="utf-8"))
    data["downloads"].append({"catalog_id": "m", "source": "x", "repo": "r", "revision": "main",
                              "commit": "../../etc", "snapshot": "/"})  # a damaged record
    registry.path.write_text(json.dumps(data), encoding="utf-8")
    assert len(registry.downloads()) == 2 and len(registry.entries()) == 1
    old = ModelRegistry(tmp_path / "old.json")  # a registry written before downloads were recorded
    old.path.write_text(json.dumps({"schema": 1, "models": []}), encoding="utf-8")
    assert old.downloads() == [] and old.entries() == []


def test_hub_settings_come_from_the_settings_store(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.db")
    try:
        assert HubSettings.from_settings(store.settings.get) == HubSettings()
        store.settings.set(SETTING_ENDPOINT, " https://mirror.example/ ")
        store.settings.set(SETTING_PROXY, "http://proxy:3128")
        store.settings.set(SETTING_OFFLINE, True)
        settings = HubSettings.from_settings(store.settings.get)
    finally:
        store.close()
    assert settings == HubSettings("https://mirror.example/", "http://proxy:3128", True)
    downloader = ModelManager(settings, models_dir=tmp_path / "m").downloader()
    assert (downloader.endpoint, downloader.proxy, downloader.offline) == (
        "https://mirror.example/", "http://proxy:3128", True)


def test_the_source_setting_and_the_mirror_that_belongs_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("HF_ENDPOINT", "MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN", "OPENXLAB_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    store = ConversationStore(tmp_path / "chats.db")
    try:
        store.settings.set(SETTING_SOURCE, "ModelScope")
        assert HubSettings.from_settings(store.settings.get).source == "modelscope"
        store.settings.set(SETTING_SOURCE, "no-such-hub")  # an unknown value is not used
        assert HubSettings.from_settings(store.settings.get).source is None
    finally:
        store.close()
    assert HubSettings().effective_source() == "auto"  # nothing set: the fastest source
    mirrored = ModelManager(HubSettings(endpoint="https://mirror.example"), models_dir=tmp_path / "m")
    assert mirrored.settings.effective_source() == "huggingface"  # a mirror means its hub, as before
    assert mirrored.downloader().endpoint == "https://mirror.example"
    other = mirrored.downloader("modelscope")  # another source never gets that mirror
    assert other.source == "modelscope" and other.endpoint is None
    assert mirrored.downloader("auto").endpoints == {"huggingface": "https://mirror.example"}
    ms = ModelManager(HubSettings(endpoint="https://ms.example", source="modelscope"), models_dir=tmp_path)
    assert ms.downloader().endpoint == "https://ms.example" and ms.downloader("huggingface").endpoint is None
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.example")
    assert HubSettings().effective_source() == "huggingface"
    with pytest.raises(UserError):
        mirrored.downloader("ftp")


# -- first-launch advice --------------------------------------------------------------------------
@pytest.mark.parametrize(("hw", "backend", "device", "gguf_type", "words"), [
    (Hardware("Linux", "x86_64", True, "RTX 4090", 20 * 10**9), "torch", "cuda", None, "bf16"),
    (Hardware("Linux", "x86_64", True, "GT 1030", 2 * 10**9), "llamacpp", "cpu", "q4_k_m", "GT 1030"),
    (Hardware("Linux", "x86_64", False, "RTX 4090", 20 * 10**9), "llamacpp", "cpu", "q4_k_m", "not installed"),
    (Hardware("Darwin", "arm64", True), "llamacpp", "metal", "q4_k_m", "Metal"),
    (Hardware("Darwin", "x86_64"), "llamacpp", "cpu", "q4_k_m", "CPU"),
    (Hardware("Windows", "AMD64"), "llamacpp", "cpu", "q4_k_m", "Q4_K_M"),
])
def test_recommendation_fits_the_hardware(hw: Hardware, backend: str, device: str,
                                          gguf_type: str | None, words: str) -> None:
    rec = recommend(hw)
    assert rec.model.id == CHAT_ID
    assert (rec.backend, rec.device, rec.gguf_type) == (backend, device, gguf_type)
    assert words in rec.sentence and rec.sentence.endswith(".") and ". " not in rec.sentence and rec.model.name in rec.sentence


def test_detect_hardware_describes_this_machine() -> None:
    hw = detect_hardware()
    assert hw.system and hw.machine
    assert recommend(hw, load_catalog()).sentence.startswith("Recommended: ")


# -- the dialog's worker ------------------------------------------------------------------------
@pytest.fixture
def jobs(qtbot: QtBot, manager: ModelManager) -> Iterator[ModelJobs]:
    j = ModelJobs(manager)
    yield j
    j.shutdown()


def test_worker_downloads_converts_and_the_model_answers(
        qtbot: QtBot, jobs: ModelJobs, manager: ModelManager, tiny_model: Path) -> None:
    fractions: list[float] = []
    jobs.downloadProgress.connect(lambda e: fractions.append(e.fraction))
    with qtbot.waitSignal(jobs.converted, timeout=60000) as converted:
        assert jobs.download(CHAT_ID, "q8_0")
        assert not jobs.download(CHAT_ID)  # one job at a time
    assert fractions and fractions[-1] == 1.0
    model_id, path = converted.args
    assert model_id == CHAT_ID and Path(path) == manager.gguf_path(catalog_chat_model(), "q8_0")
    qtbot.waitUntil(lambda: jobs.busy_with is None)
    text, new_tokens = reply(Path(path), tiny_model)
    assert 1 <= new_tokens <= 4 and isinstance(text, str)


def test_worker_quantizes_to_q4_k_m(qtbot: QtBot, jobs: ModelJobs, manager: ModelManager,
                                    tiny_model: Path) -> None:
    manager.download(catalog_chat_model())
    stages: set[str] = set()
    jobs.convertProgress.connect(lambda stage, done, total: stages.add(stage))
    with qtbot.waitSignal(jobs.converted, timeout=120000) as converted:
        jobs.convert(CHAT_ID, "q4_k_m")
    assert stages == {"convert", "quantize"}
    assert manager.overview(catalog_chat_model()).ggufs[0].gguf_type == "q4_k_m"
    assert reply(Path(converted.args[1]), tiny_model)[1] >= 1


@pytest.mark.parametrize("how", ["pause", "cancel"])
def test_pause_keeps_the_partial_download_and_cancel_deletes_it(
        qtbot: QtBot, jobs: ModelJobs, manager: ModelManager, hub: FakeHub, how: str) -> None:
    hub.throttle_bps = 40_000
    model = catalog_chat_model()
    started = threading.Event()
    jobs.downloadProgress.connect(lambda e: e.file_bytes_done > 0 and e.file.endswith(
        ".safetensors") and started.set())
    with qtbot.waitSignal(jobs.stopped, timeout=30000) as stopped:
        jobs.download(CHAT_ID)
        qtbot.waitUntil(started.is_set, timeout=20000)
        getattr(jobs, how)()
    assert stopped.args == [CHAT_ID, how == "cancel"]
    qtbot.waitUntil(lambda: jobs.busy_with is None)
    view = manager.overview(model)
    if how == "pause":
        assert view.phase is Phase.PARTIAL
    else:
        assert view.phase is Phase.NOT_DOWNLOADED and view.hub.bytes_present == 0


def test_worker_reports_a_failure_as_a_sentence(qtbot: QtBot, jobs: ModelJobs, hub: FakeHub) -> None:
    hub.fail(404, "tokenizer.model")
    with qtbot.waitSignal(jobs.failed, timeout=30000) as failed:
        jobs.download(CHAT_ID, "q8_0")
    assert failed.args[0] == CHAT_ID and "HTTP 404" in str(failed.args[1])
