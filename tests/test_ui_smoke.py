"""The window opens offscreen and says that no model is loaded."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.storage import ConversationStore
from app.ui.workers.inference_worker import InferenceClient
from tests.ui_helpers import make_window


def test_main_window_opens(qtbot: QtBot, tmp_path: Path) -> None:
    client = InferenceClient()
    with ConversationStore(tmp_path / "chat.sqlite3") as store:
        try:
            window = make_window(qtbot, store, client)
            assert window.windowTitle() == "InternLM2 Desktop"
            assert window.status.model.text() == "No model loaded"
        finally:
            client.shutdown()
