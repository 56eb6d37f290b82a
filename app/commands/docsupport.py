"""What `ask --document` and `needle` share: size the context honestly, open the model, read ahead.

The same code the window uses underneath: the budget (app.engine.budget) decides before
anything is loaded whether the document fits this machine; a prompt that does not fit is
refused with the budget's sentence and choices (nothing is cut silently); the document is
read ahead through PrefixReader with the saved-state cache (app.engine.doc_cache).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from app.engine.backend import Backend
from app.engine.budget import (
    DOCUMENT_CONTEXT_STEP,
    ContextPlan,
    FreeMemory,
    ModelFacts,
    Verdict,
    cut_position,
    free_memory,
    plan_context,
)
from app.engine.conversation import Conversation, CountingModel
from app.engine.doc_cache import DocStateCache
from app.engine.loader import LoadSpec, choose_backend, open_backend
from app.engine.read_ahead import PrefixReader
from app.engine.types import ContextOverflow, Finished, PrefillProgress, Tokenizer

_REPLY_END = 2  # <|im_end|>\n after each answer


def counting_tokenizer(spec: LoadSpec) -> Tokenizer:
    """The model's tokenizer without its weights (GGUF vocabulary, or tokenizer.model)."""
    if choose_backend(spec) == "llamacpp":
        from app.engine.gguf_tokenizer import vocab_only_tokenizer

        return vocab_only_tokenizer(spec.path)
    from app.internlm2.tokenizer import InternLM2Tokenizer

    return InternLM2Tokenizer.from_folder(spec.path)


def _memory_and_facts(spec: LoadSpec) -> tuple[ModelFacts, FreeMemory]:
    if choose_backend(spec) == "llamacpp":
        facts = ModelFacts.from_gguf(spec.path)
        device = "cpu"
        try:
            from app.engine.llamacpp_runtime import import_llama_cpp

            if import_llama_cpp().llama_supports_gpu_offload() and spec.n_gpu_layers != 0:
                device = "cuda"  # the KV cache goes where the layers go
        except Exception:  # no runtime: the load will say so; the budget uses RAM
            device = "cpu"
        return facts, free_memory(device)
    from app.engine.devices import pick_device

    choice = pick_device(spec.device)
    facts = ModelFacts.from_checkpoint(spec.path, 4 if choice.dtype_name == "float32" else 2)
    return facts, free_memory(choice.device)


def plan_for(spec: LoadSpec, *, system: str, document_name: str | None, document: str | None,
             questions: Sequence[str], answer_tokens: int, ctx: int | None = None,
             tok: Tokenizer | None = None) -> ContextPlan:
    """The budget for a whole command-line conversation, before the model is loaded."""
    tok = tok or counting_tokenizer(spec)
    facts, memory = _memory_and_facts(spec)
    # The same Conversation the loaded model will use (its document ids are cached for it).
    model = CountingModel(tok)
    bare = Conversation(model, system=system)
    fixed = len(bare.prefix_ids())
    convo = Conversation(model, system=system, document=document, document_name=document_name)
    # A document far larger than any context is refused from a cheap bound, never tokenized.
    doc_tokens = (convo.document_bound() if convo.hopeless() else convo.document_tokens()) if document else 0
    question_tokens = sum(bare.build(question=q).question_tokens + _REPLY_END for q in questions)
    answers = answer_tokens * max(1, len(questions))

    def locate(keep: int) -> int:
        return cut_position(tok.encode, document or "", keep)

    return plan_context(facts, document_tokens=doc_tokens, question_tokens=question_tokens,
                        answer_tokens=answers, fixed_tokens=fixed, current_ctx=ctx or 0,
                        kv_type=spec.kv_type, memory=memory, weights_loaded=False,
                        step=DOCUMENT_CONTEXT_STEP if document else 256,
                        locate_cut=locate if document else None)


def require_fit(plan: ContextPlan) -> int:
    """The context to load; a plan that does not fit raises ContextOverflow with its choices."""
    if plan.verdict is Verdict.FITS:
        return plan.n_ctx
    hints = [c.sentence for c in plan.choices]
    if plan.verdict is Verdict.NEEDS_LARGER:
        hints = [f"Run again with --ctx {plan.n_ctx} or more (or without --ctx)."]
    raise ContextOverflow(plan.sentence, " ".join(hints) or "Use a shorter document or fewer questions.")


def open_sized(spec: LoadSpec, n_ctx: int) -> Backend:
    """The backend for `spec` with a context of n_ctx tokens."""
    return open_backend(replace(spec, path=Path(spec.path), n_ctx=n_ctx))


class _ReadProgress:
    """Reading progress on stderr: redrawn in place on a terminal, every tenth elsewhere."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._out = stream or sys.stderr
        self._label = label
        self._tenth = -1
        self._tty = self._out.isatty()
        self._last = 0.0

    def __call__(self, event: PrefillProgress) -> None:
        frac = event.done / event.total if event.total else 1.0
        left = f", {event.seconds_left:.0f} s left" if event.seconds_left else ""
        line = f"{self._label}: {frac * 100:3.0f}% of {event.total:,} tokens{left}"
        now = time.monotonic()
        if self._tty:
            if frac < 1.0 and now - self._last < 0.2:
                return
            self._last = now
            self._out.write("\r" + line + ("\n" if frac >= 1.0 else ""))
        else:
            tenth = int(frac * 10)
            if tenth == self._tenth:
                return
            self._tenth = tenth
            self._out.write(line + "\n")
        self._out.flush()


def read_document_ahead(reader: PrefixReader, *, label: str = "Reading the document",
                        quiet: bool = False) -> Finished:
    """Run a PrefixReader with progress on stderr; returns its Finished event."""
    show = None if quiet else _ReadProgress(label)
    last: Finished | None = None
    for event in reader.run():
        if isinstance(event, PrefillProgress) and show is not None:
            show(event)
        elif isinstance(event, Finished):
            last = event
    assert last is not None
    return last


def default_cache(enabled: bool) -> DocStateCache | None:
    """The app's saved-state cache (the user's cache folder), or None when switched off."""
    return DocStateCache() if enabled else None
