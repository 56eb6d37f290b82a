"""The one place the server meets the engine: requests in, prompt ids out, one generation run.

Built on the engine as it is (Backend.generate with GenerateRequest, chat_format's prompt
builder, the context budget). When the engine grows a conversation model, this module is
the only one to point at it.

Prefix reuse across requests: OpenAI clients resend the whole conversation, with the
assistant's earlier replies as text. Re-tokenizing a reply need not give the ids the model
generated, which would end the common prefix at that reply. So each reply's exact ids are
remembered (a small LRU keyed by the reply as the client sees it: its text and tool call),
and a resent reply goes back into the prompt as those ids (chat_format.Tokens). The backend's
longest-common-prefix reuse then reads only the new turn, and usage reports the rest as
`prompt_tokens_details.cached_tokens`.

Not thread-safe: every method runs on the scheduler's one generation thread.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.engine.backend import Backend
from app.engine.budget import ModelFacts, Verdict, plan_context
from app.engine.conversation import messages_prompt_ids, text_prompt_ids
from app.engine.tools.calls import CallWatch, parse_call
from app.engine.types import Finished, GenerateRequest, ReplyStats, StopReason, TextPiece
from app.internlm2.chat_format import (
    OFFICIAL_SAMPLING,
    Message,
    Prompt,
    Sampling,
    Special,
    ToolCall,
    stop_ids,
)
from app.internlm2.tokenizer import ACTION_START, PLUGIN
from app.server.errors import BadRequest
from app.server.protocol import ChatRequest, CompletionRequest, SamplingFields
from app.server.stops import StopMatcher
from app.server.tools import ToolPlan, plan_tools, to_messages

CHAT_DEFAULT_ANSWER = OFFICIAL_SAMPLING.max_new_tokens  # 1024, the official chat() default
COMPLETION_DEFAULT_ANSWER = 16  # OpenAI's and vLLM's default for /v1/completions
_REMEMBERED_REPLIES = 256
_ReplyKey = tuple[str, str, str]


@dataclass(frozen=True)
class Prepared:
    """A request turned into what the engine runs."""

    ids: list[int]
    sampling: Sampling
    stop_ids: frozenset[int]
    stops: list[str]
    tools: ToolPlan | None = None  # None: a completion, or a chat without tools
    forced_ids: tuple[int, ...] = ()  # the start of a forced call, already in the prompt
    chat: bool = False  # a chat reply: its ids are remembered for the next turn


@dataclass(frozen=True)
class RunResult:
    """A finished generation as the API reports it."""

    content: str
    tool_call: ToolCall | None
    finish_reason: str  # stop | length | tool_calls | cancelled
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    stats: ReplyStats


def _key(content: str, call: ToolCall | None) -> _ReplyKey:
    if call is None:
        return (content, "", "")
    return (content, call.name, json.dumps(call.parameters, sort_keys=True, ensure_ascii=False))


class EngineAdapter:
    """One loaded backend, seen as OpenAI requests."""

    def __init__(self, backend: Backend, model_id: str | None = None) -> None:
        self.backend = backend
        self.model_id = model_id or backend.model_name or "internlm2"
        self._replies: OrderedDict[_ReplyKey, tuple[int, ...]] = OrderedDict()

    @property
    def n_ctx(self) -> int:
        return self.backend.n_ctx

    @property
    def is_chat(self) -> bool:
        return self.backend.is_chat

    # -- preparing ----------------------------------------------------------------------------
    def prepare_chat(self, req: ChatRequest) -> Prepared:
        if not self.is_chat:
            raise BadRequest("This is a base model: it has no chat template. "
                             "Send plain text to /v1/completions, or load a chat model.")
        plan = plan_tools(req.tools, req.tool_choice)
        messages = [self._with_reply_ids(m) for m in to_messages(req.messages)]
        tok = self.backend.tokenizer
        start: Prompt | None = None
        if plan.force:  # the reply starts inside the call the client asked for
            start = Prompt()
            start.add(Special(ACTION_START), Special(PLUGIN), plan.forced_text)
        ids, forced = messages_prompt_ids(tok, messages, tools=plan.functions, reply_start=start)
        answer = self._answer_budget(len(ids), req.answer_limit(), CHAT_DEFAULT_ANSWER)
        return Prepared(ids, self._sampling(req, answer), frozenset(stop_ids(tok, chat=True)),
                        req.stop_list(), plan if plan.functions else None, forced, chat=True)

    def prepare_completion(self, req: CompletionRequest) -> Prepared:
        tok = self.backend.tokenizer
        ids = text_prompt_ids(tok, req.text())
        answer = self._answer_budget(len(ids), req.max_tokens, COMPLETION_DEFAULT_ANSWER)
        return Prepared(ids, self._sampling(req, answer), frozenset(stop_ids(tok, chat=self.is_chat)),
                        req.stop_list())

    def _with_reply_ids(self, msg: Message) -> Message:
        """An assistant turn the server generated goes back as the ids it was generated as."""
        if msg.role != "assistant":
            return msg
        ids = self._replies.get(_key(msg.content, msg.tool_call))
        if ids is None:
            return msg
        self._replies.move_to_end(_key(msg.content, msg.tool_call))
        return Message("assistant", msg.content, token_ids=ids)  # the ids hold the call markup too

    def _answer_budget(self, prompt_tokens: int, asked: int | None, default: int) -> int:
        """The answer's token budget; a prompt that does not fit is refused, never cut."""
        room = self.n_ctx - prompt_tokens
        answer = asked if asked is not None else max(1, min(default, room))
        facts = ModelFacts(kv_bytes_per_token_f16=0, weights_bytes=0, trained_context=self.n_ctx)
        plan = plan_context(facts, document_tokens=0, fixed_tokens=prompt_tokens, answer_tokens=answer,
                            current_ctx=self.n_ctx, max_context=self.n_ctx, weights_loaded=True)
        if plan.verdict is not Verdict.FITS:
            asked_part = f"room for a {answer:,}-token answer" if asked is not None else "room for an answer"
            raise BadRequest(
                f"This conversation needs {plan.needed_tokens:,} tokens ({prompt_tokens:,} in the messages "
                f"and {asked_part}), but the model's context holds {self.n_ctx:,}; nothing was cut.",
                "Send fewer or shorter messages, lower max_tokens, or restart the server with a larger --ctx.")
        return answer

    @staticmethod
    def _sampling(req: SamplingFields, answer: int) -> Sampling:
        """The request's sampling; what it leaves out is the official chat() default."""
        return Sampling(
            temperature=OFFICIAL_SAMPLING.temperature if req.temperature is None else req.temperature,
            top_p=OFFICIAL_SAMPLING.top_p if req.top_p is None else req.top_p,
            top_k=req.top_k or 0,
            repetition_penalty=req.repetition_penalty or OFFICIAL_SAMPLING.repetition_penalty,
            max_new_tokens=answer,
            seed=None if req.seed is None else req.seed % 2**32,
        )

    # -- running --------------------------------------------------------------------------------
    def run(self, prep: Prepared, cancel: threading.Event, emit: Callable[[str], None]) -> RunResult:
        """Generate; `emit` gets the reply's visible text as it streams (never call markup, never
        a stop string). Setting `cancel` (a client gone) ends it between two tokens."""
        matcher = StopMatcher(prep.stops)
        own_stop = threading.Event()  # a stop string ended it, not the client
        request = GenerateRequest(prep.ids, prep.sampling, prep.stop_ids, cancel=cancel)
        tools = prep.tools
        in_call = tools is not None and tools.force
        watch = tools is not None and not in_call
        watcher = CallWatch(self.backend.tokenizer.special.by_name.get(ACTION_START, -1), len(prep.ids))
        held: list[str] = [tools.forced_text.lstrip("\n")] if tools is not None and in_call else []
        sent: list[str] = []
        done: Finished | None = None
        for event in self.backend.generate(request):
            if isinstance(event, TextPiece):
                if watch and not in_call:
                    in_call = watcher.update(self.backend.cached_view)  # see CallWatch
                    if in_call:  # the text before the call is final: a held partial stop goes out
                        self._send(matcher.flush(), sent, emit)
                if in_call:
                    held.append(event.text)
                    continue
                self._send(matcher.push(event.text), sent, emit)
                if matcher.matched and not own_stop.is_set():
                    own_stop.set()
                    cancel.set()
            elif isinstance(event, Finished):
                done = event
        assert done is not None, "the engine ends every generation with Finished"
        return self._result(prep, done, matcher, own_stop.is_set(), held, sent, emit)

    @staticmethod
    def _send(text: str, sent: list[str], emit: Callable[[str], None]) -> None:
        if text:
            sent.append(text)
            emit(text)

    def _result(self, prep: Prepared, done: Finished, matcher: StopMatcher, stopped: bool,
                held: list[str], sent: list[str], emit: Callable[[str], None]) -> RunResult:
        reason = done.stats.stop_reason
        reply_ids = [*prep.forced_ids, *done.token_ids]
        call: ToolCall | None = None
        if prep.tools is not None and not stopped:
            call = parse_call(self.backend.tokenizer.decode(reply_ids, skip_special=False)).tool_call
        if call is None:
            for piece in held:  # markup that did not parse as a call is shown as the text it is
                self._send(matcher.push(piece), sent, emit)
            self._send(matcher.flush(), sent, emit)
        content = "".join(sent)  # what a streaming client assembled: the text before any call
        if call is not None:
            finish = "tool_calls"
        elif stopped or reason in (StopReason.EOS, StopReason.STOP_TOKEN):
            finish = "stop"
        elif reason in (StopReason.MAX_TOKENS, StopReason.CONTEXT_FULL):
            finish = "length"
        else:
            finish = "cancelled"
        exact = not stopped and reason is not StopReason.CANCELLED and (call is not None or not prep.forced_ids)
        if prep.chat and exact:  # the reply as the client will resend it is exactly these ids
            self._remember(_key(content, call), tuple(reply_ids))
        stats = done.stats
        return RunResult(content, call, finish, stats.prompt_tokens, len(done.token_ids),
                         stats.cached_tokens, stats)

    def _remember(self, key: _ReplyKey, ids: tuple[int, ...]) -> None:
        self._replies[key] = ids
        self._replies.move_to_end(key)
        while len(self._replies) > _REMEMBERED_REPLIES:
            self._replies.popitem(last=False)

    def describe(self) -> dict[str, Any]:
        """What /v1/models reports about the model."""
        return {"id": self.model_id, "n_ctx": self.n_ctx, "chat": self.is_chat,
                "backend": self.backend.name, "device": self.backend.device}
