"""The shallow decoder (llamacpp_policy.use_shallow_decoder): the first SHALLOW_MAX tokens of a
context decode with flash attention on a small second llama.cpp context over the decoder's own
(repacked) weights, then the decoder, without flash attention, takes the cache.

The tiny Q4_K_M model of tests/conftest.py (`q4_gguf`). The references are backends with one
kernel: `fa`, flash attention everywhere on the same layout, and `plain`, none. While the shallow
decoder holds the cache it computes what `fa` does, to float rounding. After the handover the
cache holds what flash attention computed and the next tokens are computed without it, which no
one-kernel backend does; so the handover is checked exactly where it can be (a cache handed back
to the shallow decoder is `fa`'s again, to float rounding), and otherwise against `plain` to
within a fifth of the logits' range: on this random model the two kernels' logits differ by up to
about 1.8 in 300 tokens, while a cache handed over with its cells out of order is off by 13 or
more (checked here, so the bound is seen to fail). Which context ran each token and each copy
is recorded, not timed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.engine import llamacpp_backend as lb
from app.engine import llamacpp_state
from app.engine.llamacpp_backend import LlamaCppBackend
from app.engine.llamacpp_policy import (
    LONG_CONTEXT,
    SHALLOW_CTX,
    SHALLOW_MAX,
    context_policy,
    use_shallow_decoder,
)
from app.internlm2.chat_format import Sampling
from tests.pacing import endless_reply
from tests.test_prompt_reader import (  # the reader's tests' helpers, the same here
    GREEDY,
    _ids,
    _run,
)


def _step(backend: LlamaCppBackend, ids: list[int], sampling: Sampling = GREEDY) -> Any:
    """Read `ids` (only what the cache lacks) and return the logits after the last."""
    assert _run(backend, ids, sampling, prefill_only=True).stats.stop_reason.name == "PREFILLED"
    return backend.last_logits()


def _fresh(*backends: LlamaCppBackend) -> None:
    """Empty caches, so that what a test reads is all read (the module's backends are shared)."""
    for backend in backends:
        backend._reset_cache()


def _where(backend: LlamaCppBackend, llm: Any) -> str:
    return {id(backend._shallow): "shallow", id(backend._reader): "reader", id(backend._llm): "decoder"}[id(llm)]


class _Recorder:
    """The tokens each of a backend's contexts evaluated, and each state copy (source to
    destination, and whether its V layout was converted)."""

    def __init__(self, backend: LlamaCppBackend, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: dict[str, int] = {}
        self.copies: list[str] = []
        for llm in (backend._shallow, backend._reader, backend._llm):
            if llm is None:
                continue
            name, original = _where(backend, llm), llm.eval

            def _eval(ids: Any, _name: str = name, _original: Any = original) -> None:
                self.counts[_name] = self.counts.get(_name, 0) + len(ids)
                _original(ids)

            monkeypatch.setattr(llm, "eval", _eval)
        copy, convert = backend._copy_state, lb.convert_v_layout
        converted: list[bool] = []

        def _copy(src: Any, dst: Any) -> None:
            converted.clear()
            copy(src, dst)
            self.copies.append(f"{_where(backend, src)}>{_where(backend, dst)}" + (" converted" if converted else ""))

        def _convert(buf: Any, size: int, *, transposed: bool) -> None:
            converted.append(True)
            convert(buf, size, transposed=transposed)

        monkeypatch.setattr(backend, "_copy_state", _copy)
        monkeypatch.setattr(lb, "convert_v_layout", _convert)

    def take(self) -> tuple[dict[str, int], list[str]]:
        counts, copies = self.counts, self.copies
        self.counts, self.copies = {}, []
        return counts, copies


@pytest.fixture(scope="module")
def trio(q4_gguf: Path) -> Any:
    """The backend with the shallow decoder (no prompt reader: its own test below), and the two
    one-kernel references on the same repacked layout."""
    made = [LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=False, shallow_decoder=True),
            LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=False, flash_attn=True),
            LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=False, shallow_decoder=False)]
    try:
        yield made
    finally:
        for backend in made:
            backend.unload()


def _bound(plain: Any) -> float:
    return 0.2 * float(np.ptp(plain))


def test_the_policy_gives_the_shallow_decoder_only_where_flash_attention_was_measured_to_win() -> None:
    rng = random.Random(11)
    sizes = {1, SHALLOW_CTX, SHALLOW_CTX + 1, 4096, LONG_CONTEXT, 65536} | {rng.randint(1, 100_000) for _ in range(30)}
    for n_ctx in sorted(sizes):
        for memory_ok in (True, False):
            p = context_policy(n_ctx, 512, 16, "f16", offloaded=False, avx512=True, reader_memory_ok=memory_ok)
            assert p.shallow is (p.repack and n_ctx > SHALLOW_CTX), (n_ctx, memory_ok)  # a document's plain layout: no
            assert (f"first {SHALLOW_MAX} tokens" in p.why) is p.shallow
        ok = {"avx512": True, "reader_memory_ok": True}
        assert not context_policy(n_ctx, 512, 16, "f32", offloaded=False, **ok).shallow  # exactness: no f16 cast
        assert not context_policy(n_ctx, 512, 16, "q8_0", offloaded=False, **ok).shallow  # flash attention already
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=True, **ok).shallow  # the GPU
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=False, avx512=False).shallow  # AVX2: not measured
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=False, repack_allowed=False, **ok).shallow
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=False, requested_flash=True, **ok).shallow
        # asked for (tests, bench): wherever a decoder without flash attention has room past it
        asked = context_policy(n_ctx, 512, 16, "f32", offloaded=False, avx512=False, requested_shallow=True)
        assert asked.shallow is (n_ctx > SHALLOW_CTX)
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=False, requested_shallow=False, **ok).shallow
    assert SHALLOW_MAX < SHALLOW_CTX
    for flash, offloaded in ((True, False), (False, True)):
        assert not use_shallow_decoder(4096, flash, "f16", offloaded, True, True, requested=True)


def test_the_first_tokens_are_flash_attentions_and_the_decoder_takes_over_once(
        trio: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shallow, fa, plain = trio
    assert shallow.has_shallow_decoder and not fa.has_shallow_decoder and not plain.has_shallow_decoder
    assert shallow._shallow.context_params.flash_attn_type == 1 and not shallow._llm.context_params.flash_attn_type
    assert shallow._shallow._model is shallow._llm._model  # the decoder's own weights, not a second copy
    assert shallow._shallow.context_params.n_ctx == SHALLOW_CTX
    rec = _Recorder(shallow, monkeypatch)
    ids = _ids(shallow, SHALLOW_MAX + 70, seed=1)
    for n in range(1, len(ids) + 1):  # a token at a time, as decode steps come
        got = _step(shallow, ids[:n])
        if n <= SHALLOW_MAX:
            assert _where(shallow, shallow._holder) == "shallow", n
            np.testing.assert_allclose(got, _step(fa, ids[:n]), rtol=1e-5, atol=1e-5)
        else:
            assert _where(shallow, shallow._holder) == "decoder", n
            want = _step(plain, ids[:n])
            assert float(np.abs(got - want).max()) < _bound(want), n
    counts, copies = rec.take()
    assert counts == {"shallow": SHALLOW_MAX, "decoder": 70}
    assert copies == ["shallow>decoder converted"]  # once, at SHALLOW_MAX, V turned to the decoder's layout


def test_a_cache_handed_over_out_of_order_breaks_the_bound(trio: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The negative control of the bound above: each layer's V cells reversed in the handover."""
    shallow, _, plain = trio
    real = llamacpp_state.convert_v_layout

    def _scrambled(buf: Any, size: int, *, transposed: bool) -> None:
        real(buf, size, transposed=transposed)
        _, blocks, cells = llamacpp_state._parse(buf, size, not transposed)
        for block in blocks:
            v = np.frombuffer(buf, dtype="<u2", count=cells * block.n_embd, offset=block.data)
            v[:] = v.reshape(block.n_embd, cells)[:, ::-1].reshape(-1)

    ids = _ids(shallow, SHALLOW_MAX + 20, seed=2)
    _step(shallow, ids[:SHALLOW_MAX])
    monkeypatch.setattr(lb, "convert_v_layout", _scrambled)
    worst = 0.0
    for n in range(SHALLOW_MAX + 1, len(ids) + 1):
        want = _step(plain, ids[:n])
        worst = max(worst, float(np.abs(_step(shallow, ids[:n]) - want).max()) / _bound(want))
    assert worst > 1.0, worst


def test_a_reply_crosses_over_and_an_edit_comes_back_exactly(trio: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shallow, fa, _ = trio
    _fresh(shallow, fa)
    rec = _Recorder(shallow, monkeypatch)
    prompt = _ids(shallow, 100, seed=3)
    with endless_reply(shallow, step_s=0.0):  # never ends by itself: it crosses SHALLOW_MAX
        first = _run(shallow, prompt, Sampling(temperature=0.0, max_new_tokens=150))
    assert len(first.token_ids) == 150 and shallow.cached_tokens == prompt + first.token_ids
    counts, copies = rec.take()
    # the prompt and the steps up to SHALLOW_MAX cached tokens on the shallow decoder, the rest after
    assert counts == {"shallow": SHALLOW_MAX, "decoder": 100 + 150 - SHALLOW_MAX}, counts
    assert copies == ["shallow>decoder converted"]

    follow = shallow.cached_tokens + _ids(shallow, 20, seed=4)  # past SHALLOW_MAX: the decoder, no copy
    _run(shallow, follow)
    counts, copies = rec.take()
    assert "shallow" not in counts and copies == []

    # An edit back to 50 tokens: the decoder's cache (its first 50 cells computed by the shallow
    # decoder, handed over and trimmed) comes back to the shallow decoder, and what it reads from
    # there is flash attention's reading (in the same chunks), to float rounding: both
    # conversions are exact.
    edited = prompt[:50] + _ids(shallow, 30, seed=5)
    got = _step(shallow, edited)
    counts, copies = rec.take()
    assert counts == {"shallow": 30} and copies == ["decoder>shallow converted"]
    assert shallow.cached_tokens == edited
    _step(fa, prompt)
    np.testing.assert_allclose(got, _step(fa, edited), rtol=1e-5, atol=1e-5)


def test_a_saved_state_goes_through_the_decoder_and_back(trio: Any, q4_gguf: Path, tmp_path: Path) -> None:
    shallow, fa, _ = trio
    _fresh(shallow, fa)
    prompt = _ids(shallow, 120, seed=6)
    _step(shallow, prompt)
    _step(fa, prompt)  # the reference reads in the same chunks
    assert _where(shallow, shallow._holder) == "shallow"
    state = tmp_path / "doc.state"
    shallow.save_state(state)  # the file is the decoder's: the cache goes there first
    assert _where(shallow, shallow._holder) == "decoder"
    fresh = LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=False, shallow_decoder=True)
    try:
        assert fresh.load_state(state) == prompt and _where(fresh, fresh._holder) == "decoder"
        question = prompt + _ids(shallow, 10, seed=7)
        np.testing.assert_allclose(_step(fresh, question), _step(fa, question), rtol=1e-5, atol=1e-5)
        assert _where(fresh, fresh._holder) == "shallow"
    finally:
        fresh.unload()
    assert not fresh.has_shallow_decoder and fresh._holder is None


def test_a_new_rope_base_reaches_the_shallow_decoder(trio: Any) -> None:
    """A short prompt with an answer budget past the trained length (1,024) gets the scaled base:
    the shallow decoder is made again with it, or its keys would be rotated wrongly."""
    shallow, fa, _ = trio
    prompt = _ids(shallow, 60, seed=8)
    long_answer = Sampling(temperature=0.0, max_new_tokens=1100)
    got, want = _step(shallow, prompt, long_answer), _step(fa, prompt, long_answer)
    assert shallow.rope_base == fa.rope_base > shallow.info.rope_base
    assert _where(shallow, shallow._holder) == "shallow"
    assert shallow._shallow.context_params.rope_freq_base == shallow._llm.context_params.rope_freq_base
    assert abs(shallow._shallow.context_params.rope_freq_base - shallow.rope_base) < 1e-2  # a float32 field
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    back, want = _step(shallow, prompt), _step(fa, prompt)  # a budget inside the trained length
    assert shallow.rope_base == fa.rope_base == shallow.info.rope_base  # the GGUF's own base again
    assert abs(shallow._shallow.context_params.rope_freq_base - shallow.rope_base) < 1e-2
    np.testing.assert_allclose(back, want, rtol=1e-5, atol=1e-5)


def test_the_reader_hands_a_short_read_to_the_shallow_decoder(q4_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the prompt reader too (flash attention, the plain layout): a 150-token prompt is read
    there and goes to the shallow decoder (the same V layout: no conversion), then to the decoder
    at SHALLOW_MAX; a long follow-up goes to the reader and back to the decoder."""
    backend = LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=True, shallow_decoder=True)
    try:
        assert backend.has_prompt_reader and backend.has_shallow_decoder and backend.reader_flash_attn
        rec = _Recorder(backend, monkeypatch)
        prompt = _ids(backend, 150, seed=9)
        with endless_reply(backend, step_s=0.0):
            first = _run(backend, prompt, Sampling(temperature=0.0, max_new_tokens=60))
        counts, copies = rec.take()
        assert counts == {"reader": 150, "shallow": SHALLOW_MAX - 150, "decoder": 60 - (SHALLOW_MAX - 150)}, counts
        assert copies == ["reader>shallow", "shallow>decoder converted"]
        follow = backend.cached_tokens + _ids(backend, 200, seed=10)
        _run(backend, follow)
        counts, copies = rec.take()
        assert counts["reader"] == 200 and "shallow" not in counts
        assert copies == ["decoder>reader converted", "reader>decoder converted"]
        assert backend.cached_tokens[:len(prompt) + len(first.token_ids)] == prompt + first.token_ids
    finally:
        backend.unload()


def test_without_room_for_the_shallow_decoder_the_chat_goes_on(q4_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def _refused(*_args: Any) -> None:
        raise ValueError("Failed to create llama_context")

    monkeypatch.setattr(lb, "_SideContext", _refused)
    backend = LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=False, shallow_decoder=True)
    try:
        assert backend.policy.shallow and not backend.has_shallow_decoder
        assert len(_run(backend, _ids(backend, 40, seed=11)).token_ids) > 0
        assert backend._holder is backend._llm
    finally:
        backend.unload()


def test_a_rope_base_llama_cpp_cannot_make_drops_the_side_contexts_and_keeps_the_chat(
        q4_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new base whose contexts llama.cpp refuses (no memory for them): the reader and the
    shallow decoder are dropped, the decoder goes back to the base it had, the reply fails with a
    sentence, and the next conversation inside the trained length still runs."""
    import llama_cpp._internals as internals

    from app.engine.types import OutOfMemory

    backend = LlamaCppBackend(q4_gguf, n_ctx=2048, n_threads=1, prompt_reader=True, shallow_decoder=True)
    try:
        official = backend.rope_base
        real = internals.LlamaContext

        def _refusing(*, model: Any, params: Any, verbose: bool = True) -> Any:
            if abs(params.rope_freq_base - official) > 1e-2:
                raise ValueError("Failed to create llama_context")
            return real(model=model, params=params, verbose=verbose)

        monkeypatch.setattr(internals, "LlamaContext", _refusing)
        prompt = _ids(backend, 60, seed=12)
        with pytest.raises(OutOfMemory):
            _run(backend, prompt, Sampling(temperature=0.0, max_new_tokens=1100))
        assert not backend.has_prompt_reader and not backend.has_shallow_decoder
        assert abs(backend._llm.context_params.rope_freq_base - official) < 1e-2
        assert backend._holder is backend._llm
        monkeypatch.setattr(internals, "LlamaContext", real)
        assert backend.rope_base == official  # the failed request left the base it had
        assert len(_run(backend, prompt).token_ids) > 0
    finally:
        backend.unload()
