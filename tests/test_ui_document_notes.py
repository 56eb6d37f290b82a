"""Replacing a conversation's document: asked first, a note in the transcript, answers name
their document; the note never reaches the model. Real window offscreen, real llama.cpp."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.internlm2.chat_format import Sampling
from app.storage import ConversationStore, Message, MessageState, Role
from app.ui.chat.prompting import conversation_for
from app.ui.documents import document_notes as notes
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient
from tests.conftest import STOP_PROMPT
from tests.ui_helpers import expect, load, make_window, quick_settings, send, wait_until


def _window(qtbot: QtBot, store: ConversationStore, client: InferenceClient, model: Path) -> MainWindow:
    window = make_window(qtbot, store, client, replace(quick_settings(), n_ctx=2048))
    load(qtbot, window, model)
    return window


def _open(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    """Open `path` in the pane and wait until it is attached and read ahead."""
    docs = window.controller.documents
    with expect(qtbot, docs.readEnded, f"reading {path.name} ahead", fail_on=[docs.loadFailed]):
        window.document_pane.open_path(path)


def _answer(monkeypatch: pytest.MonkeyPatch, button: QMessageBox.StandardButton) -> list[str]:
    asked: list[str] = []

    def question(_parent: Any, _title: str, text: str, *_args: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _view_text(qtbot: QtBot, window: MainWindow) -> str:
    wait_until(qtbot, lambda: window.view.pending == 0, "the chat view's rendering")
    return window.view.toPlainText()


def test_replacing_under_answers_asks_leaves_a_note_and_answers_name_their_document(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, stop_model: tuple[Path, Path, int],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    window = _window(qtbot, store, client, stop_model[1])
    docs = window.controller.documents
    _open(qtbot, window, _file(tmp_path, "minutes.txt", "The meeting agreed on Tuesday.\n" * 5))
    cid = window.controller.conversation_id
    first = send(qtbot, window, STOP_PROMPT)
    assert "about minutes.txt" in _view_text(qtbot, window)

    # Cancel: nothing changes, nothing is read.
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    window.document_pane.open_path(_file(tmp_path, "budget.txt", "The budget is 300 euros.\n" * 5))
    assert asked == ["Replace minutes.txt? The earlier answer was about it; it is kept."]
    assert docs.document().name == "minutes.txt" and not docs.importing
    assert [m.role for m in store.messages.list_for(cid)] == [Role.USER, Role.ASSISTANT]

    # Yes: replaced, with a note that is never sent to the model.
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    _open(qtbot, window, tmp_path / "budget.txt")
    assert len(asked) == 1 and docs.document().name == "budget.txt"
    messages = store.messages.list_for(cid)
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT, Role.SYSTEM]
    assert messages[-1].text == "Document replaced: minutes.txt → budget.txt"
    shown = _view_text(qtbot, window)
    assert "Document replaced: minutes.txt → budget.txt" in shown and "about minutes.txt" in shown

    # The prompt of the next question is the same with the note as without it.
    model, chat = window.controller.model, store.conversations.get(cid)
    assert model is not None
    with_note = conversation_for(model, chat, messages, docs.document(), Sampling()).build(question="Next?")
    bare = [m for m in messages if m.role is not Role.SYSTEM]
    without = conversation_for(model, chat, bare, docs.document(), Sampling()).build(question="Next?")
    assert with_note.request.prompt_ids == without.request.prompt_ids
    assert "Document replaced" not in model.tokenizer.decode(with_note.request.prompt_ids)

    # The next answer is about the new document; the earlier one still names the old.
    second = send(qtbot, window, STOP_PROMPT)
    assert store.messages.get(second).state is MessageState.COMPLETE
    window.open_conversation(0)
    window.open_conversation(cid)
    shown = _view_text(qtbot, window)
    assert shown.index("about minutes.txt") < shown.index("Document replaced") < shown.index("about budget.txt")
    assert shown.count("about ") == 2 and first != second

    # Two answers later the question counts them; Regenerate still answers the last question.
    _settle(qtbot, window, "reopening")
    assert window.composer.regenerate_button.isEnabled()
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    window.document_pane.open_path(tmp_path / "minutes.txt")
    assert asked == ["Replace budget.txt? The 2 earlier answers were about it; they are kept."]
    _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    _open(qtbot, window, tmp_path / "minutes.txt")
    assert store.messages.list_for(cid)[-1].role is Role.SYSTEM
    _settle(qtbot, window, "replacing again")
    assert window.composer.regenerate_button.isEnabled()  # a note is not a turn


def test_a_conversation_without_answers_replaces_without_asking(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, stop_model: tuple[Path, Path, int],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    window = _window(qtbot, store, client, stop_model[1])
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    _open(qtbot, window, _file(tmp_path, "a.txt", "first document\n" * 3))
    _open(qtbot, window, _file(tmp_path, "b.txt", "second document\n" * 3))
    assert asked == [] and window.controller.documents.document().name == "b.txt"
    assert store.messages.list_for(window.controller.conversation_id) == []  # no note: no answers


def _msg(i: int, role: Role, text: str = "x") -> Message:
    return Message(id=i, conversation_id=1, position=i, parent_id=i - 1 or None, role=role, text=text,
                   state=MessageState.COMPLETE, stats=None, error="", created=datetime(2026, 1, 1))


def _names(rng: random.Random) -> list[str]:
    """Generated names, hostile ones included: the arrow itself, spaces, newlines, long ones."""
    parts = ["a", "→", " → ", "minutes", ".pdf", " ", "\n", "文档", "x" * 300, "→ b"]
    return ["".join(rng.choice(parts) for _ in range(rng.randint(1, 5))) or "n" for _ in range(6)]


@pytest.mark.parametrize("seed", range(20))
def test_answers_are_attributed_through_any_chain_of_replacements(seed: int) -> None:
    rng = random.Random(seed)
    names = [n for n in _names(rng) if " ".join(n.split())]
    messages: list[Message] = []
    expected: dict[int, str] = {}
    current: str | None = None
    for name in names:
        for _ in range(rng.randint(0, 2)):
            messages.append(_msg(len(messages) + 1, Role.USER))
            messages.append(_msg(len(messages) + 1, Role.ASSISTANT))
            if current is not None:
                expected[messages[-1].id] = notes._one_line(current)
        step = rng.choice(["replace", "remove"]) if current is not None else "attach"
        if step == "replace":
            text = notes.replaced_text(current or "", name)
        elif step == "attach":
            text = notes.attached_text(name)
        else:
            text = notes.removed_text(current or "")
        messages.append(_msg(len(messages) + 1, Role.SYSTEM, text))
        current = None if step == "remove" else name
    found = notes.attribute(messages, current)
    assert found.answers == expected
    assert len(found.notes) == len(names)
    assert all(len(n.old) <= 200 and len(n.new) <= 200 and "\n" not in n.old + n.new
               for n in found.notes.values())


# -- the pane's sentences never contradict each other ---------------------------------------------
_WHAT_TO_DO = ("Drop a file here", "load a model", "sending will offer", "choose what to do",
               "Start a new conversation", "remove the document", "Open a model")
_LINES = "The quick brown fox jumps over the lazy dog near the river bank; {i} more.\n"


def _doc_text(chars: int) -> str:
    return "".join(_LINES.format(i=i) for i in range(chars // len(_LINES) + 1))[:chars]


def _instructions(window: MainWindow) -> list[str]:
    """The "what to do" sentences the pane shows now (visible labels only)."""
    from PySide6.QtWidgets import QLabel

    pane = window.document_pane
    shown = [label.text() for label in pane.findChildren(QLabel) if label.isVisibleTo(pane) and label.text()]
    return [s for text in shown for s in _WHAT_TO_DO if s in text]


def _settle(qtbot: QtBot, window: MainWindow, what: str) -> None:
    docs = window.controller.documents
    doc = docs.document()
    wait_until(qtbot, lambda: not docs.reading and not docs._jobs and not docs.importing
               and (doc is None or not docs.has_model() or docs.cached_count(doc.sha256) is not None),
               f"the pane settling ({what})")


def _check(qtbot: QtBot, window: MainWindow, what: str) -> list[str]:
    _settle(qtbot, window, what)
    found = _instructions(window)
    assert len(found) <= 1, f"{what}: more than one thing to do: {found}"
    if not store_turns(window):
        assert "Start a new conversation" not in found, f"{what}: a new chat told to start a new one"
    return found


def store_turns(window: MainWindow) -> int:
    cid = window.controller.conversation_id
    return len(window.store.messages.list_for(cid)) if cid else 0


def test_the_pane_says_at_most_one_thing_to_do_in_every_state(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, stop_model: tuple[Path, Path, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import Qt

    from app.documents import read_pasted_text
    from app.engine.budget import FreeMemory, Verdict
    from app.ui.documents import document_jobs

    window = make_window(qtbot, store, client, replace(quick_settings(), n_ctx=1024))
    docs, pane = window.controller.documents, window.document_pane
    sizes = {"fits": 300, "needs larger": 6000}
    assert _check(qtbot, window, "no model, no document") == ["Drop a file here"]
    docs.attach(read_pasted_text(_doc_text(300), "small.txt"))
    assert _check(qtbot, window, "no model, a document") == ["load a model"]

    load(qtbot, window, stop_model[1])
    seen: set[tuple[str, Verdict]] = set()
    for chat in ("new chat", "chat with turns"):
        window.open_conversation(0)
        if chat == "chat with turns":
            docs.attach(read_pasted_text(_doc_text(sizes["fits"]), "fits.txt"))
            _settle(qtbot, window, "before the first question")
            send(qtbot, window, STOP_PROMPT)
        for memory in ("enough memory", "little memory"):
            if memory == "little memory":  # the machine's memory allows no larger context
                monkeypatch.setattr(document_jobs, "free_memory", lambda _device="cpu": FreeMemory("RAM", 1))
            for size, chars in sizes.items():
                what = f"{chat}, {memory}, document {size}"
                docs.attach(read_pasted_text(_doc_text(chars) + what, f"{size}.txt"))
                found = _check(qtbot, window, what)
                count = docs.cached_count(docs.document().sha256)
                assert count is not None
                if count.verdict is not Verdict.FITS:
                    assert found == ["sending will offer"], f"{what}: {found}"
                    assert "Start a new conversation" not in pane.reading.text()
                    window.composer.input.setPlainText(STOP_PROMPT)
                    with expect(qtbot, docs.doesNotFit, f"the choices ({what})"):
                        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
                    assert pane.fit_box.isVisible()
                    assert _check(qtbot, window, f"{what}, choosing") == ["choose what to do"]
                    pane.choice_buttons[-1].click()  # Cancel
                    assert _check(qtbot, window, f"{what}, cancelled") == ["sending will offer"]
                seen.add((memory, count.verdict))
        monkeypatch.undo()
    assert seen == {("enough memory", Verdict.FITS), ("enough memory", Verdict.NEEDS_LARGER),
                    ("little memory", Verdict.FITS), ("little memory", Verdict.DOES_NOT_FIT)}
