"""Reading a document ahead: prefill system prompt + document as soon as it is attached.

`PrefixReader(backend, conversation, cache, document_sha256).run()` yields the engine's
events (PrefillProgress with time left, then Finished with stop reason PREFILLED or
CANCELLED); `backend.cancel()` from any thread stops it between (and inside) chunks. The
prefix comes from the first place that has it: the backend's own KV cache (already read),
the saved state on disk (llama.cpp only; see doc_cache), or reading it. After reading, the
state is saved for the next time. The question sent later only appends to the prefix: its
prompt starts with exactly `conversation.prefix_ids()` (see conversation.py), so its
cached tokens are at least the document's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from enum import Enum

from app.engine.backend import Backend
from app.engine.conversation import Conversation
from app.engine.doc_cache import DocStateCache, state_key
from app.engine.types import (
    Event,
    Finished,
    GenerateRequest,
    PrefillProgress,
    ReplyStats,
    StopReason,
)

_log = logging.getLogger(__name__)


class PrefixSource(str, Enum):
    """Where the prefix came from in the last run."""

    MEMORY = "memory"  # the backend's KV cache already held it
    SAVED = "saved"  # restored from the saved state on disk
    READ = "read"  # read (prefilled) now
    NONE = "none"  # not run yet, or cancelled


class PrefixReader:
    """Brings a conversation's stable prefix into the backend's KV cache, fastest way first."""

    def __init__(self, backend: Backend, conversation: Conversation, cache: DocStateCache | None = None,
                 document_sha256: str | None = None) -> None:
        self.backend = backend
        self.conversation = conversation
        self.cache = cache
        self.document_sha256 = document_sha256
        self.source = PrefixSource.NONE
        self.saved = False  # whether this run wrote a saved state
        self.seconds = 0.0

    def _done(self, ids: list[int], t0: float) -> Iterator[Event]:
        self.seconds = time.perf_counter() - t0
        b = self.backend
        yield PrefillProgress(len(ids), len(ids), 0.0)
        yield Finished("", [], ReplyStats(prompt_tokens=len(ids), cached_tokens=len(ids), new_tokens=0,
                                          ttft_s=0.0, tok_s=0.0, prefill_s=self.seconds,
                                          stop_reason=StopReason.PREFILLED, backend=b.name, device=b.device,
                                          model=b.model_name, rope_base=b.rope_base))

    def run(self) -> Iterator[Event]:
        """Prefill the prefix; the last event is Finished (PREFILLED, or CANCELLED)."""
        t0 = time.perf_counter()
        self.source, self.saved = PrefixSource.NONE, False
        ids = self.conversation.prefix_ids()
        held = self.backend.cached_tokens
        if len(held) >= len(ids) and held[: len(ids)] == ids:
            self.source = PrefixSource.MEMORY
            yield from self._done(ids, t0)
            return
        request = GenerateRequest(ids, prefill_only=True)
        # The rope base for this prefix (plus an answer) first: the saved state is keyed by it.
        self.backend.prepare_rope(request.rope_length, ids)
        key = None
        if self.cache is not None and self.document_sha256:
            key = state_key(self.backend, self.document_sha256, ids)
        if key is not None and self.cache is not None and self.cache.restore(self.backend, key, ids):
            self.source = PrefixSource.SAVED
            yield from self._done(ids, t0)
            return
        final: Finished | None = None
        for event in self.backend.generate(request):
            if isinstance(event, Finished):
                final = event
            yield event
        self.seconds = time.perf_counter() - t0
        if final is None or final.stats.stop_reason is not StopReason.PREFILLED:
            return
        self.source = PrefixSource.READ
        if key is not None and self.cache is not None:
            self.saved = self.cache.save(self.backend, key)
            if not self.saved:
                _log.info("the document state was not saved (too big for the cache, or no disk space)")

    def wait(self) -> Finished:
        """Run to the end and return the Finished event (for the command line and tests)."""
        last: Finished | None = None
        for event in self.run():
            if isinstance(event, Finished):
                last = event
        assert last is not None
        return last
