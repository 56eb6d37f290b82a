"""The backend contract and the generation loop both backends share.

A backend supplies four primitives: trim its KV cache to the first n tokens, run a chunk of
tokens through the model (abortable), sample the next token, and say what it runs on. The loop
here does the rest the same way for both: longest-common-prefix reuse, chunked prefill with
progress and time left (app/engine/eta.py), cancel between chunks and tokens (and inside a chunk where the backend
can abort), stop tokens, streaming text in whole characters, and the reply's statistics.
"""

from __future__ import annotations

import contextlib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path

from app.engine.eta import PrefillClock
from app.engine.types import (
    ContextOverflow,
    Event,
    Finished,
    GenerateRequest,
    PrefillProgress,
    ReplyStats,
    RopeRebase,
    StopReason,
    TextPiece,
    Tokenizer,
)
from app.internlm2.chat_format import Sampling
from app.internlm2.rope import RopeScaling
from app.sentences import say


class Aborted(Exception):
    """Raised by a backend primitive when the cancel flag stopped it mid-chunk."""


def common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class Backend(ABC):
    """One loaded model. Not thread-safe except `cancel()`, which any thread may call."""

    name: str = "backend"
    prefill_chunk: int = 512

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._tokens: list[int] = []  # what the KV cache holds, in order
        self.tokenizer: Tokenizer
        self.n_ctx: int = 0
        self.device: str = ""
        self.device_reason: str = ""
        self.model_name: str = ""
        self.is_chat: bool = True
        # The rope base follows the conversation (app.internlm2.rope); None: fixed base.
        self.rope_scaling: RopeScaling | None = None
        self.rope_base: float = 0.0
        self._rope_rebased = False

    # -- primitives a backend implements -------------------------------------------------
    @abstractmethod
    def _trim(self, n: int) -> None:
        """Keep the first n tokens of the KV cache, drop the rest."""

    @abstractmethod
    def _forward(self, ids: list[int]) -> None:
        """Append ids to the cache and compute the logits after the last; may raise Aborted."""

    @abstractmethod
    def _start_sampling(self, sampling: Sampling, history: list[int]) -> None:
        """Prepare sampling for one reply (history: the tokens before the reply)."""

    @abstractmethod
    def _sample(self) -> int:
        """The next token from the last logits, under the prepared sampling."""

    def _prefill_done(self) -> None:
        """A prefill ran to its end (not cancelled): a backend that read it elsewhere than it
        decodes moves the cache now, so the time is the prefill's (llama.cpp's prompt reader)."""
        return None  # the others compute where they decode

    def _set_rope_base(self, base: float) -> None:
        """Compute from now on with this rope base (the caller drops the cache)."""
        raise NotImplementedError(f"The {self.name} backend cannot change its rope base.")

    def unload(self) -> None:
        """Free the model and its cache."""
        self._tokens = []

    # -- the shared loop -------------------------------------------------------------------
    @property
    def cached_tokens(self) -> list[int]:
        """The tokens the KV cache holds now (a copy)."""
        return list(self._tokens)

    @property
    def cached_view(self) -> Sequence[int]:
        """The same tokens without a copy, for a look once per streamed token (a tool call's
        start, app/engine/tools/calls.CallWatch); read it, never keep it past the event."""
        return self._tokens

    def prepare_rope(self, length: int, ids: Sequence[int] | None = None) -> RopeRebase | None:
        """Use the rope base for a conversation that needs `length` tokens (prompt `ids`).

        Exactly the official base up to the trained length, whatever n_ctx is; past it the
        dynamic-NTK base of the length's bucket (app.internlm2.rope). When the base changes the
        KV cache is dropped (its keys were rotated under the old base) and the change is
        returned. One exception, past the trained length only: a LARGER scaled base is kept
        when the cache already holds at least half of `ids` (a document read ahead with a
        bigger answer budget than the question asks for): re-reading it would cost minutes for
        a base that is itself only an approximation there (the official model keeps keys
        rotated under earlier bases too).
        """
        scaling = self.rope_scaling
        if scaling is None:
            return None
        base = scaling.base_for(length, self.n_ctx)
        if base == self.rope_base:
            return None
        if ids is not None and scaling.theta < base < self.rope_base \
                and 2 * common_prefix(self._tokens, list(ids)) >= len(ids):
            return None
        change = RopeRebase(self.rope_base, base, scaling.bucket(length, self.n_ctx), scaling.trained,
                            len(self._tokens))
        self._tokens = []
        self._trim(0)
        self._set_rope_base(base)
        self.rope_base = base
        return change

    def cancel(self) -> None:
        """Stop the running generation soon (thread-safe; prefill included)."""
        self._cancel.set()

    def _stats(self, prompt: int, cached: int, new: int, ttft: float, decode_s: float,
               prefill_s: float, reason: StopReason, error: str = "") -> ReplyStats:
        tok_s = (new - 1) / decode_s if new > 1 and decode_s > 0 else 0.0
        return ReplyStats(prompt_tokens=prompt, cached_tokens=cached, new_tokens=new, ttft_s=ttft,
                          tok_s=tok_s, prefill_s=prefill_s, stop_reason=reason, backend=self.name,
                          device=self.device, model=self.model_name, error=error,
                          rope_base=self.rope_base, rope_rebased=self._rope_rebased)

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        """Prefill what the cache lacks, then stream the reply. The last event is Finished.

        Cancellation is per request: request.cancel is the flag, so a Stop pressed right after
        Send (before this starts) still applies, and a late Stop cannot hit the next request.
        """
        self._cancel = request.cancel
        yield from self._generate(request)

    def _generate(self, request: GenerateRequest) -> Iterator[Event]:
        t0 = time.perf_counter()
        ids = list(request.prompt_ids)
        need = len(ids) + (0 if request.prefill_only else 1)
        if need > self.n_ctx:
            raise ContextOverflow(
                say("The prompt needs {tokens} tokens but the context holds {n_ctx}.", tokens=f"{len(ids):,}",
                    n_ctx=f"{self.n_ctx:,}"),
                say("Start a new conversation, remove the document, or load the model with a larger context."),
            )
        rebase = self.prepare_rope(request.rope_length, ids)
        self._rope_rebased = rebase is not None
        if rebase is not None:
            yield rebase
        cached = common_prefix(self._tokens, ids)
        if cached == len(ids) and not request.prefill_only:
            cached -= 1  # the last prompt token is run again to get its logits
        try:
            self._trim(cached)
            self._tokens = ids[:cached]
            clock = PrefillClock(self)  # time left from a cost that grows with depth (eta.py)
            yield PrefillProgress(cached, len(ids), clock.seconds_left(cached, len(ids)))
            pos = cached
            while pos < len(ids):
                if self._cancel.is_set():
                    raise Aborted
                chunk = ids[pos:pos + self.prefill_chunk]
                clock.start_chunk()
                try:
                    self._forward(chunk)
                except Aborted:
                    self._trim(pos)
                    raise
                clock.end_chunk(pos, len(chunk))
                self._tokens.extend(chunk)
                pos += len(chunk)
                yield PrefillProgress(pos, len(ids), clock.seconds_left(pos, len(ids)))
            self._prefill_done()
            clock.finish()
        except Aborted:
            prefill_s = time.perf_counter() - t0
            yield Finished("", [], self._stats(len(ids), cached, 0, 0.0, 0.0, prefill_s, StopReason.CANCELLED))
            return
        except BaseException:
            self._reset_cache()
            raise
        prefill_s = time.perf_counter() - t0
        if request.prefill_only:
            yield Finished("", [], self._stats(len(ids), cached, 0, 0.0, 0.0, prefill_s, StopReason.PREFILLED))
            return
        yield from self._decode(request, ids, cached, t0, prefill_s)

    def _decode(self, request: GenerateRequest, ids: list[int], cached: int, t0: float,
                prefill_s: float) -> Iterator[Event]:
        decoder = self.tokenizer.stream_decoder()
        eos = self.tokenizer.special.eos
        reply: list[int] = []
        parts: list[str] = []
        ttft = 0.0
        t_first = t0
        reason = StopReason.MAX_TOKENS
        try:
            self._start_sampling(request.sampling, ids)
            for step in range(request.sampling.max_new_tokens):
                if self._cancel.is_set():
                    reason = StopReason.CANCELLED
                    break
                tok = self._sample()
                if step == 0:
                    t_first = time.perf_counter()
                    ttft = t_first - t0
                if tok in request.stop_ids or tok == eos:
                    reason = StopReason.EOS if tok == eos else StopReason.STOP_TOKEN
                    break
                reply.append(tok)
                # The text is exactly what the reply's ids decode to: a genuine leading space
                # stays (the decoder itself drops a dummy-prefix space where the model has one).
                piece = decoder.push(tok)
                if piece:
                    parts.append(piece)
                    yield TextPiece(piece)
                if len(self._tokens) + 1 > self.n_ctx:
                    reason = StopReason.CONTEXT_FULL
                    break
                try:
                    self._forward([tok])
                except Aborted:
                    self._trim(len(self._tokens))
                    reason = StopReason.CANCELLED
                    break
                self._tokens.append(tok)
        except BaseException:
            self._reset_cache()
            raise
        tail = decoder.flush()
        if tail:
            parts.append(tail)
            yield TextPiece(tail)
        decode_s = time.perf_counter() - t_first
        stats = self._stats(len(ids), cached, len(reply), ttft, decode_s, prefill_s, reason)
        yield Finished("".join(parts), reply, stats)

    def _reset_cache(self) -> None:
        """After a failure the cache is in an unknown state: start it afresh."""
        self._tokens = []
        with contextlib.suppress(Exception):  # the original error is what the user must see
            self._trim(0)

    # -- optional: saving the KV state (documents read once) -------------------------------
    def save_state(self, path: Path) -> None:
        raise NotImplementedError(f"The {self.name} backend cannot save its state.")

    def load_state(self, path: Path) -> list[int]:
        raise NotImplementedError(f"The {self.name} backend cannot load a saved state.")
