"""The chat window end to end: real SQLite store, real llama.cpp, the tiny stop model.

Stop and checkpoint tests hold the reply open until the test stops it (tests/pacing.py): they
never depend on how fast this machine is. Every wait says what it waited for."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from app.storage import ConversationStore, MessageState, Role
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient
from tests.conftest import STOP_PROMPT
from tests.pacing import endless_reply
from tests.ui_helpers import expect, make_window, quick_settings, send, wait_until


def _send(qtbot: QtBot, window: MainWindow, text: str) -> int:
    """Type and press Enter; returns the reply's message id once it has ended."""
    return send(qtbot, window, text)


def test_send_commits_question_first_then_streams_and_saves_reply(
        qtbot: QtBot, window: MainWindow, store: ConversationStore,
        stop_model: tuple[Path, Path, int]) -> None:
    seen: list[Any] = []

    def at_first_text(cid: int, _text: str) -> None:
        if not seen:
            seen.append([(m.role, m.text, m.state) for m in store.messages.list_for(cid)])

    window.controller.replyText.connect(at_first_text)
    reply_id = _send(qtbot, window, STOP_PROMPT)
    # While the reply streamed, the question was already committed and the reply row begun.
    assert seen and seen[0][0] == (Role.USER, STOP_PROMPT, MessageState.COMPLETE)
    assert seen[0][1][0] is Role.ASSISTANT and seen[0][1][2] is MessageState.STREAMING
    reply = store.messages.get(reply_id)
    assert reply.state is MessageState.COMPLETE and reply.text
    assert reply.stats is not None and reply.stats.new_tokens == stop_model[2]
    assert reply.stats.stop_reason == "stop_token" and reply.stats.backend == "llamacpp"
    assert reply.text.split()[0] in window.view.toPlainText()
    assert window.composer.input.toPlainText() == ""
    assert "tokens/s" in window.status.speed.text()
    assert "/ 1,024" in window.status.context_label.text()
    assert window.composer.regenerate_button.isVisible()
    assert len(window.conversations.conversation_ids()) == 1


def test_stop_mid_reply_keeps_partial_text_as_interrupted(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    window.settings.sampling["max_new_tokens"] = 960
    stop = window.actions_["stop"]
    stopped: list[int] = []

    def stop_now(*_: object) -> None:
        if stop.isEnabled() and not stopped:
            stopped.append(1)
            stop.trigger()

    window.controller.replyText.connect(stop_now)
    # The reply cannot end by itself (no end-of-sequence, a token per 50 ms at most) until Stop.
    with endless_reply(window.client.worker.backend):
        reply_id = _send(qtbot, window, "Write a lot.")
    window.controller.replyText.disconnect(stop_now)
    assert stopped == [1], "Stop was never enabled while the reply streamed"
    reply = store.messages.get(reply_id)
    assert reply.state is MessageState.INTERRUPTED, reply.state
    assert reply.text and reply.stats is not None and reply.stats.stop_reason == "cancelled"
    assert reply.stats.new_tokens < 960
    assert "Stopped" in window.view.toPlainText()
    # The next message works.
    window.store.conversations.update(window.controller.conversation_id,
                                      sampling={**window.settings.sampling, "max_new_tokens": 16})
    second = _send(qtbot, window, STOP_PROMPT)
    assert store.messages.get(second).state is MessageState.COMPLETE


def test_streaming_reply_is_checkpointed_and_survives_a_kill(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, tmp_path: Path) -> None:
    window.settings.sampling["max_new_tokens"] = 960
    window.controller.set_checkpoint_interval(20)
    window.composer.input.setPlainText("Write a lot.")
    with endless_reply(window.client.worker.backend):  # it streams until the test stops it
        with expect(qtbot, window.controller.replyStarted, "the reply to start", 10000) as started:
            qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
        reply_id = int(started.args[1])
        wait_until(qtbot, lambda: store.messages.get(reply_id).text, "a checkpoint of the reply's text")
        # What a kill leaves behind: the committed file as it is now.
        copy = tmp_path / "killed.sqlite3"
        with sqlite3.connect(store.path) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        assert store.messages.get(reply_id).state is MessageState.STREAMING  # still streaming
        with expect(qtbot, window.controller.replyEnded, "the reply to end after Stop"):
            window.controller.stop()
    reopened = ConversationStore(copy)
    try:
        assert reopened.recovered_replies == 1
        saved = reopened.messages.get(reply_id)
        assert saved.state is MessageState.INTERRUPTED and saved.text
        assert store.messages.get(reply_id).text.startswith(saved.text)
        assert reopened.messages.list_for(saved.conversation_id)[0].text == "Write a lot."
    finally:
        reopened.close()


def test_regenerate_adds_a_version_and_keeps_the_last_reply(qtbot: QtBot, window: MainWindow,
                                                             store: ConversationStore) -> None:
    first = store.messages.get(_send(qtbot, window, STOP_PROMPT))
    cid = window.controller.conversation_id
    with expect(qtbot, window.controller.replyEnded, "the regenerated reply") as ended:
        window.composer.regenerate_button.click()
    messages = store.messages.list_for(cid)
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT]
    assert messages[1].id == ended.args[1] != first.id  # a new version is shown
    assert messages[1].parent_id == first.parent_id == messages[0].id
    kept = store.messages.get(first.id)  # the old reply is kept as it was, not shown
    assert (kept.text, kept.state, kept.stats, kept.token_ids, kept.chosen) == (
        first.text, first.state, first.stats, first.token_ids, False)
    assert messages[1].state is MessageState.COMPLETE and messages[1].text == first.text  # greedy


def test_edit_an_earlier_message_starts_a_branch_and_keeps_the_old_one(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    _send(qtbot, window, "First question")
    _send(qtbot, window, "Second question")
    cid = window.controller.conversation_id
    old = store.messages.list_for(cid)
    first = old[0]
    window.view.editRequested.emit(first.id)  # the Edit link of the first message
    assert window.composer.input.toPlainText() == "First question"
    banner = window.composer.banner_label.text()
    assert "new branch" in banner and "3 later" in banner and "kept" in banner
    window.composer.input.setPlainText(STOP_PROMPT)
    with expect(qtbot, window.controller.replyEnded, "the reply to the edited question"):
        window.composer.send_button.click()
    messages = store.messages.list_for(cid)
    assert [(m.role, m.state) for m in messages] == [(Role.USER, MessageState.COMPLETE),
                                                     (Role.ASSISTANT, MessageState.COMPLETE)]
    assert messages[0].id != first.id and messages[0].text == STOP_PROMPT
    assert messages[0].parent_id == first.parent_id  # a version of the first question
    assert "Second question" not in window.view.toPlainText()
    assert not window.composer.banner_label.isVisible()
    store.branches.choose(first.id)  # the old branch, whole
    assert [(m.id, m.text, m.token_ids) for m in store.messages.list_for(cid)] == [
        (m.id, m.text, m.token_ids) for m in old]


def test_everything_is_there_after_reopening(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                             client: InferenceClient) -> None:
    _send(qtbot, window, STOP_PROMPT)
    cid = window.controller.conversation_id
    text = window.view.toPlainText()
    window.close()
    window.store.close()
    store = ConversationStore(tmp_path / "chat.sqlite3")
    try:
        again = make_window(qtbot, store, client)
        assert len(again.conversations.conversation_ids()) == 1
        again.conversations.list.setCurrentItem(again.conversations.item_for(cid))
        assert again.controller.conversation_id == cid
        assert again.view.toPlainText() == text
    finally:
        store.close()


def test_drop_a_gguf_on_the_window_loads_it(qtbot: QtBot, store: ConversationStore,
                                            client: InferenceClient, tmp_path: Path,
                                            stop_model: tuple[Path, Path, int]) -> None:
    window = make_window(qtbot, store, client, quick_settings())
    assert window.stack.currentWidget() is window.welcome

    def drop(path: Path) -> QDropEvent:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                           Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        window.dropEvent(event)
        return event

    note = tmp_path / "notes.txt"
    note.write_text("not a model")
    assert not drop(note).isAccepted()
    with expect(qtbot, window.controller.modelChanged, "the dropped model to load",
                fail_on=[window.controller.loadFailed]):
        assert drop(stop_model[1]).isAccepted()
    assert window.stack.currentIndex() == 1
    # With a model open, a document dropped on the window goes to the document pane.
    assert drop(note).isAccepted()
    assert window.document_pane.isVisible()
    wait_until(qtbot, lambda: window.controller.conversation_id is not None and any(
        d.name == "notes.txt" for d in store.documents.list_for(window.controller.conversation_id)),
        "the dropped notes.txt to be stored with the conversation", 20000)
    assert "llama.cpp" in window.status.device.text()
    assert window.status.device.toolTip()
    # The dropped document is read ahead now: the test ends once that reading has (the store
    # closes right after the test, and a late "reading ended" would find it closed).
    wait_until(qtbot, lambda: not window.controller.documents.reading and window.client.busy is False,
               "the read-ahead of the dropped document to end", 60000)
    assert window.settings.model_path == str(stop_model[1])
