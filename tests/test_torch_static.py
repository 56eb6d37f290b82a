"""The PyTorch backend's static KV cache path (the CUDA fast-decode path) against the eager path.

On CUDA the static path is the default and its decode step is replayed from a CUDA graph; here,
on the CPU, the same code runs eagerly (selected with static_cache=True), so its arithmetic,
its cache capacity growth and its trimming (setting the valid length) are checked against the
transformers path on the tiny model: the same greedy tokens, the same logits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.engine.backend import Aborted, Backend
from app.engine.torch_backend import TorchBackend
from app.engine.types import Finished, GenerateRequest
from app.internlm2.chat_format import Message, Sampling, build_chat_prompt
from tests.engine_helpers import cancel_at_first_progress

GREEDY = Sampling(temperature=0.0, max_new_tokens=24)


def _run(backend: Backend, prompt: list[int], sampling: Sampling = GREEDY) -> Finished:
    events = list(backend.generate(GenerateRequest(prompt, sampling)))
    assert isinstance(events[-1], Finished)
    return events[-1]


def _prompt(backend: Backend, *turns: str) -> list[int]:
    return build_chat_prompt([Message("user", t) for t in turns]).ids(backend.tokenizer)


@pytest.fixture(scope="module")
def pair(tiny_model: Path) -> Iterator[tuple[TorchBackend, TorchBackend]]:
    eager = TorchBackend(tiny_model, device="cpu", n_ctx=2048)
    static = TorchBackend(tiny_model, device="cpu", n_ctx=2048, static_cache=True)
    assert static._static is not None
    static._static._min_cap = 16  # small buckets: the capacity grows several times per reply
    yield eager, static
    eager.unload()
    static.unload()


def test_cpu_default_is_the_eager_path(pair: tuple[TorchBackend, TorchBackend]) -> None:
    eager, static = pair
    assert eager._static is None and eager.decode_mode == "eager"
    assert static.decode_mode == "static cache"  # no CUDA here: no graph


def test_static_path_gives_the_eager_tokens_and_logits(pair: tuple[TorchBackend, TorchBackend]) -> None:
    eager, static = pair
    eager._reset_cache()
    static._reset_cache()
    prompt = _prompt(eager, "Tell me about static caches. " * 3)
    a = _run(eager, prompt)
    b = _run(static, prompt)
    assert len(a.token_ids) > 0
    assert b.token_ids == a.token_ids
    assert np.abs(eager.last_logits().numpy() - static.last_logits().numpy()).max() < 1e-3
    assert static._static is not None
    assert static._static.capacity >= len(prompt) + len(b.token_ids) > 16  # grew past the first bucket
    assert static._static.length == len(static.cached_tokens)


def test_prefix_reuse_trims_by_valid_length(pair: tuple[TorchBackend, TorchBackend]) -> None:
    eager, static = pair
    first = _prompt(static, "What is a KV cache?")
    reply = _run(static, first)
    msgs = [Message("user", "What is a KV cache?"), Message("assistant", reply.text),
            Message("user", "And why reuse it?")]
    second = build_chat_prompt(msgs).ids(static.tokenizer)
    warm = _run(static, second)
    assert warm.stats.cached_tokens >= len(first)
    # A different question after the same system prompt: the cache is cut where they diverge,
    # and what lies past the cut (stale keys) must not leak into the answer.
    third = _prompt(static, "Something else entirely, please.")
    diverge = _run(static, third)
    assert 0 < diverge.stats.cached_tokens < len(first)
    eager._reset_cache()
    for prompt, got in ((second, warm), (third, diverge)):
        eager._reset_cache()
        assert _run(eager, prompt).token_ids == got.token_ids


def test_cancel_during_static_prefill_keeps_the_cache_consistent(pair: tuple[TorchBackend, TorchBackend]) -> None:
    eager, static = pair
    static._reset_cache()
    old = static.prefill_chunk
    static.prefill_chunk = 32
    try:
        prompt = _prompt(static, "word " * 200)
        cancel_at_first_progress(static, prompt, GREEDY)
        assert static._static is not None and static._static.length == len(static.cached_tokens)
        static._cancel.set()  # inside a chunk: stops between layers
        with pytest.raises(Aborted):
            static._forward(prompt[len(static.cached_tokens):][:32])
        static._cancel.clear()
        static._trim(len(static.cached_tokens))
        again = _run(static, prompt)
        assert again.stats.cached_tokens >= 32
        eager._reset_cache()
        assert _run(eager, prompt).token_ids == again.token_ids
    finally:
        static.prefill_chunk = old


def test_sampled_replies_match_with_a_seed(pair: tuple[TorchBackend, TorchBackend]) -> None:
    eager, static = pair
    s = Sampling(temperature=0.8, top_p=0.9, top_k=40, repetition_penalty=1.1, max_new_tokens=12, seed=7)
    prompt = _prompt(eager, "Pick some words.")
    eager._reset_cache()
    static._reset_cache()
    assert _run(eager, prompt, s).token_ids == _run(static, prompt, s).token_ids
