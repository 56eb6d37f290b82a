"""The model manager dialog offscreen: catalog, states, download with progress, convert, cancel, use."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.hub.errors import format_bytes
from app.hub.manager import HubSettings, ModelManager
from app.hub.recommend import Hardware
from app.hub.transfer import TransferSettings
from app.ui.models.model_manager import ModelManagerDialog
from tests.fakehub import FakeHub
from tests.tinyhub import CHAT_ID, block_foreign_sockets, tiny_hub

CPU_ONLY = Hardware("Linux", "x86_64")


@pytest.fixture
def hub(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    block_foreign_sockets(monkeypatch)
    with tiny_hub(tiny_model) as fake:
        yield fake


@pytest.fixture
def dialog(qtbot: QtBot, hub: FakeHub, tmp_path: Path) -> Iterator[ModelManagerDialog]:
    manager = ModelManager(HubSettings(endpoint=hub.endpoint, offline=False, cache_dir=tmp_path / "hf"),
                           models_dir=tmp_path / "models",
                           transfer_settings=TransferSettings(chunk_size=16 * 1024))
    d = ModelManagerDialog(manager, hardware=CPU_ONLY)
    qtbot.addWidget(d)
    d.show()
    yield d
    d.jobs.shutdown()


def test_lists_the_three_catalog_models_with_size_licence_and_state(dialog: ModelManagerDialog) -> None:
    names = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert names == ["InternLM2-Chat-1.8B", "InternLM2-Chat-1.8B-SFT", "InternLM2-1.8B"]
    assert all(dialog.tree.topLevelItem(i).text(1) == "3.8 GB" for i in range(3))
    assert dialog.state_of(CHAT_ID) == "Not downloaded"
    dialog.select("catalog", CHAT_ID)
    assert "Licence:" in dialog.details.text() and "Shanghai AI Laboratory" in dialog.details.text()
    types = [dialog.typeCombo.itemData(i) for i in range(dialog.typeCombo.count())]
    assert types == ["q4_k_m", "q5_k_m", "q6_k", "q8_0", "f16"]
    assert "Q4_K_M, about 1.2 GB" in dialog.typeCombo.itemText(0)
    longest = max((dialog.typeCombo.itemText(i) for i in range(dialog.typeCombo.count())), key=len)
    assert dialog.typeCombo.width() > dialog.typeCombo.fontMetrics().horizontalAdvance(longest)  # not cut off
    assert dialog.buttons["download"].isEnabled() and not dialog.buttons["convert"].isEnabled()
    assert "Q4_K_M GGUF on the CPU" in dialog.advice.text()


def test_download_reaches_100_percent_then_convert_and_use(
        qtbot: QtBot, dialog: ModelManagerDialog, tmp_path: Path) -> None:
    values: list[int] = []
    dialog.progress.valueChanged.connect(values.append)
    dialog.select("catalog", CHAT_ID)
    with qtbot.waitSignal(dialog.jobs.downloaded, timeout=60000):
        dialog.buttons["download"].click()
        assert dialog.buttons["pause"].isEnabled() and not dialog.buttons["download"].isEnabled()
    qtbot.waitUntil(lambda: dialog.jobs.busy_with is None)
    assert values[-1] == 100 and values == sorted(values)
    assert dialog.state_of(CHAT_ID) == "Downloaded"
    assert dialog.buttons["convert"].isEnabled()

    dialog.typeCombo.setCurrentIndex(dialog.typeCombo.findData("q8_0"))
    with qtbot.waitSignal(dialog.jobs.converted, timeout=60000) as converted:
        dialog.buttons["convert"].click()
    qtbot.waitUntil(lambda: dialog.jobs.busy_with is None)
    gguf = converted.args[1]
    assert Path(gguf).is_file() and dialog.state_of(CHAT_ID) == "Converted (Q8_0)"

    dialog.select("gguf", CHAT_ID, gguf)
    with qtbot.waitSignal(dialog.modelChosen) as chosen:
        dialog.buttons["use"].click()
    assert chosen.args == [gguf]
    dialog.setInUse(gguf)
    assert dialog.state_of(CHAT_ID) == "Converted (Q8_0), in use"

    dialog.select("gguf", CHAT_ID, gguf)
    size = Path(gguf).stat().st_size
    asked: list[str] = []
    dialog._confirm = lambda text: asked.append(text) or True  # type: ignore[method-assign]
    with qtbot.waitSignal(dialog.modelDeleted) as deleted:
        dialog.buttons["delete"].click()
    assert deleted.args == [gguf] and not Path(gguf).exists()
    assert asked and "frees" in asked[0]
    assert dialog.state_of(CHAT_ID) == "Downloaded"
    assert dialog.message.text() == f"Deleted; {format_bytes(size)} freed."


def test_cancel_stops_the_download_and_deletes_the_partial_files(
        qtbot: QtBot, dialog: ModelManagerDialog, hub: FakeHub) -> None:
    hub.throttle_bps = 400_000  # the real tokenizer's 92,544-row embeddings make the files ~50 MB
    dialog.select("catalog", CHAT_ID)
    with qtbot.waitSignal(dialog.jobs.stopped, timeout=30000):
        dialog.buttons["download"].click()
        qtbot.waitUntil(lambda: dialog.progress.value() > 2, timeout=20000)
        assert dialog.state_of(CHAT_ID).startswith("Downloading ")
        dialog.buttons["cancel"].click()
    qtbot.waitUntil(lambda: dialog.jobs.busy_with is None)
    assert dialog.state_of(CHAT_ID) == "Not downloaded"
    assert "Cancelled" in dialog.progressLabel.text()
    assert dialog.buttons["download"].isEnabled()


def test_one_click_downloads_converts_and_chooses_the_recommended_gguf(
        qtbot: QtBot, dialog: ModelManagerDialog) -> None:
    rec = dialog._recommendation
    assert rec is not None and rec.gguf_type == "q4_k_m"
    with qtbot.waitSignal(dialog.modelChosen, timeout=120000) as chosen:
        dialog.oneClickButton.click()
    assert chosen.args[0].endswith(f"{CHAT_ID}-q4_k_m.gguf") and Path(chosen.args[0]).is_file()
    qtbot.waitUntil(lambda: dialog.jobs.busy_with is None)
    assert dialog.state_of(CHAT_ID) == "Converted (Q4_K_M)"


def test_add_local_folder_and_gguf_then_use_and_remove(
        qtbot: QtBot, dialog: ModelManagerDialog, tiny_model: Path, tiny_gguf: Path,
        tmp_path: Path) -> None:
    assert dialog.add_local(str(tiny_model)) and dialog.add_local(str(tiny_gguf))
    group = dialog.tree.topLevelItem(dialog.tree.topLevelItemCount() - 1)
    assert group.text(0) == "Added by you" and group.childCount() == 2
    assert dialog.selected_key() == ("local", "", str(tiny_gguf.resolve()))
    with qtbot.waitSignal(dialog.modelChosen) as chosen:
        dialog.buttons["use"].click()
    assert chosen.args == [str(tiny_gguf.resolve())]
    dialog._confirm = lambda text: True  # type: ignore[method-assign]
    dialog.buttons["delete"].click()
    assert tiny_gguf.is_file()  # removed from the list, never deleted
    assert dialog.tree.topLevelItem(dialog.tree.topLevelItemCount() - 1).childCount() == 1
    assert not dialog.add_local(str(tmp_path / "nothing.gguf"))
    assert "nothing at" in dialog.message.text()


def test_failure_is_shown_as_a_sentence(qtbot: QtBot, dialog: ModelManagerDialog, hub: FakeHub) -> None:
    hub.fail(500, "config.json")
    dialog.select("catalog", CHAT_ID)
    with qtbot.waitSignal(dialog.jobs.failed, timeout=30000):
        dialog.buttons["download"].click()
    qtbot.waitUntil(lambda: dialog.jobs.busy_with is None)
    assert "HTTP 500" in dialog.message.text() and dialog.state_of(CHAT_ID) == "Not downloaded"


def test_offline_the_dialog_opens_detects_the_hardware_and_offers_the_download(
        qtbot: QtBot, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the download the hub is gone and every socket is refused: the dialog still works."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with tiny_hub(tiny_model) as fake:
        manager = ModelManager(HubSettings(endpoint=fake.endpoint, cache_dir=tmp_path / "hf"),
                               models_dir=tmp_path / "models")
        snapshot = manager.download(manager.find(CHAT_ID))
    attempts: list[Any] = []

    def refuse(sock: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: refuse(None, a))  # type: ignore[arg-type]
    d = ModelManagerDialog(manager)  # no hardware given: detected on the worker thread
    qtbot.addWidget(d)
    try:
        qtbot.waitUntil(lambda: d.advice.text().startswith("Recommended"), timeout=60000)
        assert d.state_of(CHAT_ID) == "Downloaded"
        d.select("catalog", CHAT_ID)
        with qtbot.waitSignal(d.modelChosen) as chosen:
            d.buttons["use"].click()
        assert chosen.args == [str(snapshot)]
    finally:
        d.jobs.shutdown()
    assert attempts == []


def test_an_added_checkpoint_folder_can_be_converted_and_used(
        qtbot: QtBot, dialog: ModelManagerDialog, tiny_model: Path, tmp_path: Path) -> None:
    assert dialog.add_local(str(tiny_model))
    assert dialog.selected_key() == ("local", "", str(tiny_model.resolve()))
    assert dialog.buttons["convert"].isEnabled() and dialog.typeCombo.isEnabled()
    assert [dialog.typeCombo.itemData(i) for i in range(dialog.typeCombo.count())][0] == "q4_k_m"
    dialog.typeCombo.setCurrentIndex(dialog.typeCombo.findData("f16"))
    with qtbot.waitSignal(dialog.jobs.converted, timeout=120000) as done:
        dialog.buttons["convert"].click()
    out = Path(done.args[1])
    assert out.is_file() and out.parent == tmp_path / "models" and out.name.endswith("-f16.gguf")
    names = [e.name for e in dialog.manager.local_models()]
    assert any(n.endswith("F16") for n in names)
    assert tiny_model.is_dir()  # the person's folder is left as it was


def test_an_error_reads_as_a_sentence_with_the_technical_cause_behind_details(
        qtbot: QtBot, dialog: ModelManagerDialog) -> None:
    from app.hub.errors import HubUnreachableError

    error = HubUnreachableError("https://hub.example", "[Errno 111] Connection refused")
    dialog._on_failed(CHAT_ID, error)
    text = dialog.message.text()
    assert text.startswith("Could not reach the model hub at https://hub.example.")
    assert "Settings > Downloads" in text and "Errno" not in text  # the fix, not the cause
    assert dialog.detail_button.isVisibleTo(dialog) and not dialog.detail_text.isVisibleTo(dialog)
    dialog.detail_button.click()
    assert dialog.detail_text.isVisibleTo(dialog) and "Connection refused" in dialog.detail_text.text()
    assert "Connection refused" in str(error)  # the command line still prints it on its one line
    dialog._say("Added x.")
    assert not dialog.detail_button.isVisibleTo(dialog)
