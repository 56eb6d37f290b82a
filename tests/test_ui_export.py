"""File > Export / Import conversation: a real reply from the tiny model, written through the
menu actions (the file dialogs answered by the test), read back as a new conversation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from app.storage import ConversationStore, MessageState, Role
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient
from tests.conftest import STOP_PROMPT
from tests.ui_helpers import load, make_window, quick_settings, send


@pytest.fixture()
def window(qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> MainWindow:
    return make_window(qtbot, store, client, quick_settings())


def _answer_save_dialog(monkeypatch: pytest.MonkeyPatch, path: Path, chosen_filter: str) -> list[str]:
    asked: list[str] = []

    def fake(_parent: object, _caption: str, start: str, filters: str) -> tuple[str, str]:
        asked.extend([start, filters])
        return str(path), chosen_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))
    return asked


def _answer_open_dialog(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *_args: (str(path), "")))


def test_export_then_import_gives_the_same_conversation(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, tmp_path: Path,
        stop_model: tuple[Path, Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    load(qtbot, window, stop_model[1])
    send(qtbot, window, STOP_PROMPT)
    send(qtbot, window, "And a second question, 第二个问题?")
    cid = window.controller.conversation_id
    original = store.messages.list_for(cid)
    assert [m.role for m in original] == [Role.USER, Role.ASSISTANT] * 2

    target = tmp_path / "out" / "chat"  # no suffix: the JSON filter decides
    target.parent.mkdir()
    asked = _answer_save_dialog(monkeypatch, target, "JSON, can be imported again (*.json)")
    window.actions_["export"].trigger()
    written = target.with_suffix(".json")
    assert written.is_file() and asked[0].endswith(".md") and "(*.json)" in asked[1]
    assert json.loads(written.read_text(encoding="utf-8"))["messages"][0]["text"] == STOP_PROMPT
    assert str(written) in window.statusBar().currentMessage()

    _answer_open_dialog(monkeypatch, written)
    with qtbot.waitSignal(window.files.importEnded, timeout=10000,
                          raising=True) as ended:  # read and checked off the GUI thread
        window.actions_["import"].trigger()
    new_id = window.controller.conversation_id
    assert ended.args == [new_id]
    assert new_id and new_id != cid
    again = store.messages.list_for(new_id)
    assert [(m.role, m.text, m.state) for m in again] == [(m.role, m.text, m.state) for m in original]
    assert again[1].stats == original[1].stats
    assert store.conversations.get(new_id).title == store.conversations.get(cid).title
    assert len(window.conversations.conversation_ids()) == 2
    assert window.conversations.current_id() == new_id  # it appears in the list, selected
    assert original[1].text.split()[0] in window.view.toPlainText()


def test_markdown_export_is_a_readable_transcript(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cid = store.conversations.create(title="Code talk").id
    store.messages.add(cid, Role.USER, "Show me code")
    store.messages.add(cid, Role.ASSISTANT, "```python\nprint('hi')\n```")
    window.open_conversation(cid)
    target = tmp_path / "talk.md"
    target.write_text("an older export", encoding="utf-8")
    _answer_save_dialog(monkeypatch, target, "Markdown (*.md)")
    window.actions_["export"].trigger()
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Code talk\n")
    assert "## User\n\nShow me code" in text and "```python\nprint('hi')\n```" in text
    assert not list(tmp_path.glob("*.md.*"))  # QSaveFile left no temporary behind


def test_export_to_a_missing_folder_and_a_bad_import_say_why(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cid = store.conversations.create(title="Kept").id
    store.messages.add(cid, Role.USER, "Hello")
    window.open_conversation(cid)
    assert not window.files.export_to(cid, tmp_path / "missing" / "x.json", "json")
    box = window.files.last_message
    assert box is not None and box.isVisible() and "Could not write" in box.text()
    qtbot.addWidget(box)
    box.close()

    bad = tmp_path / "notes.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    _answer_open_dialog(monkeypatch, bad)
    with qtbot.waitSignal(window.files.importEnded, timeout=10000) as ended:
        window.actions_["import"].trigger()
    assert ended.args == [0]
    box = window.files.last_message
    assert box is not None and box.isVisible() and "notes.json" in box.text()
    qtbot.addWidget(box)
    assert [c.id for c in store.conversations.list_recent()] == [cid]  # nothing half-imported
    assert store.messages.list_for(cid)[0].state is MessageState.COMPLETE


def test_the_command_line_export_writes_what_the_window_writes(
        window: MainWindow, store: ConversationStore, tmp_path: Path) -> None:
    from app.cli import main
    from tests.test_cli_export import _without_time

    chat = store.conversations.create(model="internlm2-chat-1_8b")
    question = store.messages.add(chat.id, Role.USER, "A question with versions")
    store.messages.add(chat.id, Role.ASSISTANT, "One answer")
    store.messages.add(chat.id, Role.ASSISTANT, "Another answer", parent_id=question)
    for fmt, flag in (("json", "json"), ("markdown", "md")):
        from_window, from_cli = tmp_path / f"window.{flag}", tmp_path / f"cli.{flag}"
        assert window.files.export_to(chat.id, from_window, fmt)
        assert main(["export", str(chat.id), "--format", flag, "--output", str(from_cli),
                     "--db", str(store.path)]) == 0
        window_text, cli_text = (p.read_text(encoding="utf-8") for p in (from_window, from_cli))
        if fmt == "json":
            assert _without_time(window_text) == _without_time(cli_text)
            assert len(json.loads(cli_text)["messages"]) == 3
        else:
            assert window_text == cli_text and "Other versions not shown here: 1" in cli_text


def test_an_import_is_read_off_the_gui_thread_and_a_vanished_file_says_so(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, tmp_path: Path) -> None:
    cid = store.conversations.create(title="Many versions").id
    question = store.messages.add(cid, Role.USER, "Which one?")
    for i in range(2000):  # a big tree: parsing and checking it is real work
        store.messages.add(cid, Role.ASSISTANT, f"answer {i}", parent_id=question)
    archive = tmp_path / "big.json"
    archive.write_text(store.export_json(cid), encoding="utf-8")
    before = [c.id for c in store.conversations.list_recent()]
    with qtbot.waitSignal(window.files.importEnded, timeout=30000) as ended:
        window.files.import_from(archive)
        # The call returns at once: nothing is written until the checked archive comes back.
        assert [c.id for c in store.conversations.list_recent()] == before
    new_id = ended.args[0]
    assert new_id and len(store.messages.tree_for(new_id)) == 2001
    assert window.controller.conversation_id == new_id
    assert new_id not in before

    missing = tmp_path / "gone.json"
    with qtbot.waitSignal(window.files.importEnded, timeout=10000) as ended:
        window.files.import_from(missing)
    assert ended.args == [0]
    box = window.files.last_message
    assert box is not None and "gone.json" in box.text() and "Could not read" in box.text()
    qtbot.addWidget(box)
