"""The rope base follows the conversation, not the allocated context (issue 16, section 2).

The reference is written here from the official formula (docs: InternLM2's
InternLM2DynamicNTKScalingRotaryEmbedding, transformers' "dynamic" rope): the unscaled base up
to the trained length, theta * ((factor * L / trained) - (factor - 1)) ** (d / (d - 2)) past it,
and an independent float64 forward (tests/reference_internlm2.py) computes the logits with it.
Both backends are compared with it at several (prompt length, answer budget, n_ctx).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.engine.backend import Backend
from app.engine.llamacpp_backend import LlamaCppBackend
from app.engine.torch_backend import TorchBackend
from app.engine.types import Finished, GenerateRequest, RopeRebase
from app.internlm2.chat_format import Sampling
from app.internlm2.config import load_config
from app.internlm2.rope import RopeScaling
from tests.reference_internlm2 import reference_logits
from tests.tiny_model import TinySpec, build_tiny_checkpoint

TRAINED = 256
THETA = 10000.0
FACTOR = 2.0


def official_base(length: int, head_dim: int) -> float:
    """The official dynamic-NTK base for a sequence of `length` tokens (float64)."""
    if length <= TRAINED:
        return THETA
    return THETA * ((FACTOR * length / TRAINED) - (FACTOR - 1)) ** (head_dim / (head_dim - 2))


@pytest.fixture(scope="module")
def short_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trained (nominally) to 256 positions, dynamic NTK factor 2; soft weights (see
    test_gguf_export.long_model) keep llama.cpp's float32 RoPE angles within 1e-3."""
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-rope"),
                                 TinySpec(max_positions=TRAINED, rope_theta=THETA, rope_factor=FACTOR,
                                          seed=3, std=0.05, dtype="F32"))


@pytest.fixture(scope="module")
def short_gguf(short_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from app.internlm2.gguf_export import export_gguf

    return export_gguf(short_model, tmp_path_factory.mktemp("rope-gguf") / "short.gguf", "f32")


def _open(which: str, folder: Path, gguf: Path, n_ctx: int) -> Backend:
    if which == "torch":
        return TorchBackend(folder, device="cpu", n_ctx=n_ctx)
    return LlamaCppBackend(gguf, n_ctx=n_ctx, kv_type="f32")


def _ids(vocab: int, n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [1, *(int(x) for x in rng.integers(3, vocab - 6, n - 1))]


def _logits(backend: Backend) -> np.ndarray:
    out = backend.last_logits()
    return np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float64)


def test_bucket_and_base_rules() -> None:
    d = 128
    s = RopeScaling(1e6, d, 32768, 2.0)
    for n_ctx in (4096, 32768, 65536, 262144):
        for need in (1, 20, 4096, 32768):
            assert s.base_for(min(need, n_ctx), n_ctx) == 1e6  # exactly official within the trained length
    assert s.bucket(32769, 262144) == 65536 and s.bucket(65537, 262144) == 131072
    assert s.bucket(40000, 50000) == 50000  # never past the context
    assert s.bucket(70000, 65536) == 65536  # an answer budget past the context ends when it is full
    assert s.base_for(1000 + 100_000, 32768) == 1e6  # ... so a huge budget in a trained-size context is unscaled
    ref = 1e6 * ((2.0 * 65536 / 32768) - 1.0) ** (d / (d - 2))
    assert s.base_for(40000, 262144) == pytest.approx(ref, rel=1e-12)
    assert RopeScaling(1e6, d, 32768, None).base_for(200000, 262144) == 1e6  # no scaling recorded
    bases = [s.base_for(n, 262144) for n in range(30000, 262144, 977)]
    assert bases == sorted(bases) and len(set(bases)) == 4  # monotonic, and it changes rarely


# (prompt tokens, answer budget, n_ctx) -> the length the base is computed for.
CASES = [
    (20, 16, 4096, TRAINED),     # a short chat in a huge context: the official, unscaled base
    (200, 40, 4096, TRAINED),    # prompt + answer within the trained length: unscaled still
    (200, 100, 4096, 512),       # the answer budget crosses it: the base of the 512 bucket
    (500, 100, 768, 768),        # the bucket (1,024) is capped by the context
    (600, 100, 4096, 1024),
]


@pytest.mark.parametrize("which", ["torch", "llamacpp"])
def test_logits_match_the_official_formula(short_model: Path, short_gguf: Path, which: str) -> None:
    cfg = load_config(short_model)
    d = cfg.head_dim
    by_ctx: dict[int, Backend] = {}
    try:
        for n, budget, n_ctx, length in CASES:
            backend = by_ctx.get(n_ctx) or by_ctx.setdefault(n_ctx, _open(which, short_model, short_gguf, n_ctx))
            ids = _ids(cfg.vocab_size, n, seed=n)
            events = list(backend.generate(GenerateRequest(ids, Sampling(max_new_tokens=budget), prefill_only=True)))
            assert isinstance(events[-1], Finished)
            expected = official_base(length, d)
            assert backend.rope_base == pytest.approx(expected, rel=1e-9)
            assert events[-1].stats.rope_base == backend.rope_base
            ref = reference_logits(short_model, ids, base=expected, last_only=True).numpy()
            diff = np.abs(_logits(backend) - ref).max()
            assert diff < 2e-3, f"{which} at {n} tokens, n_ctx {n_ctx}: max |diff| {diff}"
            # The test can tell: the old choice (the base for n_ctx) and the unscaled base are far off.
            for wrong in {official_base(n_ctx, d), THETA} - {expected}:
                off = np.abs(reference_logits(short_model, ids, base=wrong, last_only=True).numpy() - ref).max()
                assert off > 50 * max(diff, 1e-4), f"base {wrong} is indistinguishable from {expected}"
    finally:
        for b in by_ctx.values():
            b.unload()


@pytest.mark.parametrize("which", ["torch", "llamacpp"])
def test_within_trained_length_equals_transformers_dynamic(short_model: Path, short_gguf: Path, which: str) -> None:
    """transformers' own LlamaForCausalLM with rope "dynamic" applies the official formula per
    sequence: the app matches it at 20 tokens in a 4,096 context, and at exactly a bucket's length."""
    torch = pytest.importorskip("torch")
    from app.internlm2.llama_map import load_llama_model

    cfg = load_config(short_model)
    model = load_llama_model(short_model, device="cpu", dtype=torch.float32)
    backend = _open(which, short_model, short_gguf, 4096)
    try:
        for n in (20, 512):
            ids = _ids(cfg.vocab_size, n, seed=100 + n)
            with torch.no_grad():
                ref = model(torch.tensor([ids])).logits[0, -1].double().numpy()
            list(backend.generate(GenerateRequest(ids, Sampling(max_new_tokens=0), prefill_only=True)))
            assert np.abs(_logits(backend) - ref).max() < 2e-3
    finally:
        backend.unload()


@pytest.fixture(scope="module", params=["torch", "llamacpp"])
def pair(request: pytest.FixtureRequest, short_model: Path, short_gguf: Path) -> Iterator[Backend]:
    backend = _open(request.param, short_model, short_gguf, 2048)
    yield backend
    backend.unload()


def test_crossing_a_bucket_drops_the_cache_and_says_so(pair: Backend, short_model: Path) -> None:
    vocab = load_config(short_model).vocab_size
    greedy = Sampling(temperature=0.0, max_new_tokens=8)
    first = _ids(vocab, 150, seed=1)
    events = list(pair.generate(GenerateRequest(first, greedy)))
    done = events[-1]
    assert isinstance(done, Finished) and not done.stats.rope_rebased and pair.rope_base == THETA
    # The follow-up needs 150 + 8 + 120 + 8 > 256 tokens: the base of the 512 bucket.
    follow = first + done.token_ids + _ids(vocab, 121, seed=2)[1:]
    events = list(pair.generate(GenerateRequest(follow, greedy)))
    rebase = [e for e in events if isinstance(e, RopeRebase)]
    assert len(rebase) == 1 and isinstance(events[0], RopeRebase)
    assert (rebase[0].old_base, rebase[0].length, rebase[0].trained) == (THETA, 512, TRAINED)
    assert rebase[0].new_base == pytest.approx(official_base(512, load_config(short_model).head_dim))
    assert rebase[0].dropped_tokens >= len(first)
    done = events[-1]
    assert isinstance(done, Finished) and done.stats.rope_rebased and done.stats.cached_tokens == 0
    # Within the same bucket the cache is reused and nothing is said.
    more = follow + done.token_ids + _ids(vocab, 40, seed=3)[1:]
    events = list(pair.generate(GenerateRequest(more, greedy)))
    done = events[-1]
    assert not any(isinstance(e, RopeRebase) for e in events)
    assert isinstance(done, Finished) and not done.stats.rope_rebased and done.stats.cached_tokens > len(follow)
    # The same prompt on a fresh cache gives the same answer: reuse under one base is exact.
    fresh = list(pair.generate(GenerateRequest(more[:5], greedy)))  # back to a short chat: unscaled
    assert any(isinstance(e, RopeRebase) for e in fresh) and pair.rope_base == THETA
    again = list(pair.generate(GenerateRequest(more, greedy)))
    assert isinstance(again[-1], Finished) and again[-1].token_ids == done.token_ids


def test_both_backends_agree_past_the_trained_length(short_model: Path, short_gguf: Path) -> None:
    vocab = load_config(short_model).vocab_size
    prompt = _ids(vocab, 540, seed=9)
    greedy = Sampling(temperature=0.0, max_new_tokens=10)
    a, b = _open("torch", short_model, short_gguf, 768), _open("llamacpp", short_model, short_gguf, 768)
    try:
        ta = list(a.generate(GenerateRequest(prompt, greedy)))[-1]
        tb = list(b.generate(GenerateRequest(prompt, greedy)))[-1]
        assert isinstance(ta, Finished) and isinstance(tb, Finished)
        assert a.rope_base == pytest.approx(b.rope_base) and a.rope_base > THETA
        assert ta.token_ids == tb.token_ids
        assert np.abs(_logits(a) - _logits(b)).max() < 2e-2
    finally:
        a.unload()
        b.unload()


def test_saved_document_state_records_the_base_it_used(short_gguf: Path, tmp_path: Path) -> None:
    from app.engine.conversation import Conversation
    from app.engine.doc_cache import DocStateCache, state_key
    from app.engine.read_ahead import PrefixReader, PrefixSource

    backend = LlamaCppBackend(short_gguf, n_ctx=1024, kv_type="f32")
    cache = DocStateCache(tmp_path / "states")
    try:
        convo = Conversation(backend, system="", document=" ".join(str(1000 + 37 * i) for i in range(90)), document_name="d")
        ids = convo.prefix_ids()
        assert len(ids) > TRAINED  # the question needs a scaled base of a smaller bucket (512)
        reader = PrefixReader(backend, convo, cache, "a" * 64)
        assert isinstance(reader.wait(), Finished) and reader.source is PrefixSource.READ and reader.saved
        read_base = backend.rope_base
        assert read_base > THETA  # prefix + answer budget is past the trained length
        key = state_key(backend, "a" * 64, ids)
        assert key is not None and key.rope_base == read_base and cache.lookup(key) is not None
        # A question with a smaller answer budget (a smaller bucket) keeps the larger base: the
        # cache holds most of its prompt, and re-reading the document would cost more.
        question = convo.ask("What is it about?", Sampling(temperature=0.0, max_new_tokens=4))
        events = list(backend.generate(question))
        assert not any(isinstance(e, RopeRebase) for e in events)
        done = events[-1]
        assert isinstance(done, Finished) and done.stats.cached_tokens >= len(ids)
        assert done.stats.rope_base == read_base
        list(backend.generate(GenerateRequest([1, 5, 6], Sampling(max_new_tokens=4))))  # a short chat
        assert backend.rope_base == THETA
        again = PrefixReader(backend, convo, cache, "a" * 64)
        again.wait()
        assert again.source is PrefixSource.SAVED and backend.rope_base == read_base
    finally:
        backend.unload()
