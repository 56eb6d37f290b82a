"""Start-up never renders, a third time, the conversation that crashed the last two starts.

A "crashed start" here is a real window that reopened the conversation and was thrown away
before the event loop could confirm it had shown it (so the marker stays, as after a kill).
The marker file itself is hostile input too: generated FIFOs, directories, links, huge and
malformed files at its path must neither hang the start nor touch anything else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.storage import ConversationStore, Role
from app.ui.startup.reopen_guard import MAX_TRIES, ReopenMarker, reopen_last
from app.ui.workers.inference_worker import InferenceClient
from tests.ui_helpers import make_window


@pytest.fixture()
def marker(tmp_path: Path) -> ReopenMarker:
    return ReopenMarker(tmp_path / "chat.sqlite3", tmp_path / "data" / "reopen-marker.json")


def test_tries_are_counted_per_database_and_conversation(marker: ReopenMarker, tmp_path: Path) -> None:
    assert marker.tries(7) == 0
    marker.begin(7)
    assert marker.tries(7) == 1 and marker.tries(8) == 0
    marker.begin(7)
    assert marker.tries(7) == 2
    marker.begin(7)
    assert marker.tries(7) == MAX_TRIES  # capped
    assert ReopenMarker(tmp_path / "other.sqlite3", marker.path).tries(7) == 0
    marker.begin(8)  # another conversation starts its own count
    assert marker.tries(8) == 1 and marker.tries(7) == 0
    marker.clear()
    assert marker.tries(8) == 0 and not marker.path.exists()
    marker.clear()  # nothing there: fine


def _hostile_markers(path: Path, db: str) -> list[tuple[str, object]]:
    """(name, maker) pairs; each maker puts something hostile at `path`."""
    outside = path.parent.parent / "outside.json"

    def write(data: bytes) -> object:
        return lambda: path.write_bytes(data)

    def record(**fields: object) -> object:
        return write(json.dumps({"db": db, "conversation": 7, "tries": 2, **fields}).encode())

    return [
        ("fifo", lambda: os.mkfifo(path)),
        ("directory", lambda: path.mkdir()),
        ("symlink", lambda: (outside.write_text(json.dumps({"db": db, "conversation": 7, "tries": 2})),
                             path.symlink_to(outside))),
        ("dangling symlink", lambda: path.symlink_to(path.parent / "nowhere")),
        ("huge", write(b"{" + b" " * 10_000_000 + b"}")),
        ("garbage", write(os.urandom(2000))),
        ("not utf-8", write(b"\xff\xfe{}")),
        ("a list", write(b"[1, 2, 3]")),
        ("tries as text", record(tries="2")),
        ("tries as bool", record(tries=True)),
        ("conversation as text", record(conversation="7")),
        ("deep json", write(b"[" * 2000 + b"]" * 2000)),
        ("empty", write(b"")),
    ]


def test_a_hostile_marker_file_is_ignored_and_nothing_else_is_touched(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    count = len(_hostile_markers(tmp_path / "m.json", ""))
    for number in range(count):
        folder = tmp_path / f"case{number}" / "data"
        folder.mkdir(parents=True)
        marker = ReopenMarker(db, folder / "reopen-marker.json")
        name, make = _hostile_markers(marker.path, marker.db)[number]
        make()  # type: ignore[operator]
        outside = folder.parent / "outside.json"
        before = outside.read_bytes() if outside.exists() else None
        assert marker.tries(7) == 0, name  # not a small regular file of ours: no tries known
        marker.begin(7)  # replaces a file or link of ours, never what a link points to
        after = outside.read_bytes() if outside.exists() else None
        assert before == after, f"{name}: the file outside was changed"
        if name != "directory":
            assert marker.tries(7) == 1, name
        marker.clear()
        if name == "directory":
            assert marker.path.is_dir(), "a directory is not ours to remove"
        else:
            assert not os.path.lexists(marker.path), name
        assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == [], name


def _conversation(store: ConversationStore) -> int:
    cid = store.conversations.create().id
    store.messages.add(cid, Role.USER, "A question")
    reply = store.messages.begin_reply(cid)
    store.messages.finish(reply, "A reply with ![x](/dev/zero) and a table\n\n| a |\n| - |\n| b |")
    return cid


def _start(qtbot: QtBot, store: ConversationStore, client: InferenceClient, marker: ReopenMarker,
           cid: int) -> tuple[object, str]:
    window = make_window(qtbot, store, client)
    return window, reopen_last(window, cid, marker)


def test_after_two_crashed_starts_an_empty_conversation_opens(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, marker: ReopenMarker) -> None:
    cid = _conversation(store)
    for attempt in range(1, MAX_TRIES + 1):
        window, note = _start(qtbot, store, client, marker, cid)
        assert note == ""
        assert window.controller.conversation_id == cid  # type: ignore[attr-defined]
        assert "A reply with" in window.view.toPlainText()  # type: ignore[attr-defined]
        assert marker.tries(cid) == attempt  # written before it rendered; the "crash" keeps it
        window.hide()  # type: ignore[attr-defined]  # never painted again: as good as killed
    window, note = _start(qtbot, store, client, marker, cid)
    assert "not reopened" in note and "twice" in note
    assert window.controller.conversation_id == 0  # type: ignore[attr-defined]
    assert "A reply with" not in window.view.toPlainText()  # type: ignore[attr-defined]
    assert marker.tries(cid) == MAX_TRIES  # the next start will not try either...
    window.open_conversation(cid)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not marker.path.exists(), timeout=10_000)  # ...unless it showed now


def test_a_start_that_shows_the_conversation_clears_the_marker(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, marker: ReopenMarker) -> None:
    cid = _conversation(store)
    marker.begin(cid)  # one earlier start died
    window, note = _start(qtbot, store, client, marker, cid)
    assert note == "" and marker.tries(cid) == 2
    qtbot.waitUntil(lambda: not marker.path.exists(), timeout=10_000)
    assert "A reply with" in window.view.toPlainText()  # type: ignore[attr-defined]


_DRIVER = r"""
import json, sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from app.ui.startup import application
from app.ui.window.main_window import MainWindow
from app.ui.startup.reopen_guard import ReopenMarker

db = Path(sys.argv[1])
seen = {}

def look():
    window = next(w for w in QApplication.topLevelWidgets()
                  if isinstance(w, MainWindow) and w.isVisible())
    seen["conversation"] = window.controller.conversation_id
    seen["shown"] = window.view.toPlainText()
    seen["told"] = [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]
    seen["tries"] = ReopenMarker(db).tries(1)
    window.close()
    QApplication.quit()

QTimer.singleShot(0, look)
seen["exit"] = application.run_gui(["--db", str(db)])
print("SEEN " + json.dumps(seen))
"""


def _run_gui_and_look(db: Path) -> dict[str, Any]:
    """The real start-up (app.ui.startup.application.run_gui) on `db`, in a process of its own (it sets
    up the whole application); what the window showed on the first turn of its event loop."""
    done = subprocess.run([sys.executable, "-c", _DRIVER, str(db)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                          cwd=Path(__file__).resolve().parent.parent)
    lines = [line for line in done.stdout.splitlines() if line.startswith("SEEN ")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    return dict(json.loads(lines[-1][5:]))


def test_the_real_start_up_counts_tries_and_skips_after_two(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    store = ConversationStore(db)
    cid = _conversation(store)
    store.close()
    assert cid == 1
    marker = ReopenMarker(db)  # in the test's own data folder (conftest), as the child's
    seen = _run_gui_and_look(db)
    assert seen["exit"] == 0 and seen["conversation"] == cid and "A reply with" in seen["shown"]
    assert seen["tries"] == 1  # written before the conversation was rendered
    assert marker.tries(cid) == 0  # a clean exit clears it
    marker.begin(cid)
    marker.begin(cid)  # as if two starts had died showing it
    seen = _run_gui_and_look(db)
    assert seen["conversation"] == 0 and "A reply with" not in seen["shown"]
    assert any("not reopened" in text for text in seen["told"])
    assert marker.tries(cid) == MAX_TRIES  # kept: the next start will not try it either
