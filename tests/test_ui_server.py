"""Settings > Local server: the window serves its loaded model (the real worker thread, the real
server, the real openai client), takes turns with the window's own replies, and says so."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace
from pathlib import Path

import openai
from pytestqt.qtbot import QtBot

from app.storage import ConversationStore
from app.ui.window.local_server import client_example
from app.ui.window.settings_dialog import SettingsDialog
from app.ui.workers.inference_worker import InferenceClient
from tests.conftest import STOP_PROMPT
from tests.ui_helpers import load, make_window, quick_settings, send

KEY = "sk-local-test-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return False
    return True


def test_window_serves_its_model_in_turn_with_its_own_replies(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient,
        stop_model: tuple[Path, Path, int]) -> None:
    window = make_window(qtbot, store, client, quick_settings())
    port = _free_port()
    window.apply_settings(replace(window.settings, server_enabled=True, server_port=port, server_api_key=KEY))
    assert window.local_server.url == ""  # no model yet: nothing listens
    load(qtbot, window, stop_model[1])
    qtbot.waitUntil(lambda: window.local_server.url != "", timeout=30000)
    assert window.local_server.url == f"http://127.0.0.1:{port}/v1"
    assert window.statusBar().currentMessage().endswith(window.local_server.url)

    serving: list[bool] = []
    window.local_server.servingChanged.connect(serving.append)
    api = openai.OpenAI(base_url=window.local_server.url, api_key=KEY, max_retries=0, timeout=60)
    replies: list[str] = []
    thread = threading.Thread(target=lambda: replies.append(api.chat.completions.create(
        model="any", messages=[{"role": "user", "content": STOP_PROMPT}], temperature=0,
        max_tokens=16).choices[0].message.content or ""))
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive() and serving[-1:] == [False], timeout=60000)
    assert True in serving and len(replies) == 1  # the status bar was told while it ran
    # The window's own reply still works on the same model afterwards, and the API after it.
    send(qtbot, window, STOP_PROMPT)
    assert api.models.list().data[0].id == stop_model[1].stem
    with_key = client_example(port, KEY)
    assert f"127.0.0.1:{port}/v1" in with_key and KEY in with_key
    window.apply_settings(replace(window.settings, server_enabled=False))
    assert window.local_server.url == ""
    qtbot.waitUntil(lambda: not _listening(port), timeout=20000)  # stopping runs off the GUI thread


def test_settings_dialog_keeps_the_key_only_once_the_server_is_on(qtbot: QtBot) -> None:
    settings = quick_settings()
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.server_key.text().startswith("sk-local-") and not dialog.server_enabled.isChecked()
    assert dialog.result_settings() == settings  # off: a key only shown is not stored
    dialog.server_enabled.setChecked(True)
    result = dialog.result_settings()
    assert result.server_enabled and result.server_api_key == dialog.server_key.text()
    assert dialog.server_address.text() == f"http://127.0.0.1:{settings.server_port}/v1"
