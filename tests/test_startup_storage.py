"""Start-up with a database that cannot be used as it is: only a damaged file is moved aside;
a locked, newer, foreign or unwritable one is a sentence with Retry / Quit and is left as it
was; a read-only one opens for reading and the window says why nothing is saved."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.storage import (
    ConversationStore,
    DatabaseLockedError,
    DatabaseTooNewError,
    DatabaseUnavailableError,
    ForeignDatabaseError,
    Role,
    StorageError,
    opening,
    schema,
)
from app.ui.startup import application
from app.ui.startup.application import open_store
from app.ui.workers.inference_worker import InferenceClient
from tests.lock_holder import Holder, lock_holder_fixture, release  # noqa: F401 - a fixture
from tests.ui_helpers import make_window


def _folder(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file() and not p.name.endswith("-shm")}


def _make(path: Path) -> int:
    with ConversationStore(path) as store:
        chat = store.conversations.create("kept chat")
        store.messages.add(chat.id, Role.USER, "a question worth keeping")
        return chat.id


class _Asked:
    """Stands in for the dialog: records what it was shown, answers from a script."""

    def __init__(self, *answers: bool, before_answer: object = None) -> None:
        self.shown: list[tuple[StorageError, bool]] = []
        self._answers = list(answers)
        self._before = before_answer

    def __call__(self, error: StorageError, can_retry: bool) -> bool:
        self.shown.append((error, can_retry))
        if callable(self._before):
            self._before()
        return self._answers.pop(0)


def test_a_locked_database_is_offered_retry_and_opens_once_released(
        qapp: object, tmp_path: Path, lock_holder: Holder, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "conversations.sqlite3"
    _make(path)
    monkeypatch.setattr("app.storage.db.LOCK_WAIT_S", 0.3)
    child = lock_holder(path, "WAL", "IMMEDIATE")
    before = _folder(tmp_path)
    seen: list[dict[str, str]] = []
    ask = _Asked(True, before_answer=lambda: (seen.append(_folder(tmp_path)), release(child)))
    store, note = open_store(path, ask)
    assert store is not None
    try:
        assert [type(e) for e, _ in ask.shown] == [DatabaseLockedError]
        assert ask.shown[0][1] is True  # Retry offered
        assert seen == [before]  # while it was locked nothing was written or renamed
        assert note == "" and [c.title for c in store.conversations.list_recent()] == ["kept chat"]
    finally:
        store.close()


def test_quit_on_a_locked_database_leaves_it_alone(
        qapp: object, tmp_path: Path, lock_holder: Holder, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "conversations.sqlite3"
    _make(path)
    monkeypatch.setattr("app.storage.db.LOCK_WAIT_S", 0.3)
    lock_holder(path, "DELETE", "EXCLUSIVE")
    before = _folder(tmp_path)
    assert open_store(path, _Asked(False)) == (None, "")
    assert _folder(tmp_path) == before


def _newer(path: Path) -> None:
    _make(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(f"PRAGMA user_version = {schema.LATEST_VERSION + 1}")
    conn.close()


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (url TEXT)")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(("make", "error"), [(_newer, DatabaseTooNewError),
                                              (_foreign, ForeignDatabaseError)])
def test_a_newer_or_foreign_file_is_refused_with_a_sentence_and_never_moved(
        qapp: object, tmp_path: Path, make: object, error: type[StorageError]) -> None:
    path = tmp_path / "given-with-db.sqlite3"
    make(path)  # type: ignore[operator]
    before = _folder(tmp_path)
    ask = _Asked(False)
    assert open_store(path, ask) == (None, "")
    (shown, can_retry), = ask.shown
    assert isinstance(shown, error) and not can_retry  # retrying cannot help: Quit only
    assert "has not been changed" in shown.hint
    assert _folder(tmp_path) == before


def test_a_data_folder_that_cannot_be_made_is_a_dialog_not_a_traceback(
        qapp: object, tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    ask = _Asked(False)
    assert open_store(blocker / "conversations.sqlite3", ask) == (None, "")
    (shown, can_retry), = ask.shown
    assert isinstance(shown, DatabaseUnavailableError) and can_retry
    assert blocker.read_text() == "a file where the data folder should be"


def test_a_write_protected_file_opens_read_only_with_the_reason(
        qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The permission check itself is tested for real in test_storage_states (a child
    without root's override); here only its answer is given, to see what start-up does."""
    path = tmp_path / "conversations.sqlite3"
    _make(path)
    monkeypatch.setattr(opening, "write_block", lambda *_: "the file is write-protected")
    store, note = open_store(path, _Asked())
    assert store is not None
    try:
        assert store.read_only and "read-only (the file is write-protected)" in note
        assert "cannot be saved" in note
    finally:
        store.close()


def test_the_window_on_a_read_only_database_browses_and_explains_instead_of_saving(
        qtbot: QtBot, tmp_path: Path, client: InferenceClient) -> None:
    path = tmp_path / "conversations.sqlite3"
    cid = _make(path)
    before = _folder(tmp_path)
    store = ConversationStore(path, read_only=True)
    try:
        window = make_window(qtbot, store, client)
        window.open_conversation(cid)
        assert "a question worth keeping" in window.view.toPlainText()
        notices: list[str] = []
        window.controller.notice.connect(notices.append)
        window.composer.input.setPlainText("this cannot be stored")
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
        window.new_conversation()
        window.delete_conversation(cid)
        window.apply_settings(replace(window.settings, theme="dark"))  # this session only
        document = tmp_path / "notes.txt"
        document.write_text("a document that cannot be attached")
        window.controller.documents.open_file(document)
        qtbot.waitUntil(lambda: len(notices) >= 5, timeout=5000)
        assert all("Nothing can be saved" in text and "read-only" in text for text in notices)
        assert "Nothing can be saved" in window.statusBar().currentMessage()
        assert window.settings.theme == "dark"
        assert [c.id for c in store.conversations.list_recent()] == [cid]
        assert len(store.messages.list_for(cid)) == 1 and store.documents.list_for(cid) == []
    finally:
        store.close()
    document.unlink()
    assert _folder(tmp_path) == before


def test_the_whole_start_on_an_unusable_data_folder_ends_with_the_dialog_not_a_traceback(
        qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("INTERNLM2_DESKTOP_DATA", str(blocker / "sub"))
    runtime = Path(tempfile.mkdtemp(prefix="rt-"))  # the guard's socket: not in the real /tmp
    os.chmod(runtime, 0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    ask = _Asked(False)
    monkeypatch.setattr(application, "_ask_retry", ask)
    assert application.run_gui([]) == 1  # Quit: nothing opened, nothing raised
    (shown, can_retry), = ask.shown
    assert isinstance(shown, DatabaseUnavailableError) and can_retry
    assert str(blocker / "sub") in str(shown)
    assert list(runtime.iterdir()) == []  # the guard closed: its socket is gone
    runtime.rmdir()
