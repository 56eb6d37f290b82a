"""The document pane end to end: real store, real llama.cpp worker, the tiny stop model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from app.storage import ConversationStore, MessageState
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient, ReadResult
from tests.conftest import STOP_PROMPT
from tests.pacing import held_reading
from tests.ui_helpers import expect, load, make_window, quick_settings, send, wait_until

LINES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Long documents are read whole: two hundred thousand characters fit in the context.",
    "Question: what is the capital of France? Answer: Paris is the capital of France.",
    "InternLM2 is a family of open language models from Shanghai AI Laboratory.",
]


def _text(chars: int) -> str:
    out, i = [], 0
    while sum(len(s) + 1 for s in out) < chars:
        out.append(f"{i}. {LINES[i % len(LINES)]}")
        i += 1
    return "\n".join(out)[:chars]


def _window(qtbot: QtBot, store: ConversationStore, client: InferenceClient, model: Path, n_ctx: int) -> MainWindow:
    window = make_window(qtbot, store, client, replace(quick_settings(), n_ctx=n_ctx))
    load(qtbot, window, model)
    return window


def _drop(window: MainWindow, path: Path) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.document_pane.dropEvent(event)
    return event


def _tokens_shown(window: MainWindow) -> int:
    facts = window.document_pane.facts.text()  # "2,000 characters · 812 tokens"
    return int(facts.split("·")[1].split()[0].replace(",", ""))


def test_dropped_document_is_counted_read_ahead_and_reused_by_the_question(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, stop_model: tuple[Path, Path, int],
        tmp_path: Path) -> None:
    window = _window(qtbot, store, client, stop_model[1], 4096)
    docs = window.controller.documents
    path = tmp_path / "notes.txt"
    path.write_text(_text(2000), encoding="utf-8")
    progress: list[tuple[int, int]] = []
    docs.readProgress.connect(lambda done, total, _left: progress.append((done, total)))
    with qtbot.waitSignal(docs.readEnded, timeout=60000) as ended:
        assert _drop(window, path).isAccepted()
    read: ReadResult = ended.args[0]
    pane = window.document_pane
    assert pane.name.text() == "notes.txt"
    assert "2,000 characters" in pane.facts.text()
    tokens = _tokens_shown(window)
    assert tokens == read.document_tokens > 100
    assert "% of the 4,096-token context" in pane.share.text()
    assert read.state == "prefilled" and read.source == "read"
    assert progress and progress[-1][0] == progress[-1][1] == read.prefix_tokens
    assert pane.reading.text().startswith("Read:")
    cid = window.controller.conversation_id
    (stored,) = store.documents.list_for(cid)
    assert stored.text == path.read_text(encoding="utf-8") and len(stored.sha256) == 64
    assert pane.find_box is not None
    pane.find_box.setText("Paris")
    assert pane.find_next() and pane.preview.textCursor().selectedText() == "Paris"

    reply = store.messages.get(send(qtbot, window, STOP_PROMPT))
    assert reply.state is MessageState.COMPLETE and reply.stats is not None
    assert reply.stats.cached_tokens >= tokens  # the question only appended to the read prefix
    assert reply.stats.prompt_tokens > read.prefix_tokens

    # Reopening the conversation shows its document; the prefix is still in memory.
    window.open_conversation(0)
    assert pane.name.text() == "" and not pane.isVisible()  # no document, no column for it
    with qtbot.waitSignal(docs.readEnded, timeout=60000) as again:
        window.open_conversation(cid)
    assert pane.isVisible() and pane.name.text() == "notes.txt" and pane.preview.toPlainText() == stored.text
    assert again.args[0].source == "memory"


def test_too_big_document_says_so_with_choices_and_sends_nothing(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, stop_model: tuple[Path, Path, int],
        tmp_path: Path) -> None:
    window = _window(qtbot, store, client, stop_model[1], 1024)
    docs = window.controller.documents
    path = tmp_path / "long.md"
    path.write_text(_text(6000), encoding="utf-8")
    with qtbot.waitSignal(docs.readEnded, timeout=60000) as ended:
        _drop(window, path)
    assert ended.args[0].state == "failed"  # the document alone overflows the context: said, not cut
    pane = window.document_pane
    assert _tokens_shown(window) > 1024 and "needs a context of" in pane.share.text()
    cid = window.controller.conversation_id
    generated: list[Any] = []
    client.finished.connect(generated.append)
    window.composer.input.setPlainText(STOP_PROMPT)
    with qtbot.waitSignal(docs.doesNotFit, timeout=30000):
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    assert pane.fit_box.isVisible() and "Not sent" in pane.fit_text.text()
    labels = [b.text() for b in pane.choice_buttons]
    assert any("Reload the model with a context of" in t for t in labels)
    assert any("Cut the document at character" in t for t in labels)
    assert store.messages.list_for(cid) == [] and not generated and not client.busy
    assert window.composer.input.toPlainText() == STOP_PROMPT  # kept for the user's choice

    # Cutting (the cut shown in the name) makes it fit: the question is then sent.
    cut = next(b for b in pane.choice_buttons if "Cut the document" in b.text())
    with qtbot.waitSignal(window.controller.replyEnded, timeout=60000):
        cut.click()
    (doc,) = store.documents.list_for(cid)
    assert doc.characters < 6000 and "first" in doc.name and path.read_text()[: doc.characters] == doc.text
    messages = store.messages.list_for(cid)
    assert len(messages) == 2 and messages[1].state is MessageState.COMPLETE


def test_removing_the_document_cancels_a_running_read(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, stop_model: tuple[Path, Path, int],
        tmp_path: Path) -> None:
    window = _window(qtbot, store, client, stop_model[1], 16384)
    docs = window.controller.documents
    path = tmp_path / "big.txt"
    path.write_text(_text(30000), encoding="utf-8")
    removed: list[int] = []

    def remove_midway(done: int, total: int, _left: float) -> None:
        if 0 < done < total and not removed:
            removed.append(done)
            window.document_pane.remove_button.click()

    docs.readProgress.connect(remove_midway)
    # After the first chunk the reading waits for the cancel: Remove always lands mid-way.
    with held_reading(client.worker.backend), \
            expect(qtbot, docs.readEnded, "the reading to end after Remove") as ended:
        _drop(window, path)
    assert removed and ended.args[0].state == "cancelled"
    assert store.documents.list_for(window.controller.conversation_id) == []
    assert window.document_pane.hint.isVisible() and window.document_pane.reading.text() == "Reading stopped."
    assert not client.busy


def test_question_sent_while_reading_waits_for_it(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, stop_model: tuple[Path, Path, int],
        tmp_path: Path) -> None:
    window = _window(qtbot, store, client, stop_model[1], 16384)
    docs = window.controller.documents
    path = tmp_path / "report.txt"
    path.write_text(_text(20000), encoding="utf-8")
    notices: list[str] = []
    window.controller.notice.connect(notices.append)
    with held_reading(client.worker.backend) as release:  # the reading waits after one chunk
        with expect(qtbot, docs.readProgress, "the reading to start"):
            _drop(window, path)
        window.composer.input.setPlainText(STOP_PROMPT)
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
        wait_until(qtbot, lambda: any("once the document has been read" in n for n in notices),
                   "the notice that the question waits for the reading")  # it waited, visibly
        with expect(qtbot, window.controller.replyEnded, "the reply after the reading") as ended:
            release.set()
    reply = store.messages.get(int(ended.args[1]))
    assert reply.state is MessageState.COMPLETE and reply.stats is not None
    assert reply.stats.cached_tokens >= _tokens_shown(window)


def test_regenerate_and_edit_check_the_fit_first_and_change_nothing_when_it_does_not_fit(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, stop_model: tuple[Path, Path, int],
        tmp_path: Path) -> None:
    window = _window(qtbot, store, client, stop_model[1], 1024)
    docs, pane, chat = window.controller.documents, window.document_pane, window.controller
    path = tmp_path / "memo.txt"
    path.write_text(_text(900), encoding="utf-8")
    with qtbot.waitSignal(docs.readEnded, timeout=60000):
        _drop(window, path)
    cid = chat.conversation_id
    send(qtbot, window, STOP_PROMPT)
    before = [(m.id, m.text, m.state, m.created) for m in store.messages.list_for(cid)]
    assert len(before) == 2 and before[1][2] is MessageState.COMPLETE

    # Regenerate with room for a 1,000-token answer: does not fit; the last reply stays.
    chat.set_sampling(replace(chat.sampling(), max_new_tokens=1000))
    assert window.composer.regenerate_button.isVisible()
    with qtbot.waitSignal(docs.doesNotFit, timeout=30000):
        window.composer.regenerate_button.click()
    assert docs.refused is not None and docs.refused.kind == "regenerate"
    assert [(m.id, m.text, m.state, m.created) for m in store.messages.list_for(cid)] == before
    assert pane.fit_box.isVisible() and window.composer.input.toPlainText() == ""
    # The larger context is loaded, then the reply is written again.
    larger = next(b for b in pane.choice_buttons if "Reload the model with a context of" in b.text())
    with qtbot.waitSignal(chat.replyEnded, timeout=120000):
        larger.click()
    after = store.messages.list_for(cid)
    assert after[0].id == before[0][0] and after[1].created > before[1][3]  # a new reply
    assert len(after) == 2 and after[1].state is MessageState.COMPLETE
    assert chat.model is not None
    n_ctx = chat.model.n_ctx
    assert n_ctx > 1024

    # Editing the question into one longer than the context: nothing is edited or deleted, and
    # the composer is still editing that question with the new text.
    chat.set_sampling(replace(chat.sampling(), max_new_tokens=32))
    question = after[0]
    window.start_edit(question.id)
    # Rare CJK characters (byte fallback: 3 real tokens each), under the 20,000-character paste limit.
    huge = "".join(chr(0x3400 + (i * 7) % 6000) for i in range(n_ctx))
    window.composer.input.setPlainText(huge)
    with qtbot.waitSignal(docs.doesNotFit, timeout=30000):
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    assert docs.refused is not None and (docs.refused.kind, docs.refused.message_id) == ("edit", question.id)
    assert [(m.id, m.text) for m in store.messages.list_for(cid)] == [(m.id, m.text) for m in after]
    assert window.composer.editing_id == question.id and window.composer.input.toPlainText() == huge
    next(b for b in pane.choice_buttons if b.text() == "Cancel").click()
    assert not pane.fit_box.isVisible()
    # A shorter edit fits: a new version of the question is answered; the old one is kept.
    window.composer.input.setPlainText("Which animal jumps over the dog?")
    with qtbot.waitSignal(chat.replyEnded, timeout=60000):
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    edited = store.messages.list_for(cid)
    assert edited[0].text == "Which animal jumps over the dog?" and edited[0].parent_id == question.parent_id
    assert store.messages.get(question.id).text == question.text
    assert len(edited) == 2 and edited[1].state is MessageState.COMPLETE and window.composer.editing_id == 0


def test_left_out_turns_and_reader_warnings_survive_a_restart(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, stop_model: tuple[Path, Path, int],
        tmp_path: Path, monkeypatch: Any) -> None:
    from app.engine.budget import Choice, ChoiceKind

    window = _window(qtbot, store, client, stop_model[1], 2048)
    docs, chat = window.controller.documents, window.controller
    path = tmp_path / "mixed.txt"
    path.write_bytes(_text(600).encode("utf-8") + b"\n\xff\xfe broken bytes\n")
    with qtbot.waitSignal(docs.readEnded, timeout=60000):
        _drop(window, path)
    warning = window.document_pane.warnings.text()
    assert "could not be decoded" in warning
    cid = chat.conversation_id
    prompts: list[str] = []
    generate = client.generate

    def spy(request: Any) -> bool:
        prompts.append(client.worker.backend.tokenizer.decode(request.prompt_ids))
        return bool(generate(request))

    monkeypatch.setattr(client, "generate", spy)
    send(qtbot, window, "Apples first")
    send(qtbot, window, "Bananas second")
    assert "Apples first" in prompts[-1]
    # The user's answer to "does not fit": leave out the oldest pair.
    docs.apply_choice(Choice(ChoiceKind.DROP_OLDEST_TURNS, n_ctx=2048, sentence="", drop_turns=1))
    assert window.document_pane.dropped_box.isVisible()
    assert "the oldest turn of" in window.document_pane.dropped.text()
    send(qtbot, window, "Cherries third")
    assert "Apples first" not in prompts[-1] and "Bananas second" in prompts[-1]
    assert len(store.messages.list_for(cid)) == 6  # left out of the prompt, never deleted

    window.close()
    store.close()
    reopened = ConversationStore(tmp_path / "chat.sqlite3")
    client2 = InferenceClient()  # a new process would have its own worker too
    generate2 = client2.generate

    def spy2(request: Any) -> bool:
        prompts.append(client2.worker.backend.tokenizer.decode(request.prompt_ids))
        return bool(generate2(request))

    monkeypatch.setattr(client2, "generate", spy2)
    try:
        assert reopened.conversations.get(cid).drop_turns == 1
        (doc,) = reopened.documents.list_for(cid)
        assert "\n".join(doc.warnings) == warning
        again = _window(qtbot, reopened, client2, stop_model[1], 2048)
        again.open_conversation(cid)
        pane = again.document_pane
        assert pane.warnings.text() == warning
        assert pane.dropped_box.isVisible() and "the oldest turn of" in pane.dropped.text()
        send(qtbot, again, "Dates fourth")
        assert "Apples first" not in prompts[-1] and "Cherries third" in prompts[-1]
        # "Include them again" undoes the choice, also for the next start.
        pane.include_button.click()
        assert not pane.dropped_box.isVisible() and reopened.conversations.get(cid).drop_turns == 0
        send(qtbot, again, "Elderberries fifth")
        assert "Apples first" in prompts[-1]
    finally:
        client2.shutdown()
        reopened.close()
