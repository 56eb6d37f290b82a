"""Help > About and the third-party licence list (source run here; the bundle reads its file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app import licences
from app.storage import ConversationStore
from app.ui.window.about_dialog import AboutDialog
from app.ui.workers.inference_worker import InferenceClient
from tests.ui_helpers import make_window


@pytest.fixture()
def client() -> Iterator[InferenceClient]:
    c = InferenceClient()
    yield c
    c.shutdown()


def test_help_about_shows_app_model_and_third_party_licences(qtbot: QtBot, tmp_path: Path,
                                                             client: InferenceClient) -> None:
    store = ConversationStore(tmp_path / "chat.sqlite3")
    try:
        window = make_window(qtbot, store, client)
        window.menus.actions["about"].trigger()
        dialog = window.findChild(AboutDialog, "aboutDialog")
        assert isinstance(dialog, AboutDialog) and dialog.isVisible()
        assert "Apache License" in _text(dialog, "appLicence")
        assert "InternLM2-Chat-1.8B" in _text(dialog, "modelLicences")
        assert "Shanghai AI Laboratory" in _text(dialog, "modelLicences")
        table = dialog.third_party
        qtbot.waitUntil(lambda: table.rowCount() > 0, timeout=30000)
        names = {table.item(r, 0).text().lower().replace("_", "-") for r in range(table.rowCount())}
        assert {"pyside6-essentials", "llama-cpp-python", "python"} <= names
        assert all(table.item(r, 2).text() for r in range(table.rowCount()))
        dialog.close()
    finally:
        store.close()


def _text(dialog: AboutDialog, name: str) -> str:
    from PySide6.QtWidgets import QPlainTextEdit

    widget = dialog.findChild(QPlainTextEdit, name)
    assert widget is not None
    return widget.toPlainText()


def test_light_list_has_no_torch_and_full_adds_it() -> None:
    light = {i.name.lower() for i in licences.compute("light")}
    full = {i.name.lower() for i in licences.compute("full")}
    assert "torch" not in light and "transformers" not in light
    assert {"torch", "transformers"} <= full and light <= full


def test_written_file_is_what_the_bundle_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "third_party_licences.json"
    assert licences.main(["--flavour", "light", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["flavour"] == "light"
    assert all(set(p) == {"name", "version", "licence"} and p["licence"] for p in data["packages"])
    monkeypatch.setattr(licences, "LICENCES_FILE", out)
    assert [i.name for i in licences.third_party_licences()] == [p["name"] for p in data["packages"]]
