"""A conversation as the engine sees it: turns in, prompt ids and a generate request out.

Used by the command line and the window alike. A generated reply goes back into the next
prompt as its exact token ids, so each new prompt extends what the KV cache already holds and
a follow-up only reads the new question. A document goes whole into the first question, after
the system prompt: system prompt + document form the stable prefix that follow-ups reuse.
"""

from __future__ import annotations

from app.engine.backend import Backend
from app.engine.types import GenerateRequest
from app.internlm2.chat_format import (
    DEFAULT_SYSTEM_PROMPT,
    Message,
    Prompt,
    Sampling,
    build_base_prompt,
    build_chat_prompt,
    stop_ids,
)


def document_block(name: str | None, text: str) -> str:
    """How a document is laid before the question in the user's turn."""
    title = f"Document: {name}\n\n" if name else ""
    return f"{title}{text}\n\n"


class Conversation:
    """Turns of one conversation for one loaded model (chat template, or plain text for base)."""

    def __init__(self, backend: Backend, *, system: str | None = None, document: str | None = None,
                 document_name: str | None = None) -> None:
        self.backend = backend
        self.is_chat = backend.is_chat
        self.system = DEFAULT_SYSTEM_PROMPT if system is None else system
        self.document = document
        self.document_name = document_name
        self.messages: list[Message] = []
        self._base_text = ""
        self._pending: str | None = None

    def prompt_for(self, question: str) -> Prompt:
        """The prompt that asks `question` after the turns so far."""
        if not self.is_chat:
            text = self._base_text + (document_block(self.document_name, self.document) if
                                      self.document and not self._base_text else "") + question
            return build_base_prompt(text)
        msgs = [Message("system", self.system)] if self.system else []
        msgs.extend(self.messages)
        content = question
        if self.document and not self.messages:
            content = document_block(self.document_name, self.document) + question
        msgs.append(Message("user", content))
        return build_chat_prompt(msgs)

    def ask(self, question: str, sampling: Sampling) -> GenerateRequest:
        """The request for the next reply; call answered() with its result."""
        prompt = self.prompt_for(question)
        self._pending = question
        tok = self.backend.tokenizer
        stops = frozenset(stop_ids(tok, chat=self.is_chat))
        return GenerateRequest(prompt.ids(tok), sampling, stops)

    def answered(self, text: str, token_ids: list[int]) -> None:
        """Record the reply to the last question (its exact ids go into the next prompt)."""
        question = self._pending or ""
        self._pending = None
        if not self.is_chat:
            self._base_text = self.prompt_for(question).text() + text
            return
        content = question
        if self.document and not self.messages:
            content = document_block(self.document_name, self.document) + question
        self.messages.append(Message("user", content))
        self.messages.append(Message("assistant", text, token_ids=tuple(token_ids)))
