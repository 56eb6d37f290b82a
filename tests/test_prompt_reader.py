"""The prompt reader (llamacpp_policy.use_prompt_reader): long prompts read on the plain weight
layout by a second llama.cpp context, decoding on the repacked one, the cache handed over.

A Q4_K_M tiny model (rows of 256, so llama.cpp repacks its Q4_K weights). The two layouts give
llama.cpp results that differ in the last digits for a step and by up to 0.2 in a logit after a
1,000-token prefill, so the reference is a backend on the plain layout alone: what the reader
reads must be its reading to float rounding, and a decode step after the handover must be within
a few thousandths of its step, through follow-ups, a cancelled read, a saved state and a change
of rope base. Which context ran each chunk is recorded, not timed.
"""

from __future__ import annotations

import random
from collections import namedtuple
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.engine import llamacpp_backend as lb
from app.engine.backend import Backend
from app.engine.llamacpp_backend import LlamaCppBackend
from app.engine.llamacpp_policy import (
    LONG_CONTEXT,
    READER_MAX_CONTEXT,
    READER_MIN_TOKENS,
    context_policy,
    micro_batch,
    use_prompt_reader,
)
from app.engine.llamacpp_runtime import repacking_allowed
from app.engine.types import Finished, GenerateRequest, PrefillProgress
from app.internlm2.chat_format import Sampling

GREEDY = Sampling(temperature=0.0, max_new_tokens=12)


def _ids(backend: Backend, n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    special = set(backend.tokenizer.special.by_name.values())
    vocab = [i for i in range(5, int(backend._llm.n_vocab())) if i not in special]
    return [rng.choice(vocab) for _ in range(n)]


def _run(backend: Backend, ids: list[int], sampling: Sampling = GREEDY, **kw: Any) -> Finished:
    events = list(backend.generate(GenerateRequest(ids, sampling, **kw)))
    last = events[-1]
    assert isinstance(last, Finished), last
    return last


class _Recorder:
    """Counts the tokens each of a backend's two llama.cpp contexts evaluated."""

    def __init__(self, backend: LlamaCppBackend) -> None:
        self.counts = {"reader": 0, "decoder": 0}
        self.copies: list[str] = []  # each state copy, by its destination
        for name, llm in (("reader", backend._reader), ("decoder", backend._llm)):
            original = llm.eval

            def _eval(ids: Any, _name: str = name, _original: Any = original) -> None:
                self.counts[_name] += len(ids)
                _original(ids)

            llm.eval = _eval
        copy = backend._copy_state

        def _copy(src: Any, dst: Any) -> None:
            self.copies.append("reader" if dst is backend._reader else "decoder")
            copy(src, dst)

        backend._copy_state = _copy  # type: ignore[method-assign]

    def take(self) -> dict[str, int]:
        counts, self.counts = self.counts, {"reader": 0, "decoder": 0}
        return counts

    def take_copies(self) -> list[str]:
        copies, self.copies = self.copies, []
        return copies


@pytest.fixture(params=[True, False], ids=["reader-fa", "reader-no-fa"])
def pair(q4_gguf: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """A backend with the reader (with flash attention, the default, and without), and the same
    backend with both its contexts on the plain layout: it reads as the reader does and decodes
    with the decoder's kernel, so the two differ only in the decoder's weight layout. Neither
    has the shallow decoder (tests/test_shallow_decoder.py: the reader and it together)."""
    with_reader = LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=True,
                                  reader_flash_attn=request.param, shallow_decoder=False)
    assert with_reader.reader_flash_attn is request.param and not with_reader.flash_attn
    with monkeypatch.context() as m:
        original = lb.safe_model_params
        m.setattr(lb, "safe_model_params", lambda extra_bufts=True: original(extra_bufts=False))
        plain = LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=True,
                                reader_flash_attn=request.param, shallow_decoder=False)
    try:
        yield with_reader, plain
    finally:
        with_reader.unload()
        plain.unload()


def _read(backend: LlamaCppBackend, ids: list[int]) -> Any:
    """Read `ids` into the cache (no reply) and return the logits after the last."""
    assert _run(backend, ids, prefill_only=True).stats.stop_reason.name == "PREFILLED"
    return backend.last_logits()


def _same_read(a: LlamaCppBackend, b: LlamaCppBackend, ids: list[int]) -> None:
    """Both read `ids` on the plain layout: the same logits, to float rounding."""
    np.testing.assert_allclose(_read(a, ids), _read(b, ids), rtol=1e-5, atol=1e-5)


def _close_step(a: LlamaCppBackend, b: LlamaCppBackend) -> None:
    """A decode step on the repacked layout against one on the plain layout from the same cache:
    the same to a few thousandths (a cache handed over wrongly is off by whole units)."""
    np.testing.assert_allclose(a.last_logits(), b.last_logits(), rtol=1e-3, atol=5e-3)


def test_the_reader_has_the_plain_layout_and_the_decoder_the_repacked(pair: Any) -> None:
    with_reader, plain = pair
    assert with_reader.has_prompt_reader and plain.has_prompt_reader
    assert with_reader._reader.model_params.use_extra_bufts is False
    assert with_reader._llm.model_params.use_extra_bufts is repacking_allowed()
    assert plain._llm.model_params.use_extra_bufts is False and plain._reader.model_params.use_extra_bufts is False
    for backend in pair:  # the reader's kernel and micro-batch are its own
        flash = backend.reader_flash_attn
        assert bool(backend._reader.context_params.flash_attn_type) is flash
        assert not backend._llm.context_params.flash_attn_type
        assert backend._reader.context_params.n_ubatch == backend.policy.reader_ubatch


def test_long_prompts_are_read_by_the_reader_and_handed_to_the_decoder(pair: Any) -> None:
    a, b = pair
    rec = _Recorder(a)
    prompt = _ids(a, 600, seed=1)
    _same_read(a, b, prompt)
    assert rec.take() == {"reader": 600, "decoder": 0}  # every chunk, the last short one too
    assert not a._reading  # the read ended: the decoder took the cache then (Backend._prefill_done)
    assert rec.take_copies() == ["decoder"]
    first_a, first_b = _run(a, prompt), _run(b, prompt)
    assert rec.take_copies() == []  # no handover between the first token and the second
    counts = rec.take()
    assert counts["reader"] == 0
    assert counts["decoder"] == 1 + len(first_a.token_ids), counts  # the last prompt token again, then the answer
    assert not a._reading
    assert first_a.token_ids == first_b.token_ids
    assert a.cached_tokens == b.cached_tokens
    _close_step(a, b)

    # A long follow-up: the reader first takes the decoder's cache, the answer included.
    follow = a.cached_tokens + _ids(a, 200, seed=2)
    np.testing.assert_allclose(_read(a, follow), _read(b, follow), rtol=1e-3, atol=5e-3)
    assert rec.take()["reader"] == 200
    assert rec.take_copies() == ["reader", "decoder"]
    second_a, second_b = _run(a, follow), _run(b, follow)
    assert second_a.stats.cached_tokens == second_b.stats.cached_tokens == len(follow) - 1
    assert second_a.token_ids == second_b.token_ids
    _close_step(a, b)

    # A short follow-up stays on the decoder: two state copies would cost more than they save.
    short = a.cached_tokens + _ids(a, READER_MIN_TOKENS - 1, seed=3)
    third_a, third_b = _run(a, short), _run(b, short)
    assert rec.take()["reader"] == 0
    assert third_a.stats.cached_tokens == len(short) - READER_MIN_TOKENS + 1
    assert third_a.token_ids == third_b.token_ids
    _close_step(a, b)
    assert len(a.cached_tokens) < 1024  # all of it below the trained length: one rope base


def test_a_cancelled_read_keeps_what_was_read_and_goes_on_from_there(pair: Any) -> None:
    a, b = pair
    prompt = _ids(a, 1000, seed=4)
    request = GenerateRequest(prompt, GREEDY, prefill_only=True)
    seen = 0
    for event in a.generate(request):
        if isinstance(event, PrefillProgress) and event.done > 0:
            seen = event.done
            request.cancel.set()  # after the first chunk: the next check stops the read
    assert 0 < seen < len(prompt)
    assert a.cached_tokens == prompt[:seen]
    assert a._reading  # the reader still holds the newest cache
    events = list(a.generate(GenerateRequest(prompt, GREEDY, prefill_only=True)))
    assert isinstance(events[-1], Finished) and events[-1].stats.cached_tokens == seen
    np.testing.assert_allclose(a.last_logits(), _read(b, prompt), rtol=1e-5, atol=1e-5)


def test_a_saved_state_holds_what_the_reader_read(pair: Any, q4_gguf: Path, tmp_path: Path) -> None:
    a, b = pair
    prompt = _ids(a, 600, seed=6)
    request = GenerateRequest(prompt, GREEDY, prefill_only=True)
    for event in a.generate(request):  # a read cancelled after its first chunk: the reader holds it
        if isinstance(event, PrefillProgress) and event.done > 0:
            request.cancel.set()
    assert a._reading and 0 < len(a.cached_tokens) < len(prompt)
    _read(a, prompt)  # read on from there: the decoder takes the whole of it when it ends
    assert not a._reading
    state = tmp_path / "doc.state"
    a.save_state(state)
    fresh = LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=True)
    try:
        assert fresh.load_state(state) == prompt
        question = prompt + _ids(a, 20, seed=7)
        got = _run(fresh, question)
        assert got.stats.cached_tokens == len(prompt)
        _read(b, prompt)
        assert got.token_ids == _run(b, question).token_ids
        _close_step(fresh, b)
    finally:
        fresh.unload()


def test_a_new_rope_base_reaches_the_reader_too(pair: Any) -> None:
    """Past the trained length (1,024 here) the rope base changes and both contexts are made
    again: the reader must read with the new base, or its keys would be rotated wrongly."""
    a, b = pair
    prompt = _ids(a, 1100, seed=8)
    _same_read(a, b, prompt)
    assert a.rope_base == b.rope_base > 10000.0
    assert a.has_prompt_reader
    assert a._reader.context_params.rope_freq_base == a._llm.context_params.rope_freq_base
    assert abs(a._reader.context_params.rope_freq_base - a.rope_base) < 1e-2  # a float32 field


Memory = namedtuple("Memory", "available")


def test_the_reader_goes_with_free_memory(q4_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend pairs the layouts (as on an AVX512 build) where free memory holds the second
    cache and the copy's buffer; a document context too, up to READER_MAX_CONTEXT; else it reads
    with one layout, as the policy did before the reader."""
    import psutil

    monkeypatch.setattr(lb, "build_has_avx512", lambda: True)
    for n_ctx, free, reader in ((2048, 64 << 30, True), (LONG_CONTEXT * 2, 64 << 30, True),
                                (READER_MAX_CONTEXT + 1024, 64 << 30, False), (2048, 64 << 20, False),
                                (LONG_CONTEXT * 2, 64 << 20, False)):
        monkeypatch.setattr(psutil, "virtual_memory", lambda free=free: Memory(free))
        backend = LlamaCppBackend(q4_gguf, n_ctx=n_ctx, n_threads=1)
        try:
            expect = reader and repacking_allowed()
            assert backend.policy.reader is expect and backend.has_prompt_reader is expect, (n_ctx, free)
            # The decoder is repacked wherever it pairs; alone, a document context reads plain.
            repacked = repacking_allowed() and (reader or n_ctx < LONG_CONTEXT)
            assert backend._llm.model_params.use_extra_bufts is repacked, (n_ctx, free)
            assert len(_run(backend, _ids(backend, 200, seed=9)).token_ids) > 0
        finally:
            backend.unload()


def test_the_policy_pairs_the_layouts_only_where_they_disagree() -> None:
    rng = random.Random(3)
    sizes = {256, 4096, LONG_CONTEXT - 1, LONG_CONTEXT, READER_MAX_CONTEXT, READER_MAX_CONTEXT + 1, 65536}
    for n_ctx in sorted(sizes | {rng.randint(1, 100_000) for _ in range(30)}):
        paired = context_policy(n_ctx, 512, 16, "f16", offloaded=False, avx512=True, reader_memory_ok=True)
        assert paired.reader is (n_ctx <= READER_MAX_CONTEXT), n_ctx
        assert paired.repack is (paired.reader or n_ctx < LONG_CONTEXT)  # the reader pairs with the repacked layout
        assert ("plain layout" in paired.why) is paired.reader
        # the reader reads with flash attention (its whole micro-batch) unless asked otherwise
        assert paired.reader_flash_attn is paired.reader and not paired.flash_attn
        assert paired.reader_ubatch == (min(512, n_ctx) if paired.reader else 0)
        plain_reader = context_policy(n_ctx, 512, 16, "f16", offloaded=False, avx512=True, reader_memory_ok=True,
                                      requested_reader_flash=False)
        assert not plain_reader.reader_flash_attn
        assert plain_reader.reader_ubatch == (micro_batch(min(512, n_ctx), n_ctx, 16, False) if paired.reader else 0)
        exact = context_policy(n_ctx, 512, 16, "f32", offloaded=False, avx512=True, reader_memory_ok=True)
        assert exact.reader is paired.reader and not exact.reader_flash_attn  # f32 stays f32 (no f16 cast)
        alone = context_policy(n_ctx, 512, 16, "f16", offloaded=False, avx512=True)  # memory short
        assert not alone.reader and alone.repack is (n_ctx < LONG_CONTEXT)
        ok = {"reader_memory_ok": True}
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=False, avx512=False, **ok).reader  # AVX2
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=True, avx512=True, **ok).reader  # the GPU
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=False, repack_allowed=False, **ok).reader
        assert not context_policy(n_ctx, 512, 16, "q8_0", offloaded=False, **ok).reader  # flash attention
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=False, requested_flash=True, **ok).reader
        assert context_policy(n_ctx, 512, 16, "f16", offloaded=False, avx512=False, requested_reader=True).reader
    assert not use_prompt_reader(1024, repack_allowed=False, offloaded=False, avx512=True, requested=True)


def test_the_copy_buffer_holds_a_full_cache_from_the_start(pair: Any) -> None:
    """Made (and its pages populated) with the reader, large enough for a full cache's copy, so
    no copy faults pages in or grows it; a larger request than foreseen still gets room."""
    import llama_cpp

    a, _ = pair
    assert a._copy_map is not None
    full = len(a._copy_map)
    _read(a, _ids(a, a.n_ctx - 8, seed=10))  # nearly full (past 1,024: a new rope base too)
    needed = int(llama_cpp.llama_state_seq_get_size(a._reader._ctx.ctx, 0))
    assert needed <= full, (needed, full)
    first = a._copy_buffer(needed)
    assert a._copy_buffer(full) is first and len(a._copy_map) == full  # kept, not made again
    bigger = a._copy_buffer(full + 1)
    assert len(a._copy_map) == full + 1
    bigger[full] = 7  # the whole of it is writable memory
    assert a._copy_map[full] == 7
    a.unload()
    assert a._copy_map is None and not a.has_prompt_reader


def test_a_state_the_conversion_refuses_fails_the_read_with_a_sentence_and_the_next_read_works(
        q4_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy not in the format llamacpp_state knows (a changed llama.cpp) is a translated
    EngineError with the cause behind it, the cache is dropped, and the backend reads again."""
    from app.engine.llamacpp_state import StateFormatError
    from app.engine.types import EngineError

    a = LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=True)  # the reader with flash attention
    b = LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=True)
    assert a.reader_flash_attn and not a.flash_attn
    try:
        _refused_then_read(a, b, monkeypatch, StateFormatError, EngineError)
    finally:
        a.unload()
        b.unload()


def _refused_then_read(a: LlamaCppBackend, b: LlamaCppBackend, monkeypatch: pytest.MonkeyPatch,
                       StateFormatError: Any, EngineError: Any) -> None:  # noqa: N803
    prompt = _ids(a, 400, seed=12)

    def _refuse(buf: Any, size: int, *, transposed: bool) -> None:
        raise StateFormatError("the state has more than one stream")

    with monkeypatch.context() as m:
        m.setattr(lb, "convert_v_layout", _refuse)
        with pytest.raises(EngineError) as err:
            _read(a, prompt)
    assert "llama.cpp failed" in str(err.value.message) and "more than one stream" in err.value.detail
    assert a.cached_tokens == [] and not a._reading
    got, want = _run(a, prompt), _run(b, prompt)  # b: a fresh backend like a, reading it once
    assert got.stats.cached_tokens == 0 and got.token_ids == want.token_ids
    np.testing.assert_allclose(a.last_logits(), b.last_logits(), rtol=1e-5, atol=1e-5)


def test_a_follow_up_goes_to_the_reader_only_when_it_pays_for_the_copies(
        pair: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """reader_min_tokens: at least READER_MIN_TOKENS new tokens, and at least the decoder's
    cache over READER_DEPTH_RATIO (the two copies grow with it). The ratio is made 3 here so
    that a conversation below the trained length (1,024: one rope base) shows it; the function
    itself is checked on its own."""
    from app.engine import llamacpp_policy as policy

    assert policy.reader_min_tokens(0) == policy.reader_min_tokens(5120) == READER_MIN_TOKENS
    assert policy.reader_min_tokens(8000) == 200 and policy.reader_min_tokens(16000) == 400
    assert all(policy.reader_min_tokens(n) <= policy.reader_min_tokens(n + 1) for n in range(0, 40000, 97))
    a, _ = pair
    rec = _Recorder(a)
    prompt = _ids(a, 400, seed=13)
    _run(a, prompt)  # read on the reader, answered on the decoder: the decoder holds it all
    held = len(a.cached_tokens)
    assert not a._reading and held > 400
    monkeypatch.setattr(policy, "READER_DEPTH_RATIO", 3)
    need = policy.reader_min_tokens(held)
    assert need > READER_MIN_TOKENS
    rec.take(), rec.take_copies()
    # (which context reads is what this checks; each one's reading is checked above, and the
    # two layouts' readings of a 130-token prefill differ enough to change a greedy token)
    short = a.cached_tokens + _ids(a, need - 1, seed=14)
    got = _run(a, short)
    counts = rec.take()
    assert counts["reader"] == 0 and counts["decoder"] == need - 1 + len(got.token_ids)
    assert rec.take_copies() == []  # not worth two copies of the cache
    assert len(a.cached_tokens) + policy.reader_min_tokens(len(a.cached_tokens)) + GREEDY.max_new_tokens < 1024
    extra = policy.reader_min_tokens(len(a.cached_tokens))
    got_prompt = a.cached_tokens + _ids(a, extra, seed=15)
    got = _run(a, got_prompt)
    assert rec.take()["reader"] == extra and rec.take_copies() == ["reader", "decoder"]
    assert got.stats.cached_tokens == len(got_prompt) - extra
