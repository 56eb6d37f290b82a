"""Shared steps of the engine tests (both backends, the static-cache torch path)."""

from __future__ import annotations

from app.engine.backend import Backend
from app.engine.types import (
    Event,
    Finished,
    GenerateRequest,
    PrefillProgress,
    StopReason,
    TextPiece,
)
from app.internlm2.chat_format import Sampling


def cancel_at_first_progress(backend: Backend, prompt: list[int], sampling: Sampling) -> list[Event]:
    """Generate, cancelling as soon as the prefill reports progress; checks that the reply ended
    CANCELLED before any text and that the prefill did not finish. Returns the events."""
    events: list[Event] = []
    for event in backend.generate(GenerateRequest(prompt, sampling)):
        events.append(event)
        if isinstance(event, PrefillProgress) and event.done > 0:
            backend.cancel()
    done = events[-1]
    assert isinstance(done, Finished) and done.stats.stop_reason == StopReason.CANCELLED
    assert not any(isinstance(e, TextPiece) for e in events)
    assert len(backend.cached_tokens) < len(prompt)  # the prefill did not finish
    return events
