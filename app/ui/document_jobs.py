"""Document work off the GUI thread: reading a file, counting its tokens, checking the fit.

Each job is a plain function run by `Background` on a QThreadPool thread; its result (or a
sentence on failure) comes back as a signal on the GUI thread. The functions here are
Qt-free apart from `Background`, so they are easy to reason about and test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.documents import DocumentText
from app.engine.budget import (
    DOCUMENT_CONTEXT_STEP,
    MAX_CONTEXT,
    Choice,
    ContextPlan,
    ModelFacts,
    Verdict,
    cut_position,
    free_memory,
    min_tokens_bound,
    plan_context,
)
from app.engine.conversation import chat_messages
from app.engine.types import GenerateRequest, Tokenizer
from app.errors import UserError
from app.internlm2.chat_format import Message, Sampling, build_chat_prompt
from app.ui.prompting import Turn, build_request

_log = logging.getLogger(__name__)
_CUT_NAME_TOKENS = 48  # "NAME (first 123,456 characters)": room for the longer title after a cut


@dataclass(frozen=True)
class ModelView:
    """What the document jobs need to know about the loaded model (a snapshot, GUI-side)."""

    tokenizer: Tokenizer
    n_ctx: int
    is_chat: bool
    path: Path | None  # the GGUF file or checkpoint folder (for the memory budget)
    kv_type: str = "f16"
    device: str = "cpu"


class _Runner(QRunnable):
    def __init__(self, job: Background) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        self._job.run_now()


class Background(QObject):
    """Runs `fn()` on the global QThreadPool; `done(result)` or `failed(sentence)` on the GUI thread."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn

    def start(self) -> None:
        QThreadPool.globalInstance().start(_Runner(self))

    def run_now(self) -> None:
        try:
            result = self._fn()
        except UserError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a sentence for the window, details in the log
            _log.exception("document job failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(result)


# -- counting ------------------------------------------------------------------------------------
def document_turn_tokens(tok: Tokenizer, system: str, block: str, is_chat: bool) -> int:
    """Tokens the document's turn adds to the prompt (as Conversation.document_tokens counts)."""
    if not is_chat:
        return len(tok.encode(block + "\n\n"))
    with_doc = build_chat_prompt(chat_messages(system, block, []), add_generation_prompt=False)
    bare = build_chat_prompt(chat_messages(system, None, []), add_generation_prompt=False)
    return len(with_doc.ids(tok)) - len(bare.ids(tok))


@dataclass(frozen=True)
class Count:
    """A document's tokens and what share of the context they take (from the budget)."""

    sha256: str
    tokens: int
    n_ctx: int
    verdict: Verdict
    plan_ctx: int  # the context that would hold it (the loaded one when it fits)
    estimated: bool = False  # `tokens` is budget.min_tokens_bound: too long to be worth counting


def _facts(model: ModelView) -> ModelFacts | None:
    if model.path is None:
        return None
    try:
        if model.path.is_file():
            return ModelFacts.from_gguf(model.path)
        return ModelFacts.from_checkpoint(model.path, 4 if model.device == "cpu" else 2)
    except Exception:  # noqa: BLE001 - unknown facts: the budget checks only the loaded context
        _log.info("no model facts for %s", model.path, exc_info=True)
        return None


def count_document(model: ModelView, system: str, block: str, sha256: str, answer_tokens: int) -> Count:
    """Count the document's tokens and ask the budget whether it fits the loaded context."""
    bound = min_tokens_bound(block)
    estimated = bound > MAX_CONTEXT  # far larger than any context: not worth tokenizing
    tokens = bound if estimated else document_turn_tokens(model.tokenizer, system, block, model.is_chat)
    fixed = len(build_chat_prompt(chat_messages(system, None, [], "")).ids(model.tokenizer)) if model.is_chat else 1
    facts = _facts(model) or ModelFacts(1, 0, model.n_ctx)
    memory = free_memory(model.device) if model.path is not None else None
    plan = plan_context(facts, document_tokens=tokens, fixed_tokens=fixed, answer_tokens=answer_tokens,
                        current_ctx=model.n_ctx, kv_type=model.kv_type, memory=memory,
                        weights_loaded=True, step=DOCUMENT_CONTEXT_STEP)
    return Count(sha256, tokens, model.n_ctx, plan.verdict, plan.n_ctx, estimated)


@dataclass(frozen=True)
class Loaded:
    """A document read from a file or a paste, with its count when a model is loaded."""

    document: DocumentText
    count: Count | None


def read_and_count(read: Callable[[], DocumentText], model: ModelView | None, system: str,
                   block: Callable[[DocumentText], str], answer_tokens: int) -> Loaded:
    """Read the document, then count its tokens (both on the job's thread)."""
    doc = read()
    count = count_document(model, system, block(doc), doc.sha256, answer_tokens) if model else None
    return Loaded(doc, count)


# -- the fit before sending ---------------------------------------------------------------------
@dataclass
class Fit:
    """A question's request and whether it fits; when not, the budget's plan and all its choices."""

    request: GenerateRequest
    needed: int
    document_tokens: int
    plan: ContextPlan | None = None
    choices: list[Choice] = field(default_factory=list)
    estimated: bool = False  # document_tokens is budget.min_tokens_bound (see _hopeless_fit)

    @property
    def fits(self) -> bool:
        return self.plan is None


def _pair_tokens(tok: Tokenizer, turns: Sequence[Turn]) -> list[int]:
    out = []
    for i in range(0, len(turns) - 1, 2):
        pair = [Message("assistant" if t.role == "assistant" else "user", t.text) for t in turns[i:i + 2]]
        out.append(len(build_chat_prompt(pair, add_generation_prompt=False).ids(tok, bos=False)))
    return out


def check_fit(model: ModelView, *, system: str, turns: Sequence[Turn], question: str, document: str,
              block: str, sampling: Sampling) -> Fit:
    """Build the question's request; if it does not fit the loaded context, plan the choices."""
    bound = min_tokens_bound(block)
    if bound > MAX_CONTEXT:  # far larger than any context: refused before tokenizing it
        return _hopeless_fit(model, bound, document, sampling)
    tok = model.tokenizer
    all_turns = [*turns, Turn("user", question)]
    request = build_request(tok, is_chat=model.is_chat, system=system, turns=all_turns,
                            sampling=sampling, document=block)
    needed = len(request.prompt_ids) + sampling.max_new_tokens
    doc_tokens = document_turn_tokens(tok, system, block, model.is_chat)
    fit = Fit(request, needed, doc_tokens)
    if needed <= model.n_ctx:
        return fit
    pairs = _pair_tokens(tok, turns) if model.is_chat else []
    fixed = max(0, len(request.prompt_ids) - doc_tokens - sum(pairs))
    facts = _facts(model) or ModelFacts(1, 0, model.n_ctx)
    memory = free_memory(model.device) if model.path is not None else None

    # The turn's title and markup are not the text's tokens; the cut's name grows the title a little.
    overhead = max(0, doc_tokens - len(tok.encode(document))) + _CUT_NAME_TOKENS

    def locate(keep: int) -> int:
        return cut_position(tok.encode, document, keep - overhead)

    common: dict[str, Any] = dict(document_tokens=doc_tokens, fixed_tokens=fixed, turn_tokens=pairs,
                                  answer_tokens=sampling.max_new_tokens, current_ctx=model.n_ctx,
                                  kv_type=model.kv_type, memory=memory, weights_loaded=True,
                                  step=DOCUMENT_CONTEXT_STEP, locate_cut=locate)
    plan = plan_context(facts, **common)
    choices = list(plan.choices)
    if plan.verdict is Verdict.NEEDS_LARGER:  # also what would fit the context loaded now
        choices += plan_context(facts, **{**common, "max_context": model.n_ctx}).choices
    fit.plan, fit.choices = plan, choices
    return fit


def _hopeless_fit(model: ModelView, bound: int, document: str, sampling: Sampling) -> Fit:
    """The refusal for a document whose token bound alone passes every context.

    Nothing is tokenized but prefixes near the cut; the request is empty (never sent).
    """
    facts = _facts(model) or ModelFacts(1, 0, model.n_ctx)
    memory = free_memory(model.device) if model.path is not None else None

    def locate(keep: int) -> int:
        return cut_position(model.tokenizer.encode, document, keep - _CUT_NAME_TOKENS)

    plan = plan_context(facts, document_tokens=bound, answer_tokens=sampling.max_new_tokens,
                        current_ctx=model.n_ctx, kv_type=model.kv_type, memory=memory,
                        weights_loaded=True, step=DOCUMENT_CONTEXT_STEP, locate_cut=locate)
    return Fit(GenerateRequest([], sampling), plan.needed_tokens, bound, plan, list(plan.choices),
               estimated=True)
