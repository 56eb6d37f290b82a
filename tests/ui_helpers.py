"""Shared set-up for the window tests: a real store on tmp_path, the real inference client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from app.storage import ConversationStore
from app.ui.app_settings import AppSettings
from app.ui.inference_worker import InferenceClient
from app.ui.main_window import MainWindow


def quick_settings(**sampling: Any) -> AppSettings:
    """Greedy sampling, no system prompt (so STOP_PROMPT ends after k tokens), a small context."""
    values = {"temperature": 0.0, "top_p": 1.0, "top_k": 0, "repetition_penalty": 1.0,
              "max_new_tokens": 64, **sampling}
    return AppSettings(system_prompt="", sampling=values, n_ctx=1024, kv_type="f32")


def make_window(qtbot: QtBot, store: ConversationStore, client: InferenceClient,
                settings: AppSettings | None = None) -> MainWindow:
    window = MainWindow(store, client, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def load(qtbot: QtBot, window: MainWindow, model: Path) -> None:
    with qtbot.waitSignal(window.controller.modelChanged, timeout=60000):
        assert window.open_model(model)


def send(qtbot: QtBot, window: MainWindow, text: str, timeout: int = 60000) -> int:
    """Type `text`, press Enter; the reply's message id once it has ended."""
    from PySide6.QtCore import Qt

    window.composer.input.setPlainText(text)
    with qtbot.waitSignal(window.controller.replyEnded, timeout=timeout) as ended:
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    return int(ended.args[1])
