"""Prompt building for the window: stored turns -> token ids, on a helper thread, never the GUI's.

The prompt follows `app.engine.conversation.Conversation`: the conversation's system prompt
(none when empty), the attached document as its own turn (so the prefix read ahead is a
prefix of every question's prompt), then the turns, then the new question; `<|im_end|>` is always a stop id
for chat models. Stored replies are re-tokenized from their text (the KV cache still reuses
every turn before the last reply).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from app.engine.conversation import chat_messages
from app.engine.types import GenerateRequest, Tokenizer
from app.internlm2.chat_format import (
    Message,
    Prompt,
    Sampling,
    Tokens,
    build_chat_prompt,
    stop_ids,
)
from app.storage import Message as StoredMessage
from app.storage import MessageState, Role


@dataclass(frozen=True)
class Turn:
    """One turn of history as the prompt sees it."""

    role: str
    text: str


def turns_from(messages: Sequence[StoredMessage]) -> list[Turn]:
    """The turns that go into a prompt: user and assistant text; empty failed replies dropped."""
    turns: list[Turn] = []
    for msg in messages:
        if msg.role not in (Role.USER, Role.ASSISTANT):
            continue
        if msg.role is Role.ASSISTANT and not msg.text and msg.state is not MessageState.COMPLETE:
            continue
        turns.append(Turn(msg.role.value, msg.text))
    return turns


def build_request(tokenizer: Tokenizer, *, is_chat: bool, system: str, turns: Sequence[Turn],
                  sampling: Sampling, document: str | None = None) -> GenerateRequest:
    """The request for the reply after `turns` (whose last one is the user's question).

    `document` is the document's turn as `app.engine.conversation.document_block` writes it.
    """
    if is_chat:
        msgs = chat_messages(system, document, [
            Message("assistant" if t.role == "assistant" else "user", t.text) for t in turns])
        prompt = build_chat_prompt(msgs)
    else:
        prompt = Prompt()
        if document:  # its ids apart, as Conversation does: the same break before the text
            block = document + "\n\n"
            prompt.add(Tokens(tuple(tokenizer.encode(block)), block))
        prompt.add("".join(t.text for t in turns))
    stops = frozenset(stop_ids(tokenizer, chat=is_chat))
    return GenerateRequest(prompt.ids(tokenizer), sampling, stops)


class PromptJob(QObject):
    """Builds one request on a short-lived thread; `ready(request)` or `failed(str)` on the GUI thread."""

    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, tokenizer: Tokenizer, *, is_chat: bool, system: str, turns: Sequence[Turn],
                 sampling: Sampling, document: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._args = (tokenizer, is_chat, system, list(turns), sampling, document)
        self._thread = threading.Thread(target=self._run, name="prompt-builder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        tokenizer, is_chat, system, turns, sampling, document = self._args
        try:
            request = build_request(tokenizer, is_chat=is_chat, system=system, turns=turns,
                                    sampling=sampling, document=document)
        except Exception as exc:  # noqa: BLE001 - reported to the window as a sentence
            self.failed.emit(f"The prompt could not be built ({type(exc).__name__}: {exc}).")
            return
        self.ready.emit(request)
