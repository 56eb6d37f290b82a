"""Nothing jumps when a notice appears: the window at a fixed size shows each kind of notice and
banner it has (the status-bar sentence, the long-context and read-only sentences, the failed
load's banner, reading and loading progress, the edit banner, a question that does not fit),
and the transcript, the composer and the columns keep their places and sizes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.engine.types import RopeRebase
from app.storage import ConversationStore, Role
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient
from tests.ui_helpers import make_window, quick_settings, wait_until

# Longer than one line of the chat column: a notice that wraps is where a layout would jump.
_LONG = ("The model could not be loaded: the file looks damaged or incomplete, so it was not opened. "
         "Convert the model again or pick another file; the details are behind the Details toggle. ") * 2


def _places(window: MainWindow) -> dict[str, object]:
    """Where the transcript and the composer are in the window, and the columns' widths."""
    QApplication.processEvents()  # the layout requests the change posted
    out: dict[str, object] = {"columns": window.panels.splitter.sizes()}
    for name, widget in (("transcript", window.view), ("composer", window.composer)):
        out[name] = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    return out


def _notices(window: MainWindow) -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    """(what, show it, it is on screen) for each notice the window has."""
    c = window.controller
    bar = window.statusBar()
    return [
        ("status sentence", lambda: c.notice.emit(_LONG), lambda: bar.currentMessage() == _LONG),
        ("long-context sentence", lambda: c._rope_rebased(RopeRebase(10000.0, 20000.0, 65536, 32768, 900)),
         lambda: "long-context" in bar.currentMessage()),
        ("read-only sentence", lambda: c.notice.emit(c.tr(
            "Nothing can be saved: the conversation database is read-only (%1). Conversations "
            "can still be read and exported.").replace("%1", "the file is write-protected")),
         lambda: "read-only" in bar.currentMessage()),
        ("failed load banner", lambda: window._load_failed(_LONG), lambda: window.load_error.isVisible()),
        ("reading progress", lambda: window.status.set_prefill(1200, 9000, 75.0),
         lambda: window.status.progress.isVisible()),
        ("loading progress", lambda: window.status.set_loading(1, 3), lambda: window.status.progress.isVisible()),
        ("edit banner", lambda: window.composer.start_edit(1, "An earlier question", 2),
         lambda: window.composer._banner.isVisible()),
    ]


@pytest.mark.parametrize("size", [(1200, 760), (800, 600)])
def test_nothing_jumps_when_a_notice_appears(qtbot: QtBot, store: ConversationStore, client: InferenceClient,
                                            size: tuple[int, int]) -> None:
    cid = store.conversations.create().id
    store.messages.add(cid, Role.USER, "What does the report say about the budget?")
    window = make_window(qtbot, store, client, quick_settings())
    window.resize(*size)
    window.open_conversation(cid)
    wait_until(qtbot, lambda: window.view.isVisible() and window.composer.isVisible(), "the chat page shown")
    before = _places(window)
    for what, show, shown in _notices(window):
        show()
        wait_until(qtbot, shown, f"the {what} shown")
        assert _places(window) == before, f"the {what} moved the chat"
    # The two banners lie over the transcript, whole: the failed load at its top, the edit just
    # above the box (so neither hides the box nor falls outside the chat column).
    transcript = before["transcript"]
    assert isinstance(transcript, QRect)
    error = QRect(window.load_error.mapTo(window, QPoint(0, 0)), window.load_error.size())
    assert transcript.contains(error) and error.height() >= window.load_error.fontMetrics().height() * 2
    banner = window.composer._banner
    edit = QRect(banner.mapTo(window, QPoint(0, 0)), banner.size())
    assert transcript.left() <= edit.left() and edit.right() <= transcript.right()
    assert transcript.top() < edit.top() and edit.bottom() < window.composer.mapTo(window, QPoint(0, 0)).y()
    assert edit.height() >= banner.sizeHint().height()
