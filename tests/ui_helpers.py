"""Shared set-up for the window tests: a real store on tmp_path, the real inference client."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pytestqt.exceptions import TimeoutError as WaitTimeout
from pytestqt.qtbot import QtBot
from pytestqt.wait_signal import SignalBlocker

from app.settings import AppSettings
from app.storage import ConversationStore
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient


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


@contextlib.contextmanager
def expect(qtbot: QtBot, signal: Any, what: str, timeout: int = 60000,
           fail_on: Sequence[Any] = ()) -> Iterator[SignalBlocker]:
    """Wait (after the block) for `signal`; fail at once, saying so, when one of `fail_on`
    comes first, and after `timeout` ms with what was waited for."""
    failures: list[tuple[Any, ...]] = []

    def failed(*args: Any) -> None:
        failures.append(args)

    blocker = qtbot.waitSignal(signal, timeout=timeout, raising=False)
    for other in fail_on:
        other.connect(failed)
        blocker.connect(other)
    try:
        with blocker:
            yield blocker
    finally:
        for other in fail_on:
            other.disconnect(failed)
    if failures:
        raise AssertionError(f"while waiting for {what}: {failures[0]}")
    if not blocker.signal_triggered:
        raise AssertionError(f"{what} did not happen within {timeout / 1000:.0f} s")


def wait_until(qtbot: QtBot, condition: Callable[[], object], what: str, timeout: int = 30000) -> None:
    """qtbot.waitUntil that says what it waited for when it times out."""
    try:
        qtbot.waitUntil(lambda: bool(condition()), timeout=timeout)
    except WaitTimeout:
        raise AssertionError(f"{what} did not happen within {timeout / 1000:.0f} s") from None


def load(qtbot: QtBot, window: MainWindow, model: Path) -> None:
    with expect(qtbot, window.controller.modelChanged, f"loading {model.name}",
                fail_on=[window.controller.loadFailed]):
        assert window.open_model(model)


def send(qtbot: QtBot, window: MainWindow, text: str, timeout: int = 60000) -> int:
    """Type `text`, press Enter; the reply's message id once it has ended."""
    from PySide6.QtCore import Qt

    window.composer.input.setPlainText(text)
    with expect(qtbot, window.controller.replyEnded, f"the reply to {text[:40]!r}", timeout) as ended:
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    return int(ended.args[1])
