"""Answer versions in the window, end to end (real store, real llama.cpp, the tiny stop model):
Regenerate adds versions, the "‹ n / m ›" links and Alt+Left/Right switch them, a restart shows
the same ones and the chosen one, an edited question keeps the old branch, a follow-up after a
switch reads only the new part, a search hit opens its branch, a version goes to the trash."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from pytestqt.qtbot import QtBot

from app.storage import ConversationStore, Message, Role
from app.ui.chat.trash_dialog import TrashDialog
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient
from tests.conftest import STOP_PROMPT
from tests.ui_helpers import expect, make_window, send, wait_until


def _regenerate(qtbot: QtBot, window: MainWindow) -> int:
    with expect(qtbot, window.controller.replyEnded, "the regenerated reply") as ended:
        window.composer.regenerate_button.click()
    return int(ended.args[1])


def _shown(qtbot: QtBot, window: MainWindow, text: str) -> None:
    wait_until(qtbot, lambda: window.view.pending == 0 and text in window.view.toPlainText(),
               f"the transcript to show {text!r}")


def _versions(store: ConversationStore, message: Message) -> list[int]:
    return [m.id for m in store.messages.tree_for(message.conversation_id) if m.parent_id == message.parent_id]


def _click(window: MainWindow, kind: str, message_id: int) -> None:
    window.view.anchorClicked.emit(QUrl(window.view.app_link(kind, message_id)))


def test_three_regenerations_switch_and_restart_show_the_same_versions_and_the_chosen(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, client: InferenceClient,
        tmp_path: Path) -> None:
    first = store.messages.get(send(qtbot, window, STOP_PROMPT))
    cid = first.conversation_id
    again = [_regenerate(qtbot, window) for _ in range(3)]
    versions = _versions(store, first)
    assert versions == [first.id, *again]  # the answer and its three regenerations, all kept
    _shown(qtbot, window, "4 / 4")
    _click(window, "version-previous", again[-1])
    _shown(qtbot, window, "3 / 4")
    assert store.messages.list_for(cid)[-1].id == again[1]
    window.activateWindow()  # the keys are window shortcuts
    wait_until(qtbot, window.isActiveWindow, "the window to be active")
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    _shown(qtbot, window, "2 / 4")
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    _shown(qtbot, window, "1 / 4")
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)  # none before
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    _shown(qtbot, window, "2 / 4")
    assert store.messages.list_for(cid)[-1].id == again[0]
    texts = {i: store.messages.get(i).text for i in versions}
    window.close()
    store.close()
    reopened = ConversationStore(tmp_path / "chat.sqlite3")
    try:
        shown = make_window(qtbot, reopened, client)
        shown.conversations.list.setCurrentItem(shown.conversations.item_for(cid))
        _shown(qtbot, shown, "2 / 4")
        assert reopened.messages.list_for(cid)[-1].id == again[0]
        assert {i: reopened.messages.get(i).text for i in _versions(reopened, first)} == texts
    finally:
        reopened.close()


def test_an_edited_question_answered_then_switched_back_shows_every_old_turn(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    send(qtbot, window, "First question")
    send(qtbot, window, "Second question")
    cid = window.controller.conversation_id
    old = store.messages.list_for(cid)
    window.view.editRequested.emit(old[0].id)
    window.composer.input.setPlainText(STOP_PROMPT)
    with expect(qtbot, window.controller.replyEnded, "the reply to the edited question"):
        window.composer.send_button.click()
    edited = store.messages.list_for(cid)[0]
    _shown(qtbot, window, "2 / 2")
    assert "Second question" not in window.view.toPlainText()
    _click(window, "version-previous", edited.id)
    _shown(qtbot, window, "Second question")
    assert [m.id for m in store.messages.list_for(cid)] == [m.id for m in old]
    assert "1 / 2" in window.view.toPlainText()


def test_a_follow_up_after_switching_back_reads_only_the_new_part(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    first = store.messages.get(send(qtbot, window, STOP_PROMPT))
    regenerated = store.messages.get(_regenerate(qtbot, window))
    assert regenerated.stats is not None
    shared = regenerated.stats.prompt_tokens  # the prefix and the question: still in the cache
    _click(window, "version-previous", regenerated.id)
    _shown(qtbot, window, "1 / 2")
    follow = store.messages.get(send(qtbot, window, "And then?"))
    assert follow.parent_id is not None and store.messages.get(follow.parent_id).parent_id == first.id
    assert follow.stats is not None
    read = follow.stats.prompt_tokens - follow.stats.cached_tokens
    assert follow.stats.cached_tokens >= shared, (follow.stats, shared)  # never read again
    assert read <= follow.stats.prompt_tokens - shared


def test_a_search_hit_in_another_branch_opens_that_branch(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    send(qtbot, window, "A question about walruses")
    cid = window.controller.conversation_id
    old = store.messages.list_for(cid)
    window.view.editRequested.emit(old[0].id)
    window.composer.input.setPlainText(STOP_PROMPT)
    with expect(qtbot, window.controller.replyEnded, "the reply to the edited question"):
        window.composer.send_button.click()
    _shown(qtbot, window, "2 / 2")
    window.actions_["search"].trigger()
    qtbot.keyClicks(window.conversations.search_box, "walruses")
    wait_until(qtbot, lambda: window.conversations.results.count() == 2, "the title and the message hit")
    window.conversations.results.itemClicked.emit(window.conversations.results.item(1))
    _shown(qtbot, window, "walruses")
    assert [m.id for m in store.messages.list_for(cid)] == [m.id for m in old]


def test_a_deleted_version_goes_to_the_trash_and_comes_back(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    first = store.messages.get(send(qtbot, window, STOP_PROMPT))
    again = _regenerate(qtbot, window)
    _shown(qtbot, window, "2 / 2")
    _click(window, "version-delete", again)
    wait_until(qtbot, lambda: window.view.pending == 0 and "/ 2" not in window.view.toPlainText(),
               "the transcript without the switcher")
    assert store.messages.list_for(first.conversation_id)[-1].id == first.id
    assert "trash" in window.statusBar().currentMessage()
    window.versions.delete(first.id)  # the only version left: the conversation trash is for that
    assert "only version" in window.statusBar().currentMessage()
    assert store.messages.get(first.id).trashed is None
    dialog = TrashDialog(store, window)
    qtbot.addWidget(dialog)
    dialog.restored.connect(window.controller.restore)
    assert dialog.list.count() == 1 and "A version in" in dialog.list.item(0).text()
    dialog.list.item(0).setSelected(True)
    dialog.restore_selected()
    _shown(qtbot, window, "2 / 2")
    assert store.messages.list_for(first.conversation_id)[-1].id == again
    assert [m.role for m in store.messages.list_for(first.conversation_id)] == [Role.USER, Role.ASSISTANT]
