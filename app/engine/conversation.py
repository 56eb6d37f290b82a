"""A conversation as the engine sees it: turns in, prompt ids and a generate request out.

Used by the command line and the window alike. A generated reply goes back into the next
prompt as its exact token ids, so each new prompt extends what the KV cache already holds and
a follow-up only reads the new question.

A document is its own user turn, right after the system prompt, before any question:

    <s><|im_start|>system\\n...<|im_end|>\\n<|im_start|>user\\nDocument: NAME\\n\\nTEXT<|im_end|>\\n
    <|im_start|>user\\nQUESTION<|im_end|>\\n<|im_start|>assistant\\n

Why its own turn and not the document glued before the question in one turn: text between
two special tokens is tokenized as one run, so with the question in the same run the
document's last tokens could merge with the question's first characters, and the prefix read
ahead (system prompt + document, `prefix_ids()`) would no longer be a prefix of the question's
prompt. Ending the document turn with `<|im_end|>` puts a special token between them, and
every turn is still tokenized exactly as the official chat template renders it (no extra
break that template would not make). For a base model (no template) the document block is a
`Tokens` segment (its ids computed once), which forces the same break.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.engine.backend import Backend
from app.engine.types import GenerateRequest
from app.internlm2.chat_format import (
    DEFAULT_SYSTEM_PROMPT,
    Message,
    Prompt,
    Sampling,
    Tokens,
    build_chat_prompt,
    stop_ids,
)


def document_block(name: str | None, text: str) -> str:
    """The content of the document's turn (a base model gets a blank line after it)."""
    title = f"Document: {name}\n\n" if name else ""
    return f"{title}{text}"


def chat_messages(system: str, document: str | None, turns: Sequence[Message],
                  question: str | None = None) -> list[Message]:
    """The messages of a chat prompt: system, the document's turn, the turns, the question."""
    msgs = [Message("system", system)] if system else []
    if document is not None:
        msgs.append(Message("user", document))
    msgs.extend(turns)
    if question is not None:
        msgs.append(Message("user", question))
    return msgs


class Conversation:
    """Turns of one conversation for one loaded model (chat template, or plain text for base)."""

    def __init__(self, backend: Backend, *, system: str | None = None, document: str | None = None,
                 document_name: str | None = None) -> None:
        self.backend = backend
        self.is_chat = backend.is_chat
        self.system = DEFAULT_SYSTEM_PROMPT if system is None else system
        self.document = document
        self.document_name = document_name
        self.messages: list[Message] = []  # questions and answers, oldest first
        self._base_text = ""  # base model: everything after the document
        self._pending: str | None = None
        self._prefix: list[int] | None = None
        self._doc_tokens: Tokens | None = None

    # -- the stable prefix ---------------------------------------------------------------------
    def _document_turn(self) -> str | None:
        return document_block(self.document_name, self.document) if self.document else None

    def _base_document(self) -> Tokens | None:
        if not self.document:
            return None
        if self._doc_tokens is None:
            text = document_block(self.document_name, self.document) + "\n\n"
            self._doc_tokens = Tokens(tuple(self.backend.tokenizer.encode(text)), text)
        return self._doc_tokens

    def prefix_prompt(self) -> Prompt:
        """System prompt + document: what can be read before the first question is known."""
        if not self.is_chat:
            prompt = Prompt()
            doc = self._base_document()
            if doc is not None:
                prompt.add(doc)
            return prompt
        return build_chat_prompt(chat_messages(self.system, self._document_turn(), []),
                                 add_generation_prompt=False)

    def prefix_ids(self) -> list[int]:
        """The stable prefix's ids (computed once): every later prompt starts with them."""
        if self._prefix is None:
            self._prefix = self.prefix_prompt().ids(self.backend.tokenizer)
        return list(self._prefix)

    def document_tokens(self) -> int:
        """Tokens of the document's part of the prefix (0 without a document)."""
        if not self.document:
            return 0
        if not self.is_chat:
            doc = self._base_document()
            return len(doc.ids) if doc else 0
        bare = build_chat_prompt(chat_messages(self.system, None, []), add_generation_prompt=False)
        return len(self.prefix_ids()) - len(bare.ids(self.backend.tokenizer))

    # -- prompts -------------------------------------------------------------------------------
    def prompt_for(self, question: str) -> Prompt:
        """The prompt that asks `question` after the turns so far."""
        if not self.is_chat:
            prompt = self.prefix_prompt()
            prompt.add(self._base_text + question)
            return prompt
        return build_chat_prompt(chat_messages(self.system, self._document_turn(), self.messages, question))

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
            self._base_text += question + text
            return
        self.messages.append(Message("user", question))
        self.messages.append(Message("assistant", text, token_ids=tuple(token_ids)))

    # -- the budget's choices --------------------------------------------------------------------
    def turn_tokens(self) -> list[int]:
        """Tokens of each question-and-answer pair, oldest first (for the context budget)."""
        tok = self.backend.tokenizer
        out = []
        for i in range(0, len(self.messages) - 1, 2):
            out.append(len(build_chat_prompt(self.messages[i:i + 2], add_generation_prompt=False).ids(tok, bos=False)))
        return out

    def drop_oldest_turns(self, pairs: int) -> None:
        """Leave out the oldest `pairs` question-and-answer pairs (the document stays)."""
        self.messages = self.messages[2 * pairs:]
