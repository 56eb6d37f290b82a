"""The model manager dialog's source choice, offscreen, against the fake hubs of each source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.hub.manager import HubSettings, ModelManager
from app.hub.recommend import Hardware
from app.hub.transfer import TransferSettings
from app.ui.models.model_manager import ModelManagerDialog
from tests.fakehub import FakeHub, closed_port_endpoint
from tests.fakesources import FakeModelScope, FakeOpenXLab
from tests.hub_helpers import catalog_files
from tests.tinyhub import CHAT_ID, block_foreign_sockets, catalog_chat_model


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    block_foreign_sockets(monkeypatch)
    model = catalog_chat_model()
    files = catalog_files(model)
    found: dict[str, Any] = {
        "huggingface": FakeHub(repo_id=model.repo, files=files, revision=model.revision),
        "modelscope": FakeModelScope(model.on("modelscope").repo, files, "master"),  # type: ignore[union-attr]
        "openxlab": FakeOpenXLab(model.on("openxlab").repo, files, "main"),  # type: ignore[union-attr]
    }
    for server in found.values():
        server.__enter__()
    yield found
    for server in found.values():
        server.__exit__(None, None, None)


def make_dialog(qtbot: QtBot, tmp_path: Path, endpoints: dict[str, str], source: str | None) -> ModelManagerDialog:
    settings = HubSettings(offline=False, cache_dir=tmp_path / "hf", source=source,
                           endpoints=tuple(endpoints.items()), probe_timeout=2.0)
    manager = ModelManager(settings, models_dir=tmp_path / "models", free_space=lambda path: 10**15,
                           transfer_settings=TransferSettings(chunk_size=16 * 1024))
    dialog = ModelManagerDialog(manager, hardware=Hardware("Linux", "x86_64"))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_chosen_source_downloads_and_the_commit_is_shown(
    qtbot: QtBot, tmp_path: Path, servers: dict[str, Any],
) -> None:
    dialog = make_dialog(qtbot, tmp_path, {k: s.endpoint for k, s in servers.items()}, None)
    try:
        assert dialog.chosen_source() == "auto"  # no address set: the fastest source
        sources = [dialog.sourceCombo.itemData(i) for i in range(dialog.sourceCombo.count())]
        assert sources == ["auto", "huggingface", "modelscope", "openxlab"]
        dialog.sourceCombo.setCurrentIndex(dialog.sourceCombo.findData("modelscope"))
        dialog.select("catalog", CHAT_ID)
        with qtbot.waitSignal(dialog.jobs.downloaded, timeout=60000):
            dialog.buttons["download"].click()
        qtbot.waitUntil(lambda: dialog.jobs.busy_with is None)
        assert dialog.message.text() == "Downloading from ModelScope."
        assert dialog.state_of(CHAT_ID) == "Downloaded"
        dialog.select("catalog", CHAT_ID)
        assert f"Downloaded from ModelScope, commit {servers['modelscope'].commit}" in dialog.details.text()
        assert servers["huggingface"].requests == []  # nothing asked of the other sources
    finally:
        dialog.jobs.shutdown()


def test_automatic_choice_is_said_in_the_dialog(
    qtbot: QtBot, tmp_path: Path, servers: dict[str, Any],
) -> None:
    endpoints = {k: closed_port_endpoint() for k in ("huggingface", "openxlab")}
    endpoints["modelscope"] = servers["modelscope"].endpoint
    dialog = make_dialog(qtbot, tmp_path, endpoints, "auto")
    try:
        dialog.select("catalog", CHAT_ID)
        with qtbot.waitSignal(dialog.jobs.downloaded, timeout=60000):
            dialog.buttons["download"].click()
        qtbot.waitUntil(lambda: dialog.jobs.busy_with is None)
        assert dialog.message.text() == "Downloading from ModelScope, the fastest source to answer."
    finally:
        dialog.jobs.shutdown()
