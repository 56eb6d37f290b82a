"""Answer versions in the window on the edges a reviewer checked (real store, real llama.cpp,
the tiny stop model): nothing switches or goes to the trash while a reply streams and the reply
is kept whole; Regenerate after a tool call adds a version of the whole tool chain and keeps the
old one; Alt+Left/Right keep acting on the message they switched; a document is read once for
every branch (its saved reading too)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QTextCursor, QTextDocument
from pytestqt.qtbot import QtBot

from app.storage import ConversationStore, MessageState, Role
from app.ui.chat.trash_dialog import TrashDialog
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient, ReadResult
from tests.conftest import STOP_PROMPT
from tests.ui_helpers import expect, load, make_window, quick_settings, send, wait_until


def _shown(qtbot: QtBot, window: MainWindow, text: str) -> None:
    wait_until(qtbot, lambda: window.view.pending == 0 and text in window.view.toPlainText(),
               f"the transcript to show {text!r}")


def _click(window: MainWindow, kind: str, message_id: int) -> None:
    window.view.anchorClicked.emit(QUrl(window.view.app_link(kind, message_id)))


def test_versions_do_not_change_while_a_reply_streams_and_the_reply_is_kept(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    first = store.messages.get(send(qtbot, window, STOP_PROMPT))
    cid = first.conversation_id
    tried: list[tuple[str, list[int], str]] = []

    def meddle(_cid: int, reply: int) -> None:  # the moment the new version's row exists
        before = [m.id for m in store.messages.list_for(cid)]
        for kind, target in (("version-previous", reply), ("version-next", first.id),
                             ("version-delete", reply), ("version-delete", first.id)):
            _click(window, kind, target)
            tried.append((kind, before, window.statusBar().currentMessage()))
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
        assert [m.id for m in store.messages.list_for(cid)] == before

    window.controller.replyStarted.connect(meddle)
    with expect(qtbot, window.controller.replyEnded, "the regenerated reply") as ended:
        window.composer.regenerate_button.click()
    window.controller.replyStarted.disconnect(meddle)
    reply = store.messages.get(int(ended.args[1]))
    assert len(tried) == 4 and all("Stop the reply" in said for _k, _b, said in tried)
    assert reply.state is MessageState.COMPLETE and reply.text  # streamed to its end, stored whole
    assert [m.id for m in store.messages.list_for(cid)][-1] == reply.id  # the new version is shown
    assert all(m.trashed is None for m in store.messages.tree_for(cid))
    _shown(qtbot, window, "2 / 2")


def test_regenerate_after_a_tool_call_adds_a_version_of_the_whole_chain_and_keeps_it(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    cid = window.controller.new_conversation()
    question = store.messages.add(cid, Role.USER, STOP_PROMPT)
    call = {"call": {"name": "calculator", "parameters": {"expression": "2+2"}}}
    caller = store.messages.add(cid, Role.ASSISTANT, "Let me compute.", tool=call)
    result = store.messages.add(cid, Role.ENVIRONMENT, "2+2 = 4", tool={"name": "calculator", "outcome": "ran"})
    final = store.messages.add(cid, Role.ASSISTANT, "It is 4.")
    window.controller.open(cid)
    _shown(qtbot, window, "It is 4.")
    with expect(qtbot, window.controller.replyEnded, "the regenerated reply") as ended:
        window.composer.regenerate_button.click()
    reply = store.messages.get(int(ended.args[1]))
    assert reply.parent_id == question  # a sibling of the answer that called the tool
    assert [m.id for m in store.messages.list_for(cid)] == [question, reply.id]
    assert reply.stats is not None and reply.stats.prompt_tokens > 0
    _shown(qtbot, window, "2 / 2")
    assert "It is 4." not in window.view.toPlainText()
    _click(window, "version-previous", reply.id)
    _shown(qtbot, window, "It is 4.")
    assert [m.id for m in store.messages.list_for(cid)] == [question, caller, result, final]
    assert store.messages.get(caller).tool == call  # the old chain, call and result, untouched


def _put_cursor_in(window: MainWindow, text: str) -> None:
    """As a click in the message's text does: the text cursor goes there."""
    cursor = window.view.document().find(text, 0, QTextDocument.FindFlag(0))
    assert not cursor.isNull(), text
    cursor.clearSelection()
    window.view.setTextCursor(cursor)


def test_alt_left_and_right_keep_acting_on_the_message_they_switched(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    cid = window.controller.new_conversation()
    q1 = store.messages.add(cid, Role.USER, "Opening question")
    for n in (1, 2):  # two answers, each followed by a question with two answers of its own
        answer = store.messages.add(cid, Role.ASSISTANT, f"Answer {n}", parent_id=q1)
        later = store.messages.add(cid, Role.USER, f"Follow-up {n}", parent_id=answer)
        for m in "xy":
            store.messages.add(cid, Role.ASSISTANT, f"Reply {n}{m}", parent_id=later)
    store.branches.show(store.messages.list_for(cid)[1].id)
    assert [m.text for m in store.messages.list_for(cid)][:2] == ["Opening question", "Answer 2"]
    window.controller.open(cid)
    _shown(qtbot, window, "Reply 2y")
    window.activateWindow()  # the keys are window shortcuts
    wait_until(qtbot, window.isActiveWindow, "the window to be active")
    _put_cursor_in(window, "Answer 2")
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    _shown(qtbot, window, "Answer 1")
    assert [m.text for m in store.messages.list_for(cid)] == [
        "Opening question", "Answer 1", "Follow-up 1", "Reply 1y"]
    qtbot.keyClick(window.view, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)  # back, same turn
    _shown(qtbot, window, "Answer 2")
    assert [m.text for m in store.messages.list_for(cid)][:2] == ["Opening question", "Answer 2"]
    window.composer.input.setFocus()  # from the composer too
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    _shown(qtbot, window, "Answer 1")
    assert window.view.message_at_cursor() == store.messages.list_for(cid)[1].id


def test_a_document_is_read_once_for_every_branch(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient,
        stop_model: tuple[Path, Path, int], tmp_path: Path) -> None:
    window = make_window(qtbot, store, client, replace(quick_settings(), n_ctx=2048))
    load(qtbot, window, stop_model[1])
    docs = window.controller.documents

    def drop(name: str, words: str) -> ReadResult:
        path = tmp_path / name
        path.write_text(" ".join(f"{words} {i}." for i in range(80)), encoding="utf-8")
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        with qtbot.waitSignal(docs.readEnded, timeout=60000) as ended:
            window.document_pane.dropEvent(QDropEvent(
                QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier))
        result: ReadResult = ended.args[0]
        return result

    read = drop("notes.txt", "The minutes say the office opens in May, item")
    assert read.source == "read"
    cid = window.controller.conversation_id
    send(qtbot, window, STOP_PROMPT)
    send(qtbot, window, STOP_PROMPT + " again")
    first = store.messages.list_for(cid)[0]
    window.view.editRequested.emit(first.id)
    window.composer.input.setPlainText(STOP_PROMPT + " edited")
    with expect(qtbot, window.controller.replyEnded, "the reply on the new branch") as ended:
        window.composer.send_button.click()
    reply = store.messages.get(int(ended.args[1]))
    assert reply.stats is not None and reply.stats.cached_tokens >= read.document_tokens  # not read again
    window.controller.new_conversation()
    drop("other.txt", "A different file altogether, line")  # the first document leaves the KV cache
    with qtbot.waitSignal(docs.readEnded, timeout=60000) as back:
        window.open_conversation(cid)
    assert back.args[0].source == "saved"  # its saved reading, whichever branch is shown
    _click(window, "version-previous", store.messages.list_for(cid)[0].id)
    _shown(qtbot, window, STOP_PROMPT + " again")
    wait_until(qtbot, lambda: not docs.reading, "the read-ahead after the switch to end")
    follow = store.messages.get(send(qtbot, window, STOP_PROMPT + " on the old branch"))
    assert follow.stats is not None and follow.stats.cached_tokens >= read.document_tokens


def test_an_edit_started_before_a_switch_goes_beside_the_question_it_edits(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    cid = window.controller.new_conversation()
    q1 = store.messages.add(cid, Role.USER, "Opening question")
    a1 = store.messages.add(cid, Role.ASSISTANT, "Answer one")
    q2 = store.messages.add(cid, Role.USER, "Second question")
    store.messages.add(cid, Role.ASSISTANT, "Second answer")
    other = store.messages.add(cid, Role.ASSISTANT, "Answer two", parent_id=q1)
    store.branches.show(q2)
    window.controller.open(cid)
    _shown(qtbot, window, "Second answer")
    window.view.editRequested.emit(q2)  # Edit on the second question...
    _click(window, "version-next", a1)  # ...then a look at the other answer of the first
    _shown(qtbot, window, "Answer two")
    assert [m.id for m in store.messages.list_for(cid)] == [q1, other]
    window.composer.input.setPlainText(STOP_PROMPT)
    with expect(qtbot, window.controller.replyEnded, "the reply to the edited question") as ended:
        window.composer.send_button.click()
    reply = store.messages.get(int(ended.args[1]))
    path = store.messages.list_for(cid)
    assert [m.text for m in path[:3]] == ["Opening question", "Answer one", STOP_PROMPT]
    assert path[2].parent_id == a1 and reply.parent_id == path[2].id and path[-1].id == reply.id
    assert store.messages.get(other).parent_id == q1 and store.messages.get(q2).text == "Second question"
    _shown(qtbot, window, "2 / 2")


def test_deleting_a_version_says_whether_turns_went_with_it(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    cid = window.controller.new_conversation()
    q1 = store.messages.add(cid, Role.USER, "Opening question")
    a1 = store.messages.add(cid, Role.ASSISTANT, "Answer one")
    store.messages.add(cid, Role.USER, "Second question")
    store.messages.add(cid, Role.ASSISTANT, "Second answer")
    lone = store.messages.add(cid, Role.ASSISTANT, "Answer two", parent_id=q1)
    store.messages.add(cid, Role.ASSISTANT, "Answer three", parent_id=q1)
    window.controller.open(cid)
    _shown(qtbot, window, "3 / 3")
    _click(window, "version-delete", lone)
    said = window.statusBar().currentMessage()
    assert "trash" in said and "turns after it" not in said  # nothing came after that answer
    _click(window, "version-delete", a1)
    assert "the turns after it" in window.statusBar().currentMessage()
    _shown(qtbot, window, "Answer three")
    assert [m.text for m in store.messages.list_for(cid)] == ["Opening question", "Answer three"]


def test_a_trashed_version_is_listed_whole_in_a_narrow_trash(qtbot: QtBot, store: ConversationStore) -> None:
    cid = store.conversations.create(title="A rather long conversation title about Hangzhou").id
    q = store.messages.add(cid, Role.USER, "Question")
    store.messages.add(cid, Role.ASSISTANT, "First answer")
    version = store.messages.add(cid, Role.ASSISTANT, "word " * 40, parent_id=q)
    store.branches.trash(version)
    dialog = TrashDialog(store)
    qtbot.addWidget(dialog)
    dialog.resize(360, 380)
    dialog.show()
    qtbot.waitExposed(dialog)
    item = dialog.list.item(0)
    assert "A version in" in item.text()
    wait_until(qtbot, lambda: dialog.list.visualItemRect(item).height() > 2 * dialog.list.fontMetrics().height(),
               "the version's line to wrap")
    assert dialog.list.horizontalScrollBar().maximum() == 0  # nothing to scroll to: all of it is seen
    assert dialog.list.visualItemRect(item).width() <= dialog.list.viewport().width()


def test_alt_up_and_down_reach_any_message_with_versions_without_the_mouse(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    cid = window.controller.new_conversation()
    first = store.messages.add(cid, Role.USER, "First wording")
    store.messages.add(cid, Role.ASSISTANT, "Answer to the first wording")
    q1 = store.messages.add(cid, Role.USER, "Second wording", parent_id=None)
    store.messages.add(cid, Role.ASSISTANT, "Plain answer")
    q2 = store.messages.add(cid, Role.USER, "Follow-up")
    store.messages.add(cid, Role.ASSISTANT, "Reply x")
    store.messages.add(cid, Role.ASSISTANT, "Reply y", parent_id=q2)
    window.controller.open(cid)
    _shown(qtbot, window, "Reply y")
    window.activateWindow()
    wait_until(qtbot, window.isActiveWindow, "the window to be active")
    window.composer.input.setFocus()
    keys = window.composer.input
    qtbot.keyClick(keys, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)  # from the top: the last reply
    qtbot.keyClick(keys, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)  # up to the first question
    wait_until(qtbot, lambda: window.view.message_at_cursor() == q1, "the first question to be reached")
    assert "2 of 2" in window.statusBar().currentMessage()
    qtbot.keyClick(keys, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    _shown(qtbot, window, "First wording")
    assert [m.id for m in store.messages.list_for(cid)][:1] == [first]
    assert window.versions.move_focused(-1) == 0  # nothing above the first message


def test_an_edit_whose_question_was_deleted_for_good_keeps_the_text_and_asks_it_anew(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    cid = window.controller.new_conversation()
    q1 = store.messages.add(cid, Role.USER, "First question")
    store.messages.add(cid, Role.ASSISTANT, "First answer")
    store.messages.add(cid, Role.USER, "Another first question", parent_id=None)
    store.branches.show(q1)
    window.controller.open(cid)
    _shown(qtbot, window, "First answer")
    window.view.editRequested.emit(q1)
    assert window.composer.editing_id == q1
    store.branches.trash(q1)  # Delete version, then Trash > Delete for good, meanwhile
    store.branches.purge([q1])
    window.composer.input.setPlainText(STOP_PROMPT)
    window.composer.send_button.click()
    assert "deleted for good" in window.statusBar().currentMessage()
    assert window.composer.editing_id == 0 and window.composer.input.toPlainText() == STOP_PROMPT
    with expect(qtbot, window.controller.replyEnded, "the reply to the text asked anew") as ended:
        window.composer.send_button.click()
    path = store.messages.list_for(cid)
    assert [m.text for m in path[:2]] == ["Another first question", STOP_PROMPT]
    assert path[-1].id == int(ended.args[1])


def test_the_version_arrows_are_targets_wider_than_one_character(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    cid = window.controller.new_conversation()
    question = store.messages.add(cid, Role.USER, "Which?")
    store.messages.add(cid, Role.ASSISTANT, "One")
    store.messages.add(cid, Role.ASSISTANT, "Two", parent_id=question)
    window.controller.open(cid)
    _shown(qtbot, window, "2 / 2")
    document = window.view.document()
    for arrow, kind, tip in (("‹", "version-previous", "Alt+Left"), ("›", "version-next", "Alt+Right")):
        at = document.toPlainText().index(arrow)
        hrefs = set()
        for position in (at - 1, at, at + 1):  # the space before, the arrow, the space after
            cursor = QTextCursor(document)
            cursor.setPosition(position + 1)  # charFormat(): the character before the cursor
            hrefs.add(cursor.charFormat().anchorHref())
            assert tip in cursor.charFormat().toolTip()
        assert len(hrefs) == 1 and kind in hrefs.pop()
