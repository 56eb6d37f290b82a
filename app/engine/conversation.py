"""The one conversation model: system prompt, document, turns with exact ids, sampling -> prompts.

Every prompt of the product is built here: the window (`app/ui/chat/chat_controller.py`), `ask`,
`needle`, the read-ahead of a document, and later the API server (messages in, prompt and
request out) and answer branches (`turns` is the current path; any list of turns works).
Nothing else builds a prompt or counts a prompt's tokens.

A generated reply goes back into the next prompt as its exact token ids (`Turn.token_ids`),
so each new prompt extends what the KV cache already holds and a follow-up only reads the
new question. Ids are trusted only under the vocabulary that made them (`Turn.vocab`, see
token_cache.vocab_fingerprint) and when every id is in range; any other reply is tokenized
from its text and reported in `Built.tokenized`, so the caller stores those ids and the
reply is tokenized once. Such a reply is tokenized apart from its `assistant\n` header, as a
generated one is (the model's ids never merge with the header's), so the stored ids and the
prompt that used them agree.

A document is its own user turn, right after the system prompt, before any question:

    <s><|im_start|>system\\n...<|im_end|>\\n<|im_start|>user\\nDocument: NAME\\n\\nTEXT<|im_end|>\\n
    <|im_start|>user\\nQUESTION<|im_end|>\\n<|im_start|>assistant\\n

Why its own turn: text between two special tokens is tokenized as one run, so with the
question in the same run the document's last tokens could merge with the question's first
characters, and the prefix read ahead (system prompt + document, `prefix_ids()`) would no
longer be a prefix of the question's prompt. For a base model (no template) the document
block is its own run too, followed by a blank line. The document's ids come from the
process's DocumentTokens cache: one tokenization per (document, vocabulary).

Function calling (app/engine/tools): the enabled tools' descriptions are the
`system name=<|plugin|>` turn right after the system prompt (part of the prefix). A reply that
calls a tool is an assistant turn whose exact ids hold the call's markup (`Turn.call` rebuilds
the markup when the reply must be tokenized from its text); the tool's result is an
`environment name=<|plugin|>` turn, and a path that ends with one is continued by the
assistant (`build` without a question). With tools offered `<|action_end|>` ends a reply,
so a reply makes one call and the next call comes after its result. A question-and-answer "pair" is a user turn and
every turn up to the next one (the answer's calls and results included).

Each chat turn starts with a special token, so the prompt's ids are the concatenation of
each turn's ids; that is how `Built` reports the tokens of every part without tokenizing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from app.engine.budget import MAX_CONTEXT, min_tokens_bound
from app.engine.token_cache import DOCUMENT_TOKENS, DocumentTokens, content_hash, vocab_fingerprint
from app.engine.types import GenerateRequest, Tokenizer
from app.internlm2.chat_format import (
    ACTION_END,
    ACTION_START,
    DEFAULT_SYSTEM_PROMPT,
    IM_END,
    IM_START,
    Message,
    Prompt,
    Sampling,
    Tokens,
    ToolCall,
    build_base_prompt,
    build_chat_prompt,
    stop_ids,
)
from app.internlm2.tokenizer import PLUGIN

TurnRole = Literal["user", "assistant", "environment"]


class ModelLike(Protocol):
    """What a conversation needs of a model: a loaded backend and ModelInfo both qualify."""

    @property
    def tokenizer(self) -> Tokenizer: ...

    @property
    def is_chat(self) -> bool: ...


@dataclass(frozen=True)
class CountingModel:
    """A tokenizer standing in for a model not loaded yet (the command line sizes its context)."""

    tokenizer: Tokenizer
    is_chat: bool = True


@dataclass(frozen=True)
class Turn:
    """One turn of a path: a question, or a reply with the exact ids it was generated as."""

    role: TurnRole
    text: str
    token_ids: tuple[int, ...] | None = None  # a reply's generated ids (None: tokenize the text)
    vocab: str = ""  # the vocabulary fingerprint the ids belong to
    key: int = 0  # the caller's name for it (a message id), echoed in Built.tokenized
    call: ToolCall | None = None  # the tool call a reply ends with (its markup is in token_ids)


@dataclass(frozen=True)
class Built:
    """A prompt for one reply and the token counts of its parts (the fit check's figures)."""

    request: GenerateRequest
    prefix_tokens: int  # BOS + system + document: what the read-ahead holds
    document_tokens: int
    pair_tokens: list[int]  # each question-and-answer pair of the history, oldest first
    question_tokens: int  # the question's turn and the reply's header (only the header after a tool result)
    tokenized: dict[int, tuple[int, ...]] = field(default_factory=dict)  # Turn.key -> ids made now
    vocab: str = ""

    @property
    def prompt_tokens(self) -> int:
        return len(self.request.prompt_ids)

    @property
    def needed(self) -> int:
        """Prompt plus room for the longest answer the sampling allows."""
        return self.prompt_tokens + self.request.sampling.max_new_tokens

    def fits(self, n_ctx: int) -> bool:
        return self.needed <= n_ctx


def document_block(name: str | None, text: str) -> str:
    """The content of the document's turn (a base model gets a blank line after it)."""
    title = f"Document: {name}\n\n" if name else ""
    return f"{title}{text}"


class Conversation:
    """One conversation for one model's tokenizer (chat template, or plain text for a base model)."""

    def __init__(self, model: ModelLike, *, system: str | None = None, document: str | None = None,
                 document_name: str | None = None, turns: Sequence[Turn] = (),
                 sampling: Sampling | None = None, cache: DocumentTokens | None = None,
                 tools: Sequence[dict[str, Any]] | None = None) -> None:
        self.tokenizer: Tokenizer = model.tokenizer
        self.is_chat = bool(model.is_chat)
        self.system = DEFAULT_SYSTEM_PROMPT if system is None else system
        self.document = document or None
        self.document_name = document_name
        self.turns: list[Turn] = list(turns)  # the current path, oldest first
        self.sampling = sampling or Sampling()
        self.tools = list(tools) if tools else None  # the `<|plugin|>` turn's descriptions
        self.vocab = vocab_fingerprint(self.tokenizer)
        self._cache = cache or DOCUMENT_TOKENS
        self._pending: str | None = None
        self._prefix: list[int] | None = None
        self._vocab_size = int(getattr(self.tokenizer, "vocab_size", 1 << 31))

    # -- the stable prefix ---------------------------------------------------------------------
    def _document_ids(self) -> list[int]:
        """The document's run between its specials (chat) or its block (base), cached."""
        if not self.document:
            return []
        block = document_block(self.document_name, self.document)
        text = "user\n" + block if self.is_chat else block + "\n\n"
        key = (self.vocab, content_hash(text), self.is_chat)
        return self._cache.get(key, lambda: self.tokenizer.encode(text))

    def _system_ids(self) -> list[int]:
        msgs = [Message("system", self.system)] if self.system else []
        return build_chat_prompt(msgs, add_generation_prompt=False, tools=self.tools).ids(self.tokenizer) \
            if self.is_chat else [self.tokenizer.special.bos]

    def _document_turn_ids(self) -> list[int]:
        run = self._document_ids()
        if not run:
            return []
        if not self.is_chat:
            return run
        sp = self.tokenizer.special
        return [sp.id(IM_START), *run, sp.id(IM_END), *self.tokenizer.encode("\n")]

    def prefix_ids(self) -> list[int]:
        """BOS + system prompt + document (computed once): every prompt starts with them."""
        if self._prefix is None:
            self._prefix = self._system_ids() + self._document_turn_ids()
        return list(self._prefix)

    def document_tokens(self) -> int:
        """Tokens of the document's part of the prefix (0 without a document)."""
        return len(self._document_turn_ids())

    def document_bound(self) -> int:
        """A lower bound of the document turn's tokens that needs no tokenizer (budget.py):
        cheap even for 20 M characters."""
        if not self.document:
            return 0
        return min_tokens_bound(document_block(self.document_name, self.document))

    def hopeless(self) -> bool:
        """True when the document alone needs more tokens than any context holds: the fit check
        answers "does not fit" from the bound, without tokenizing it."""
        return self.document_bound() > MAX_CONTEXT

    def document_markup_tokens(self) -> int:
        """Tokens of the document's turn apart from its text (title and markup), estimated
        without tokenizing the text again (the cut of a long document leaves this much room)."""
        if not self.document:
            return 0
        title = document_block(self.document_name, "")
        run = self.tokenizer.encode(("user\n" if self.is_chat else "") + title)
        return len(run) + (3 if self.is_chat else 1)

    def fixed_tokens(self) -> int:
        """Tokens of a prompt without document, turns or question text (system and markup)."""
        bare = Conversation(CountingModel(self.tokenizer, self.is_chat), system=self.system, cache=self._cache,
                            tools=self.tools)
        return bare.build(question="").prompt_tokens

    # -- turns -----------------------------------------------------------------------------------
    def _exact(self, turn: Turn) -> tuple[int, ...] | None:
        ids = turn.token_ids
        if ids is None or turn.role != "assistant" or turn.vocab != self.vocab:
            return None
        if any(not 0 <= i < self._vocab_size for i in ids):
            return None
        return ids

    def _call_end(self) -> set[int]:
        """With tools offered, `<|action_end|>` ends the reply as `<|im_end|>` does (the stop words
        of LMDeploy's internlm2 template): one call per turn, then the tool's result."""
        end = self.tokenizer.special.by_name.get(ACTION_END, -1) if self.tools and self.is_chat else -1
        return {end} if end >= 0 else set()

    def _reply_ids(self, turn: Turn) -> tuple[int, ...]:
        """A reply tokenized from its text, as the model writes it: the text, then its call."""
        ids = self.tokenizer.encode(turn.text)
        if turn.call is not None:
            sp = self.tokenizer.special
            ids = [*ids, sp.id(ACTION_START), sp.id(PLUGIN), *self.tokenizer.encode("\n" + turn.call.raw),
                   sp.id(ACTION_END)]
        return tuple(ids)

    def _turn_ids(self, turn: Turn, tokenized: dict[int, tuple[int, ...]]) -> list[int]:
        exact = self._exact(turn)
        if exact is None and turn.role == "assistant":
            exact = self._reply_ids(turn)
            if turn.key:
                tokenized[turn.key] = exact
        name: Literal["plugin"] | None = "plugin" if turn.role == "environment" else None
        msg = Message(turn.role, turn.text, name=name, token_ids=exact)
        return build_chat_prompt([msg], add_generation_prompt=False).ids(self.tokenizer, bos=False)

    def _base_prompt(self, turns: Sequence[Turn], tokenized: dict[int, tuple[int, ...]]) -> Prompt:
        prompt = Prompt()
        doc = self._document_ids()
        if doc:
            prompt.add(Tokens(tuple(doc), ""))
        for turn in turns:
            exact = self._exact(turn)
            if turn.role == "assistant" and exact is not None:
                prompt.add(Tokens(exact, turn.text))
            else:
                prompt.add(turn.text)
        return prompt

    def build(self, turns: Sequence[Turn] | None = None, question: str | None = None, *,
              sampling: Sampling | None = None) -> Built:
        """The prompt after `turns` (default: the conversation's path), asking `question`.

        With `question` None the path's last turn is the question (an edit, a regenerate, or
        an API request whose messages end with the user's), or a tool's result, which the
        assistant continues (chat models only).
        """
        path = list(self.turns if turns is None else turns)
        resume = question is None and bool(path) and path[-1].role == "environment" and self.is_chat
        if question is None and not resume:
            if not path or path[-1].role != "user":
                raise ValueError("the last turn of the path must be the user's question")
            question = path.pop().text
        sampling = sampling or self.sampling
        tokenized: dict[int, tuple[int, ...]] = {}
        stops = frozenset(stop_ids(self.tokenizer, chat=self.is_chat) | self._call_end())
        prefix = self.prefix_ids()
        if not self.is_chat:
            prompt = self._base_prompt([*path, Turn("user", question or "")], tokenized)
            ids = prompt.ids(self.tokenizer)
            return Built(GenerateRequest(ids, sampling, stops), len(prefix), self.document_tokens(), [],
                         len(ids) - len(prefix), tokenized, self.vocab)
        ids = list(prefix)
        pairs: list[int] = []
        for turn in path:
            part = self._turn_ids(turn, tokenized)
            ids.extend(part)
            if turn.role == "user" or not pairs:
                pairs.append(len(part))
            else:
                pairs[-1] += len(part)
        if question is None:  # the assistant continues after a tool's result
            tail = build_chat_prompt([]).ids(self.tokenizer, bos=False)
        else:
            tail = build_chat_prompt([Message("user", question)]).ids(self.tokenizer, bos=False)
        ids.extend(tail)
        return Built(GenerateRequest(ids, sampling, stops), len(prefix), self.document_tokens(), pairs,
                     len(tail), tokenized, self.vocab)

    def turn_tokens(self) -> list[int]:
        """Tokens of each question-and-answer pair of the path, oldest first (for the budget)."""
        return self.build(question="").pair_tokens if self.is_chat else []

    def drop_oldest_turns(self, pairs: int) -> None:
        """Leave out the oldest `pairs` question-and-answer pairs (the document stays)."""
        self.turns = drop_pairs(self.turns, pairs)

    # -- one question after another (the command line, needle, tests) ------------------------------
    def ask(self, question: str, sampling: Sampling | None = None) -> GenerateRequest:
        """The request for the next reply; call answered() with its result."""
        self._pending = question
        return self.build(question=question, sampling=sampling).request

    def answered(self, text: str, token_ids: Sequence[int]) -> None:
        """Record the reply to the last question (its exact ids go into the next prompt)."""
        question = self._pending or ""
        self._pending = None
        self.turns.append(Turn("user", question))
        self.turns.append(Turn("assistant", text, tuple(token_ids), self.vocab))

    def with_turns(self, turns: Sequence[Turn]) -> Conversation:
        """The same system prompt, document and sampling on another path (a branch, an edit)."""
        other = Conversation(CountingModel(self.tokenizer, self.is_chat), system=self.system,
                             document=self.document, document_name=self.document_name, turns=turns,
                             sampling=replace(self.sampling), cache=self._cache, tools=self.tools)
        other._prefix = self._prefix
        return other


def drop_pairs(turns: Sequence[Turn], pairs: int) -> list[Turn]:
    """`turns` without the oldest `pairs` pairs (a pair starts at each user turn)."""
    if pairs <= 0:
        return list(turns)
    starts = [i for i, t in enumerate(turns) if t.role == "user"]
    return list(turns[starts[pairs]:]) if pairs < len(starts) else []


# -- requests that arrive as whole message lists (the local server's OpenAI API) -----------------
def messages_prompt_ids(tokenizer: Tokenizer, messages: Sequence[Message], *,
                        tools: Sequence[dict[str, object]] | None = None,
                        reply_start: Prompt | None = None) -> tuple[list[int], tuple[int, ...]]:
    """The prompt of a client's message list (system turns anywhere, tool results as
    `environment` turns, the tools in the `<|plugin|>` system turn), built by the same template
    as every other prompt. Assistant messages carrying `token_ids` go in as those exact ids,
    so a client that resends a growing conversation extends what the cache holds.
    `reply_start` (a forced start of the reply, e.g. a tool call) is appended; its ids are
    returned apart. Returns (prompt ids, reply-start ids)."""
    prompt = build_chat_prompt(messages, tools=tools)
    forced: tuple[int, ...] = ()
    if reply_start is not None:
        forced = tuple(reply_start.ids(tokenizer, bos=False))
        prompt.add(*reply_start.segments)
    return prompt.ids(tokenizer), forced


def text_prompt_ids(tokenizer: Tokenizer, text: str) -> list[int]:
    """A base model's prompt: the text to continue, after BOS (no template)."""
    return build_base_prompt(text).ids(tokenizer)

