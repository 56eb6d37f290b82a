"""Work off the GUI thread: reading a file, counting its tokens, building a prompt and its fit.

Each job is a plain function run by `app.ui.workers.background.Background` on a QThreadPool
thread; its result (or a sentence on failure) comes back as a signal on the GUI thread. The
functions here are Qt-free, so they are easy to reason about and test. Every count and
prompt comes from the engine's Conversation (`app/engine/conversation.py`): one accounting
for the pane's count, the fit check and the prompt that is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.documents import DocumentText
from app.engine.budget import (
    DOCUMENT_CONTEXT_STEP,
    Choice,
    ContextPlan,
    ModelFacts,
    Verdict,
    cut_position,
    free_memory,
    plan_context,
)
from app.engine.conversation import Built, Conversation, Turn
from app.engine.types import GenerateRequest, ModelInfo

_log = logging.getLogger(__name__)
_CUT_NAME_TOKENS = 48  # "NAME (first 123,456 characters)": room for the longer title after a cut


# -- counting ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Count:
    """A document's tokens and what share of the context they take (from the budget)."""

    sha256: str
    tokens: int
    n_ctx: int
    verdict: Verdict
    plan_ctx: int  # the context that would hold it (the loaded one when it fits)
    estimated: bool = False  # `tokens` is budget.min_tokens_bound: too long to be worth counting


def _facts(model: ModelInfo) -> ModelFacts | None:
    if not model.path:
        return None
    path = Path(model.path)
    try:
        if path.is_file():
            return ModelFacts.from_gguf(path)
        return ModelFacts.from_checkpoint(path, 4 if model.compute == "cpu" else 2)
    except Exception:  # noqa: BLE001 - unknown facts: the budget checks only the loaded context
        _log.info("no model facts for %s", path, exc_info=True)
        return None


def _memory(model: ModelInfo) -> Any:
    return free_memory(model.compute) if model.path else None


def count_document(model: ModelInfo, convo: Conversation, sha256: str, answer_tokens: int) -> Count:
    """Count the document's tokens and ask the budget whether it fits the loaded context."""
    estimated = convo.hopeless()  # far larger than any context: not worth tokenizing
    tokens = convo.document_bound() if estimated else convo.document_tokens()
    facts = _facts(model) or ModelFacts(1, 0, model.n_ctx)
    plan = plan_context(facts, document_tokens=tokens, fixed_tokens=convo.fixed_tokens(),
                        answer_tokens=answer_tokens, current_ctx=model.n_ctx, kv_type=model.kv_type,
                        memory=_memory(model), weights_loaded=True, step=DOCUMENT_CONTEXT_STEP)
    return Count(sha256, tokens, model.n_ctx, plan.verdict, plan.n_ctx, estimated)


@dataclass(frozen=True)
class Loaded:
    """A document read from a file or a paste, with its count when a model is loaded."""

    document: DocumentText
    count: Count | None


def read_and_count(read: Callable[[], DocumentText], model: ModelInfo | None,
                   conversation: Callable[[DocumentText], Conversation], answer_tokens: int) -> Loaded:
    """Read the document, then count its tokens (both on the job's thread; the ids are cached
    for the read-ahead and the prompts)."""
    doc = read()
    count = count_document(model, conversation(doc), doc.sha256, answer_tokens) if model else None
    return Loaded(doc, count)


# -- the fit before sending ---------------------------------------------------------------------
@dataclass
class Fit:
    """A question's prompt and whether it fits; when not, the budget's plan and all its choices."""

    built: Built
    plan: ContextPlan | None = None
    choices: list[Choice] = field(default_factory=list)
    estimated: bool = False  # document_tokens is budget.min_tokens_bound (see _hopeless_fit)

    @property
    def request(self) -> GenerateRequest:
        return self.built.request

    @property
    def needed(self) -> int:
        if self.estimated and self.plan is not None:  # never built: the budget's figure
            return self.plan.needed_tokens
        return self.built.needed

    @property
    def document_tokens(self) -> int:
        return self.built.document_tokens

    @property
    def fits(self) -> bool:
        return self.plan is None


def check_fit(model: ModelInfo, convo: Conversation, path: Sequence[Turn]) -> Fit:
    """Build the prompt after `path` (its last turn is the question); without a document, or
    when it fits the loaded context, that is all; else plan the budget's choices. A document
    far larger than any context is refused from the budget's bound, before it is tokenized."""
    if convo.document and convo.hopeless():
        return _hopeless_fit(model, convo)
    built = convo.build(path)
    fit = Fit(built)
    if not convo.document or built.fits(model.n_ctx):
        return fit
    sampling = built.request.sampling
    fixed = max(0, built.prompt_tokens - built.document_tokens - sum(built.pair_tokens))
    facts = _facts(model) or ModelFacts(1, 0, model.n_ctx)
    document = convo.document
    tok = convo.tokenizer
    # The turn's title and markup are not the text's tokens; the cut's name grows the title a little.
    overhead = convo.document_markup_tokens() + _CUT_NAME_TOKENS

    def locate(keep: int) -> int:
        return cut_position(tok.encode, document, keep - overhead)

    common: dict[str, Any] = dict(document_tokens=built.document_tokens, fixed_tokens=fixed,
                                  turn_tokens=built.pair_tokens, answer_tokens=sampling.max_new_tokens,
                                  current_ctx=model.n_ctx, kv_type=model.kv_type, memory=_memory(model),
                                  weights_loaded=True, step=DOCUMENT_CONTEXT_STEP, locate_cut=locate)
    plan = plan_context(facts, **common)
    choices = list(plan.choices)
    if plan.verdict is Verdict.NEEDS_LARGER:  # also what would fit the context loaded now
        choices += plan_context(facts, **{**common, "max_context": model.n_ctx}).choices
    fit.plan, fit.choices = plan, choices
    return fit


def _hopeless_fit(model: ModelInfo, convo: Conversation) -> Fit:
    """The refusal for a document whose token bound alone passes every context.

    Nothing is tokenized but prefixes near the cut; the request is empty (never sent).
    """
    bound = convo.document_bound()
    document = convo.document or ""
    sampling = convo.sampling
    facts = _facts(model) or ModelFacts(1, 0, model.n_ctx)

    def locate(keep: int) -> int:
        return cut_position(convo.tokenizer.encode, document, keep - _CUT_NAME_TOKENS)

    plan = plan_context(facts, document_tokens=bound, answer_tokens=sampling.max_new_tokens,
                        current_ctx=model.n_ctx, kv_type=model.kv_type, memory=_memory(model),
                        weights_loaded=True, step=DOCUMENT_CONTEXT_STEP, locate_cut=locate)
    built = Built(GenerateRequest([], sampling), prefix_tokens=bound, document_tokens=bound, pair_tokens=[],
                  question_tokens=0)
    return Fit(built, plan, list(plan.choices), estimated=True)
