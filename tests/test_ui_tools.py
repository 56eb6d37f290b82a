"""Function calling through the real window: parse -> permission -> the tool -> its result -> the reply goes on.

The random tiny model never writes a call by itself, so its sampling is scripted
(tests/server_helpers.ScriptedBackend: the real llama.cpp backend and loop, only the sampled
ids dictated). Everything else is the app's: the worker thread, the controller, the store, the
view's links, the prompt built by the one conversation model. Every wait says what it waited for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from pytestqt.qtbot import QtBot

from app.engine.loader import LoadSpec
from app.internlm2.chat_format import Special
from app.internlm2.tokenizer import ACTION_END, ACTION_START, IM_END, PLUGIN
from app.storage import ConversationStore, Message, Role
from app.storage.export import parse_archive, to_dict, write_archive
from app.ui.chat.prompting import conversation_for
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient
from tests.server_helpers import ScriptedBackend
from tests.ui_helpers import expect, load, make_window, quick_settings, wait_until

CALC = {"name": "calculator", "parameters": {"expression": "(17+5)*3/4"}}
CLOCK = {"name": "current_date_time", "parameters": {}}


class _Scripted:
    """The window's model factory: a ScriptedBackend, kept for the test to script."""

    def __init__(self) -> None:
        self.backend: ScriptedBackend | None = None

    def __call__(self, spec: LoadSpec, progress: Any = None) -> ScriptedBackend:
        self.backend = ScriptedBackend(spec.path, n_ctx=spec.n_ctx or 1024, kv_type=spec.kv_type)
        return self.backend


@pytest.fixture()
def scripted() -> _Scripted:
    return _Scripted()


@pytest.fixture()
def scripted_client(scripted: _Scripted) -> Iterator[InferenceClient]:
    c = InferenceClient(scripted)
    yield c
    c.shutdown()


@pytest.fixture()
def window(qtbot: QtBot, store: ConversationStore, scripted_client: InferenceClient,
           tiny_gguf: Path) -> MainWindow:
    w = make_window(qtbot, store, scripted_client, quick_settings())
    load(qtbot, w, tiny_gguf)
    return w


def _backend(scripted: _Scripted) -> ScriptedBackend:
    assert scripted.backend is not None
    return scripted.backend


def _call(body: dict[str, Any] | str) -> list[str | Special]:
    """A call as the model writes it; with tools offered `<|action_end|>` ends the reply."""
    raw = body if isinstance(body, str) else json.dumps(body)
    return [Special(ACTION_START), Special(PLUGIN), "\n" + raw, Special(ACTION_END)]


def _open_with_tools(window: MainWindow, *names: str) -> int:
    cid = window.controller.new_conversation()
    for name in names:
        window.side.tools[name].setChecked(True)  # the side panel's real switch
    return cid


def _ask(qtbot: QtBot, window: MainWindow, text: str, *, permission: bool = True) -> int:
    """Type and send; return the reply's id once it ended (and, with `permission`, asked)."""
    window.composer.input.setPlainText(text)
    signal = window.controller.tools.permissionNeeded if permission else window.controller.replyEnded
    with expect(qtbot, signal, f"the reply to {text!r}" + (" asking to run its call" if permission else ""),
                fail_on=[window.controller.client.failed]) as got:
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    return int(got.args[1])


def _click(qtbot: QtBot, window: MainWindow, kind: str, message_id: int, what: str) -> None:
    """Click one of the view's tool links and wait for the reply that continues after the result."""
    with expect(qtbot, window.controller.replyEnded, what, fail_on=[window.controller.client.failed]):
        window.view.anchorClicked.emit(QUrl(window.view.app_link(kind, message_id)))


def _shown(qtbot: QtBot, window: MainWindow, text: str) -> str:
    wait_until(qtbot, lambda: window.view.pending == 0 and text in window.view.toPlainText(),
               f"the view showing {text!r}")
    return window.view.toPlainText()


def _messages(store: ConversationStore, cid: int) -> list[Message]:
    return store.messages.list_for(cid)


def test_a_call_is_shown_allowed_run_and_the_answer_goes_on(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    backend = _backend(scripted)
    cid = _open_with_tools(window, "calculator")
    backend.script_text("Let me compute.", *_call(CALC), "It is 16.5.", Special(IM_END))
    reply = _ask(qtbot, window, "What is (17+5)*3/4?")

    # Parsed: the reply is its text plus a call, never the markup.
    msg = store.messages.get(reply)
    assert msg.text == "Let me compute."
    assert msg.tool is not None and msg.tool["call"]["name"] == "calculator"
    assert msg.tool["call"]["parameters"] == CALC["parameters"]
    first_prompt = backend.tokenizer.decode(list(backend.cached_tokens), skip_special=False)
    assert "<|im_start|>system name=<|plugin|>\n" in first_prompt and '"calculator"' in first_prompt
    shown = _shown(qtbot, window, "Run calculator?")
    assert "Calls the tool calculator with" in shown and "(17+5)*3/4" in shown
    assert "<|action" not in shown and '"name"' not in shown
    assert [m.role for m in _messages(store, cid)] == [Role.USER, Role.ASSISTANT]  # nothing ran yet

    _click(qtbot, window, "tool-once", reply, "the answer after the calculator's result")
    roles = [m.role for m in _messages(store, cid)]
    assert roles == [Role.USER, Role.ASSISTANT, Role.ENVIRONMENT, Role.ASSISTANT]
    result, final = _messages(store, cid)[2:]
    assert result.text == "(17+5)*3/4 = 33/2 ≈ 16.5"
    assert result.tool == {"name": "calculator", "outcome": "ran"}
    assert final.text == "It is 16.5."
    # The result went back as the environment turn, after the call's exact ids, and the model
    # continued from there; only the new part was read (the rest came from the cache).
    after = backend.tokenizer.decode(list(backend.cached_tokens), skip_special=False)
    assert ("<|action_end|><|im_end|>\n<|im_start|>environment name=<|plugin|>\n(17+5)*3/4 = 33/2 ≈ 16.5"
            "<|im_end|>\n<|im_start|>assistant\n") in after
    assert msg.stats is not None and final.stats is not None
    assert final.stats.cached_tokens >= msg.stats.prompt_tokens + msg.stats.new_tokens - 1
    shown = _shown(qtbot, window, "It is 16.5.")
    assert "The result of calculator." in shown and "33/2" in shown and "Run calculator?" not in shown
    assert window.controller.tools.pending(cid) == 0


def test_several_calls_always_and_deny(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    backend = _backend(scripted)
    cid = _open_with_tools(window, "calculator", "current_date_time")
    backend.script_text(*_call(CALC), *_call(CLOCK), "Done.", Special(IM_END))
    first = _ask(qtbot, window, "Two things, please.")
    # "Always" runs the calculator; the model's next call (the clock) asks again, and is denied.
    with expect(qtbot, window.controller.tools.permissionNeeded, "the second call asking"):
        window.view.anchorClicked.emit(QUrl(window.view.app_link("tool-always", first)))
    second = [m for m in _messages(store, cid) if m.role is Role.ASSISTANT][-1].id
    _click(qtbot, window, "tool-deny", second, "the answer after the denied call")
    messages = _messages(store, cid)
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT, Role.ENVIRONMENT, Role.ASSISTANT,
                                          Role.ENVIRONMENT, Role.ASSISTANT]
    assert messages[2].tool == {"name": "calculator", "outcome": "ran"}
    assert messages[4].tool == {"name": "current_date_time", "outcome": "denied"}
    assert "did not allow" in messages[4].text and messages[5].text == "Done."
    assert store.conversations.get(cid).tools == {"enabled": ["calculator", "current_date_time"],
                                                  "always": ["calculator"]}
    assert "You did not allow current_date_time to run." in _shown(qtbot, window, "Done.")
    # A stale link (that call was answered) does nothing.
    window.view.anchorClicked.emit(QUrl(window.view.app_link("tool-once", second)))
    assert len(_messages(store, cid)) == 6

    # Allowed always: the next calculator call runs without asking.
    backend.script_text("Again:", *_call(CALC), "Same.", Special(IM_END))
    asked: list[object] = []
    window.controller.tools.permissionNeeded.connect(lambda *a: asked.append(a))
    _ask(qtbot, window, "Once more?", permission=False)
    wait_until(qtbot, lambda: _messages(store, cid)[-1].text == "Same.", "the answer after the allowed call")
    assert asked == [] and _messages(store, cid)[-2].tool == {"name": "calculator", "outcome": "ran"}


def test_malformed_call_is_text_with_a_note_and_an_unoffered_tool_runs_nothing(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    backend = _backend(scripted)
    cid = _open_with_tools(window)  # every tool off
    backend.script_text("Hmm", *_call('{"name": "calculator", "parameters": {broken'), Special(IM_END))
    reply = _ask(qtbot, window, "Broken?", permission=False)
    msg = store.messages.get(reply)
    assert msg.tool is not None and "malformed" in msg.tool and "{broken" in msg.text
    assert "could not be read" in _shown(qtbot, window, "{broken")
    assert [m.role for m in _messages(store, cid)] == [Role.USER, Role.ASSISTANT]

    # A well-formed call of a tool this conversation does not offer: nothing runs, nothing asks,
    # the result says so and the model goes on.
    backend.script_text(*_call(CALC), Special(IM_END), "Without it, then.", Special(IM_END))
    _ask(qtbot, window, "Compute?", permission=False)
    wait_until(qtbot, lambda: _messages(store, cid)[-1].text == "Without it, then.",
               "the answer after the refused call")
    env = _messages(store, cid)[-2]
    assert env.role is Role.ENVIRONMENT and env.tool == {"name": "calculator", "outcome": "unavailable"}
    assert "is not switched on" in _shown(qtbot, window, "Without it, then.")


def test_a_waiting_call_survives_a_restart_and_tool_turns_round_trip_exactly(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    backend = _backend(scripted)
    cid = _open_with_tools(window, "calculator")
    script = backend.script_text("Let me compute.", *_call(CALC))
    reply = _ask(qtbot, window, "What is (17+5)*3/4?")
    msg = store.messages.get(reply)
    assert msg.token_ids == tuple(script)  # the reply's exact ids, call markup and its stop included
    # The waiting call is read from the store: reopened, the conversation asks again.
    window.controller.open(0)
    assert "Run calculator?" not in window.view.toPlainText()
    assert not window.side.tools["calculator"].isChecked()
    window.controller.open(cid)
    assert window.controller.tools.pending(cid) == reply
    _shown(qtbot, window, "Run calculator?")
    assert window.side.tools["calculator"].isChecked() and not window.side.tools["search_document"].isChecked()

    # Export -> import: the tool turns and the switches travel; the prompt is the same ids, and a
    # reply without its ids is tokenized (text + call markup) back to exactly what was generated.
    store.messages.add(cid, Role.ENVIRONMENT, "(17+5)*3/4 = 33/2 ≈ 16.5",
                       tool={"name": "calculator", "outcome": "ran"})
    chat = store.conversations.get(cid)
    archive = to_dict(chat, _messages(store, cid), [], "2026-01-01T00:00:00.000000Z")
    copy = write_archive(store.db, parse_archive(json.dumps(archive)))
    assert store.conversations.get(copy).tools == chat.tools
    info = window.controller.model
    assert info is not None

    def prompt(messages: list[Message], conversation: int) -> list[int]:
        convo = conversation_for(info, store.conversations.get(conversation), messages, None,
                                 window.controller.sampling())
        return list(convo.build(convo.turns).request.prompt_ids)

    original = prompt(_messages(store, cid), cid)
    assert prompt(_messages(store, copy), copy) == original
    no_ids = [m if m.role is not Role.ASSISTANT else replace(m, token_ids=None) for m in _messages(store, copy)]
    assert prompt(no_ids, copy) == original


def test_the_call_is_held_back_while_the_reply_streams(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    backend = _backend(scripted)
    _open_with_tools(window, "calculator")
    backend.script_text("Let me compute.", *_call(CALC)[:-1])
    backend.hold()  # the reply stays open after the call's markup until released
    window.composer.input.setPlainText("What is (17+5)*3/4?")
    with expect(qtbot, window.controller.tools.permissionNeeded, "the call asking once released",
                fail_on=[window.controller.client.failed]):
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
        wait_until(qtbot, lambda: backend.held.is_set() and "Preparing a tool call…" in window.view.toPlainText(),
                   "the streamed text and the call's placeholder")
        streamed = window.view.toPlainText()
        assert "Let me compute." in streamed and '"name"' not in streamed and "expression" not in streamed
        backend.script_text(Special(ACTION_END))  # released, the model closes its call: the turn ends
        backend.release()
    shown = _shown(qtbot, window, "Run calculator?")
    assert "Preparing a tool call…" not in shown and "Calls the tool calculator with" in shown


def test_an_answer_runs_a_bounded_number_of_calls(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    backend = _backend(scripted)
    cid = _open_with_tools(window, "calculator")
    store.conversations.update(cid, tools={"enabled": ["calculator"], "always": ["calculator"]})
    backend.script_text(*[part for _ in range(6) for part in _call(CALC)])  # a model that calls forever
    notices: list[str] = []
    window.controller.notice.connect(notices.append)
    window.composer.input.setPlainText("Loop?")
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    wait_until(qtbot, lambda: any("already made 4 tool calls" in n for n in notices),
               "the sentence that the fifth call was not run")
    wait_until(qtbot, lambda: window.controller.activity.can_send, "the window idle again")
    roles = [m.role for m in _messages(store, cid)]
    assert roles.count(Role.ENVIRONMENT) == 4 and roles[-1] is Role.ASSISTANT
    assert window.controller.tools.pending(cid) == 0


def _long_document(rng_seed: int, chars: int, planted: str) -> tuple[str, int]:
    """Generated words of about `chars` characters with `planted` somewhere in the second half."""
    import random

    rng = random.Random(rng_seed)
    words: list[str] = []
    size = 0
    while size < chars:
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        words.append(word)
        size += len(word) + 1
    at = rng.randint(len(words) // 2, len(words) - 1)
    text = " ".join(words[:at]) + " " + planted + " " + " ".join(words[at:])
    return text, text.index(planted)


def test_a_document_that_does_not_fit_is_searched_by_the_tool(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    """The search tool is for documents that do not fit whole: with it on, the prompt names the
    document instead of holding it, and the model's search finds the passage with its position."""
    backend = _backend(scripted)
    planted = "The Hangzhou office opens in May."
    text, at = _long_document(15, 200_000, planted)
    cid = _open_with_tools(window)
    store.documents.attach(cid, "minutes.txt", text)
    window.controller.open(cid)
    docs = window.controller.documents
    # Without the tool the document must go whole into a 1,024-token context: refused, nothing sent.
    window.composer.input.setPlainText("When does the office open?")
    with expect(qtbot, docs.doesNotFit, "the refusal of a document that does not fit"):
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    assert _messages(store, cid) == []

    wait_until(qtbot, lambda: "sending will offer" in window.document_pane.share.text() or
               window.document_pane.fit_box.isVisible(), "the pane saying the document does not fit")
    window.side.tools["search_document"].setChecked(True)
    wait_until(qtbot, lambda: "The document search is on" in window.document_pane.share.text(),
               "the pane saying the document need not fit")
    assert "sending will offer" not in window.document_pane.share.text()
    backend.script_text(*_call({"name": "search_document", "parameters": {"query": "Hangzhou office"}}),
                        "In May.", Special(IM_END))
    reply = _ask(qtbot, window, "When does the office open?")
    prompt = backend.tokenizer.decode(list(backend.cached_tokens), skip_special=False)
    assert "minutes.txt" in prompt and "200,0" in prompt and text[:2000] not in prompt
    _click(qtbot, window, "tool-once", reply, "the answer after the search")
    result = _messages(store, cid)[-2]
    assert result.role is Role.ENVIRONMENT and result.tool == {"name": "search_document", "outcome": "ran"}
    assert planted in result.text and "minutes.txt" in result.text
    first, last = (int(n.replace(",", "")) for n in result.text.split("[characters ")[1].split("]")[0].split("-"))
    assert first <= at < at + len(planted) <= last and planted in text[first:last]  # the positions are true
    assert _messages(store, cid)[-1].text == "In May."


def test_a_search_without_a_document_says_so(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    backend = _backend(scripted)
    cid = _open_with_tools(window, "search_document")
    store.conversations.update(cid, tools={"enabled": ["search_document"], "always": ["search_document"]})
    backend.script_text(*_call({"name": "search_document", "parameters": {"query": "anything"}}),
                        "There is none.", Special(IM_END))
    _ask(qtbot, window, "Search it?", permission=False)
    wait_until(qtbot, lambda: _messages(store, cid)[-1].text == "There is none." and window.controller.activity.can_send,
               "the answer after the search")
    assert _messages(store, cid)[-2].text == "No document is attached to this conversation."


def test_keys_answer_a_call_and_always_outlives_a_restart_while_a_denial_does_not(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted,
        tiny_gguf: Path) -> None:
    backend = _backend(scripted)
    cid = _open_with_tools(window, "calculator", "current_date_time")
    backend.script_text(*_call(CALC), "Computed.", Special(IM_END))
    _ask(qtbot, window, "Compute?")
    assert "Alt+Y" in _shown(qtbot, window, "Run calculator?")
    window.activateWindow()  # the keys are window shortcuts
    wait_until(qtbot, window.isActiveWindow, "the window to be active")
    with expect(qtbot, window.controller.replyEnded, "the answer after Alt+A"):
        qtbot.keyClick(window.composer.input, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    backend.script_text(*_call(CLOCK), "No clock.", Special(IM_END))
    _ask(qtbot, window, "Time?")
    _shown(qtbot, window, "Run current_date_time?")
    with expect(qtbot, window.controller.replyEnded, "the answer after Alt+N"):
        qtbot.keyClick(window.composer.input, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    outcomes = [m.tool for m in _messages(store, cid) if m.role is Role.ENVIRONMENT]
    assert outcomes == [{"name": "calculator", "outcome": "ran"}, {"name": "current_date_time", "outcome": "denied"}]
    # With no call waiting the keys do nothing.
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
    assert len(_messages(store, cid)) == 8

    # A restart: the window closes, the database is opened again by a new window and model.
    window.close()
    path = store.db.path
    store.close()
    again = _Scripted()
    client = InferenceClient(again)
    reopened = ConversationStore(path)
    try:
        shown = make_window(qtbot, reopened, client, quick_settings())
        load(qtbot, shown, tiny_gguf)
        shown.controller.open(cid)
        assert shown.side.tools["calculator"].isChecked() and shown.side.tools["current_date_time"].isChecked()
        backend = _backend(again)
        backend.script_text(*_call(CALC), "Again computed.", Special(IM_END))
        asked: list[object] = []
        shown.controller.tools.permissionNeeded.connect(lambda *a: asked.append(a))
        _ask(qtbot, shown, "Compute again?", permission=False)
        wait_until(qtbot, lambda: reopened.messages.list_for(cid)[-1].text == "Again computed."
                   and shown.controller.activity.can_send,
                   "the always-allowed call running without a question after the restart")
        assert asked == []
        backend.script_text(*_call(CLOCK), "Still no clock.", Special(IM_END))
        _ask(qtbot, shown, "Time now?")  # the denial was for that call only: it asks again
        assert "Run current_date_time?" in _shown(qtbot, shown, "Run current_date_time?")
    finally:
        shown.close()
        client.shutdown()
        reopened.close()


def test_stop_during_a_tool_run_stores_nothing_and_the_call_asks_again(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from app.ui.chat import tool_controller

    backend = _backend(scripted)
    cid = _open_with_tools(window, "calculator")
    backend.script_text(*_call(CALC))
    reply = _ask(qtbot, window, "Compute slowly?")
    started, release = threading.Event(), threading.Event()
    real = tool_controller.run_call

    def slow(*args: Any, **kwargs: Any) -> Any:  # a tool that runs until the test releases it
        started.set()
        release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(tool_controller, "run_call", slow)
    window.view.anchorClicked.emit(QUrl(window.view.app_link("tool-once", reply)))
    wait_until(qtbot, lambda: started.is_set() and window.controller.activity.can_stop, "the tool running")
    window.menus.actions["stop"].trigger()  # Esc
    wait_until(qtbot, lambda: window.controller.activity.can_send, "the window idle after Stop")
    with expect(qtbot, window.controller.tools.permissionNeeded, "the call asking again once the tool returned"):
        release.set()
    assert [m.role for m in _messages(store, cid)] == [Role.USER, Role.ASSISTANT]  # nothing stored
    assert "Run calculator?" in _shown(qtbot, window, "Run calculator?")
    monkeypatch.setattr(tool_controller, "run_call", real)
    backend.script_text("Fine.", Special(IM_END))
    _click(qtbot, window, "tool-deny", reply, "the answer after the denial")
    assert [m.role for m in _messages(store, cid)][-2:] == [Role.ENVIRONMENT, Role.ASSISTANT]


def test_a_result_that_would_overflow_the_context_is_cut_saying_so_and_the_answer_goes_on(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    backend = _backend(scripted)
    cid = _open_with_tools(window, "search_document")
    store.conversations.update(cid, tools={"enabled": ["search_document"], "always": ["search_document"]})
    # Rare Chinese characters: 5 passages of 400 are about 5,000 tokens, the context holds 1,024.
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(60_000))
    store.documents.attach(cid, "长文.txt", text)
    window.controller.open(cid)
    terms = " ".join(text[i:i + 2] for i in range(0, 8_000, 1_000))
    backend.script_text(*_call(json.dumps({"name": "search_document", "parameters": {"query": terms}},
                                          ensure_ascii=False)), "Found it.", Special(IM_END))
    window.composer.input.setPlainText("Search?")
    qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    wait_until(qtbot, lambda: [(m.text, m.state.value) for m in _messages(store, cid)][-1:] == [
        ("Found it.", "complete")], "the answer going on after the result")
    result = _messages(store, cid)[2]
    assert result.role is Role.ENVIRONMENT and result.text.endswith("left out: the model's context is full]")
    assert result.text.startswith("5 passage(s) of 长文.txt") and len(result.text) < 2_200
    final = _messages(store, cid)[-1]
    assert final.state.value == "complete" and final.stats is not None
    assert final.stats.prompt_tokens + window.controller.sampling().max_new_tokens <= 1024


def test_calls_written_back_to_back_each_run_and_no_text_is_lost(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    """A model that writes text, a call, more text and another call in one go: `<|action_end|>`
    ends each reply (one call a turn, LMDeploy's stop words), so every part is shown and runs."""
    backend = _backend(scripted)
    cid = _open_with_tools(window, "calculator", "current_date_time")
    store.conversations.update(cid, tools={"enabled": ["calculator", "current_date_time"],
                                           "always": ["calculator", "current_date_time"]})
    backend.script_text("First **part**:", *_call(CALC), "Second part:", *_call(CLOCK), "Both done.",
                        Special(IM_END))
    _ask(qtbot, window, "Two at once?", permission=False)
    wait_until(qtbot, lambda: [(m.text, m.state.value) for m in _messages(store, cid)][-1:] == [
        ("Both done.", "complete")], "the last answer")
    messages = _messages(store, cid)
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT, Role.ENVIRONMENT, Role.ASSISTANT,
                                          Role.ENVIRONMENT, Role.ASSISTANT]
    assert [m.text for m in messages if m.role is Role.ASSISTANT] == ["First **part**:", "Second part:", "Both done."]
    assert [(m.tool or {}).get("outcome") for m in messages if m.role is Role.ENVIRONMENT] == ["ran", "ran"]
    end = backend.tokenizer.special.id(ACTION_END)
    assert all(m.token_ids and m.token_ids[-1] == end for m in messages[1:4:2])  # each call as written
    shown = _shown(qtbot, window, "Both done.")
    assert "Second part:" in shown and "<|action" not in shown and "**" not in shown


def test_an_interpreter_call_is_code_shown_as_text_and_nothing_runs(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, scripted: _Scripted) -> None:
    from app.internlm2.tokenizer import INTERPRETER

    backend = _backend(scripted)
    cid = _open_with_tools(window, "calculator")
    code = "import os\nos.system('echo hi')"
    backend.script_text("Running:", Special(ACTION_START), Special(INTERPRETER), "\n" + code, Special(ACTION_END))
    reply = _ask(qtbot, window, "Run code?", permission=False)
    msg = store.messages.get(reply)
    assert msg.tool is not None and msg.tool.get("interpreter") is True and code in msg.text
    shown = _shown(qtbot, window, "this app does not run model-written code")
    assert "os.system" in shown and "<|interpreter|>" not in shown and not window.view.asking
    assert [m.role for m in _messages(store, cid)] == [Role.USER, Role.ASSISTANT]
