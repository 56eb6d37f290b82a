"""One conversation path (issue 12): exact ids end to end, one activity state, the truth in the
status bar. Real window offscreen, real SQLite, real llama.cpp on the tiny stop model."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.engine.activity import Activity
from app.engine.backend import Aborted, Backend
from app.engine.loader import open_backend
from app.engine.types import GenerateRequest, StopReason
from app.storage import ConversationStore, MessageState, Role
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient
from tests.conftest import STOP_PROMPT
from tests.ui_helpers import load, make_window, quick_settings, send


def _spy(client: InferenceClient, monkeypatch: pytest.MonkeyPatch) -> list[GenerateRequest]:
    """Every request the window sends to the worker, in order."""
    sent: list[GenerateRequest] = []
    generate = client.generate

    def spy(request: GenerateRequest) -> bool:
        sent.append(request)
        return bool(generate(request))

    monkeypatch.setattr(client, "generate", spy)
    return sent


def _window(qtbot: QtBot, store: ConversationStore, client: InferenceClient, model: Path) -> MainWindow:
    window = make_window(qtbot, store, client, quick_settings())
    load(qtbot, window, model)
    return window


def test_a_follow_up_reads_only_the_new_question_also_after_a_restart(
        qtbot: QtBot, tmp_path: Path, stop_model: tuple[Path, Path, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    gguf = stop_model[1]
    store = ConversationStore(tmp_path / "chat.sqlite3")
    client = InferenceClient()
    try:
        window = _window(qtbot, store, client, gguf)
        sent = _spy(client, monkeypatch)
        first = store.messages.get(send(qtbot, window, STOP_PROMPT))
        second = store.messages.get(send(qtbot, window, "And a second thing?"))
        assert first.state is second.state is MessageState.COMPLETE
        assert first.token_ids is not None and len(first.token_ids) == stop_model[2]
        assert first.token_vocab and first.token_vocab == window.controller.model.vocab  # type: ignore[union-attr]
        # The second prompt holds the first reply exactly as generated: the cache covers it all.
        assert sent[1].prompt_ids[:len(sent[0].prompt_ids) + len(first.token_ids)] == \
            sent[0].prompt_ids + list(first.token_ids)
        assert second.stats is not None
        assert second.stats.cached_tokens == len(sent[0].prompt_ids) + len(first.token_ids)
        assert second.token_ids is not None and second.stats.new_tokens == len(second.token_ids)
        cid = window.controller.conversation_id
        window.close()
    finally:
        client.shutdown()
        store.close()

    # A restart: a new store on the same file, a new worker (an empty cache), a new window.
    store = ConversationStore(tmp_path / "chat.sqlite3")
    client = InferenceClient()
    try:
        window = _window(qtbot, store, client, gguf)
        window.open_conversation(cid)
        again = _spy(client, monkeypatch)
        third = store.messages.get(send(qtbot, window, "A third question."))
        # The replies come back from the database as their ids: the new prompt extends the old.
        assert again[0].prompt_ids[:len(sent[1].prompt_ids) + len(second.token_ids)] == \
            sent[1].prompt_ids + list(second.token_ids)
        fourth = store.messages.get(send(qtbot, window, "And a fourth."))
        assert third.token_ids is not None and fourth.stats is not None
        assert fourth.stats.cached_tokens == len(again[0].prompt_ids) + len(third.token_ids)
        window.close()
    finally:
        client.shutdown()
        store.close()


def test_a_reply_imported_without_ids_is_tokenized_once_and_kept(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient,
        stop_model: tuple[Path, Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    from app.storage.export import parse_archive, write_archive

    archive = parse_archive({
        "format": "internlm2-desktop/conversation", "format_version": 1,
        "conversation": {"title": "old", "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z"},
        "messages": [{"role": "user", "text": "Hello there.", "created": "2026-01-01T00:00:00Z"},
                     {"role": "assistant", "text": "Hi! How can I help?", "created": "2026-01-01T00:00:01Z"}]})
    cid = write_archive(store.db, archive)
    window = _window(qtbot, store, client, stop_model[1])
    window.open_conversation(cid)
    reply = store.messages.list_for(cid)[1]
    assert reply.token_ids is None
    sent = _spy(client, monkeypatch)
    send(qtbot, window, "Tell me more.")
    stored = store.messages.get(reply.id)
    model = window.controller.model
    assert model is not None and stored.token_vocab == model.vocab
    assert stored.token_ids == tuple(model.tokenizer.encode("Hi! How can I help?"))
    send(qtbot, window, "And more.")  # the stored ids are used as they are: the prompts agree
    assert sent[1].prompt_ids[:len(sent[0].prompt_ids)] == sent[0].prompt_ids
    assert store.messages.get(reply.id).token_ids == stored.token_ids


class _PacedFactory:
    """The real loader, with prefill chunks that wait for the request's cancel (an event, not a
    sleep) while `pace` is set: a reading that only ends when Stop reaches it."""

    def __init__(self) -> None:
        self.pace = threading.Event()
        self.entered = threading.Event()

    def __call__(self, spec: Any, progress: Any = None) -> Backend:
        backend = open_backend(spec, progress=progress)
        backend.prefill_chunk = 32
        real = backend._forward

        def forward(ids: list[int]) -> None:
            if self.pace.is_set() and len(ids) > 1:
                self.entered.set()
                if backend._cancel.wait(30):
                    raise Aborted
            real(ids)

        backend._forward = forward  # type: ignore[method-assign]
        return backend


@pytest.mark.parametrize("how", ["stop_button_with_a_question_waiting", "esc", "pane_cancel"])
def test_stop_cancels_the_reading_within_a_second_and_the_next_question_works(
        qtbot: QtBot, store: ConversationStore, stop_model: tuple[Path, Path, int], how: str) -> None:
    paced = _PacedFactory()
    client = InferenceClient(paced)
    try:
        window = _window(qtbot, store, client, stop_model[1])
        chat, docs = window.controller, window.controller.documents
        paced.pace.set()
        with qtbot.waitSignal(chat.activityChanged, timeout=10000,
                              check_params_cb=lambda a: a is Activity.READING):
            docs.paste("A page of notes about rivers and mills. " * 8)
        qtbot.waitUntil(paced.entered.is_set, timeout=10000)
        assert window.actions_["stop"].isEnabled() and window.document_pane.cancel_button.isVisible()
        if how == "stop_button_with_a_question_waiting":
            window.composer.input.setPlainText("What does the page say?")
            with qtbot.waitSignal(chat.replyStarted, timeout=10000):
                window.composer.send_button.click()
            assert chat.activity is Activity.GENERATING and window.composer.stop_button.isVisible()
        t0 = time.perf_counter()
        with qtbot.waitSignal(docs.readEnded, timeout=10000) as ended:
            if how == "pane_cancel":
                window.document_pane.cancel_button.click()
            elif how == "esc":
                window.actions_["stop"].trigger()  # the Esc shortcut's action
            else:
                window.composer.stop_button.click()
        elapsed = time.perf_counter() - t0
        assert ended.args[0].state == "cancelled"
        assert elapsed < 1.0, f"the reading went on for {elapsed:.2f} s after Stop"
        qtbot.waitUntil(lambda: chat.activity is Activity.IDLE, timeout=5000)
        assert window.document_pane.reading.text() == "Reading stopped."
        assert not window.status.progress.isVisible() and not window.actions_["stop"].isEnabled()
        replies = [m for m in store.messages.list_for(chat.conversation_id) if m.role is Role.ASSISTANT]
        if how == "stop_button_with_a_question_waiting":
            assert [m.state for m in replies] == [MessageState.INTERRUPTED]
        paced.pace.clear()
        reply = store.messages.get(send(qtbot, window, STOP_PROMPT))
        assert reply.state is MessageState.COMPLETE and reply.stats is not None
        assert reply.stats.new_tokens > 0 and reply.stats.stop_reason != StopReason.CANCELLED.value
        window.close()
    finally:
        client.shutdown()


def test_a_failed_load_leaves_the_status_bar_true(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient,
        stop_model: tuple[Path, Path, int], tmp_path: Path) -> None:
    window = _window(qtbot, store, client, stop_model[1])
    send(qtbot, window, STOP_PROMPT)
    assert window.status.model.text() == "stop-f32" and "tokens/s" in window.status.speed.text()
    # A new chat shows no figures of the previous one.
    window.new_conversation()
    assert window.status.speed.text() == "" and "Context: 0 / 1,024" in window.status.context_label.text()
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 64)
    with qtbot.waitSignal(window.controller.loadFailed, timeout=30000) as failed:
        assert window.open_model(bad)
    # The previous model was unloaded before the attempt: the window says no model is there.
    assert window.controller.model is None and window.controller.activity is Activity.IDLE
    assert window.status.model.text() == "No model loaded" and window.status.device.text() == ""
    assert window.status.context_label.text() == "" and window.status.speed.text() == ""
    assert window.no_model.isVisible() and window.load_error.text() == failed.args[0]
    assert "not a readable GGUF" in failed.args[0] and window.current_model_path() == ""
    window.composer.input.setPlainText("Anyone there?")
    with qtbot.waitSignal(window.controller.notice, timeout=5000) as notice:
        window.composer.send_button.click()
    assert "No model is loaded" in notice.args[0]
    load(qtbot, window, stop_model[1])  # and a good model loads again
    assert window.status.model.text() == "stop-f32" and not window.load_error.isVisible()


def test_the_window_and_ask_build_the_same_prompt_ids(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient,
        stop_model: tuple[Path, Path, int], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main as cli_main
    from app.engine.llamacpp_backend import LlamaCppBackend

    questions = [STOP_PROMPT, "And then?", "One more."]
    window = _window(qtbot, store, client, stop_model[1])
    sent = _spy(client, monkeypatch)
    for question in questions:
        send(qtbot, window, question)
    window.close()

    asked: list[list[int]] = []
    real = LlamaCppBackend.generate

    def record(self: LlamaCppBackend, request: GenerateRequest) -> Any:
        asked.append(list(request.prompt_ids))
        return real(self, request)

    monkeypatch.setattr(LlamaCppBackend, "generate", record)
    assert cli_main(["ask", "--model", str(stop_model[1]), "--system", "", "--temperature", "0",
                     "--top-p", "1", "--max-tokens", "64", "--kv-type", "f32", "--json", *questions]) == 0
    capsys.readouterr()
    assert asked == [r.prompt_ids for r in sent]
