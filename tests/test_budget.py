"""The context budget: fits / needs a larger context / does not fit, with honest choices."""

from __future__ import annotations

from pathlib import Path

from app.engine.budget import (
    MEMORY_MARGIN_BYTES,
    ChoiceKind,
    FreeMemory,
    ModelFacts,
    Verdict,
    cut_position,
    free_memory,
    kv_bytes,
    plan_context,
    round_context,
)
from app.engine.gguf_tokenizer import vocab_only_tokenizer
from app.internlm2.config import load_config

GiB = 2**30
# InternLM2-1.8B: 96 KiB of f16 KV per token, a 1.17 GB Q4_K_M file.
REAL = ModelFacts(kv_bytes_per_token_f16=24 * 8 * 128 * 2 * 2, weights_bytes=1_170_000_000, trained_context=32768)


def test_fits_the_loaded_context_with_the_share_in_the_sentence() -> None:
    plan = plan_context(REAL, document_tokens=51_200, question_tokens=30, answer_tokens=1024,
                        fixed_tokens=100, current_ctx=65_536, weights_loaded=True)
    assert plan.verdict is Verdict.FITS and plan.fits_as_is
    assert plan.n_ctx == 65_536 and plan.needed_tokens == 51_200 + 30 + 1024 + 100
    assert plan.sentence.startswith("The document takes 51,200 tokens of a 65,536-token context (78%)")
    assert plan.choices == []


def test_needs_a_larger_context_when_memory_allows() -> None:
    memory = FreeMemory("RAM", 16 * GiB)
    plan = plan_context(REAL, document_tokens=51_200, history_tokens=2_000, answer_tokens=1024,
                        current_ctx=32_768, memory=memory, weights_loaded=True, step=4096)
    assert plan.verdict is Verdict.NEEDS_LARGER
    assert plan.n_ctx == 57_344 and plan.n_ctx % 4096 == 0 and plan.n_ctx >= plan.needed_tokens
    # Only the growth of the KV cache counts: the weights and the old cache are already there.
    assert plan.memory_needed == kv_bytes(57_344 - 32_768, REAL.kv_bytes_per_token_f16)
    assert [c.kind for c in plan.choices] == [ChoiceKind.LARGER_CONTEXT]
    assert "reloaded with a context of 57,344 tokens" in plan.sentence


def test_does_not_fit_lists_drop_turns_and_cut_with_the_position() -> None:
    memory = FreeMemory("RAM", 4 * GiB)
    turns = [3_000, 3_000, 3_000, 3_000]
    plan = plan_context(REAL, document_tokens=40_000, turn_tokens=turns, question_tokens=50, answer_tokens=1024,
                        current_ctx=8192, memory=memory, weights_loaded=True,
                        locate_cut=lambda keep: keep * 4)  # 4 characters a token
    per_token = REAL.kv_bytes_per_token_f16
    affordable = (4 * GiB - MEMORY_MARGIN_BYTES + kv_bytes(8192, per_token)) // per_token // 256 * 256
    assert plan.verdict is Verdict.DOES_NOT_FIT
    assert plan.max_affordable_ctx == affordable < plan.needed_tokens
    assert "Nothing was cut" in plan.sentence and "free RAM" in plan.sentence
    kinds = {c.kind: c for c in plan.choices}
    assert ChoiceKind.LARGER_CONTEXT not in kinds
    drop = kinds[ChoiceKind.DROP_OLDEST_TURNS]
    # The smallest number of oldest turns whose removal makes it fit.
    assert plan.needed_tokens - 3_000 * drop.drop_turns <= affordable < plan.needed_tokens - 3_000 * (drop.drop_turns - 1)
    cut = kinds[ChoiceKind.CUT_DOCUMENT]
    assert cut.keep_document_tokens == affordable - (plan.needed_tokens - 40_000)
    assert cut.cut_at_char == cut.keep_document_tokens * 4
    assert f"character {cut.cut_at_char:,}" in cut.sentence


def test_weights_count_when_not_loaded_and_q8_holds_more() -> None:
    memory = FreeMemory("VRAM", 8 * GiB)
    loaded = plan_context(REAL, document_tokens=300_000, memory=memory, weights_loaded=True, current_ctx=4096)
    fresh = plan_context(REAL, document_tokens=300_000, memory=memory, weights_loaded=False)
    q8 = plan_context(REAL, document_tokens=300_000, memory=memory, weights_loaded=False, kv_type="q8_0")
    assert fresh.verdict is Verdict.DOES_NOT_FIT and "VRAM" in fresh.sentence
    weights_tokens = REAL.weights_bytes // REAL.kv_bytes_per_token_f16
    assert abs((loaded.max_affordable_ctx - fresh.max_affordable_ctx) - weights_tokens - 4096) <= 256
    assert q8.max_affordable_ctx > fresh.max_affordable_ctx * 1.8


def test_no_model_loaded_yet_fits_with_the_context_to_allocate() -> None:
    plan = plan_context(REAL, document_tokens=10_000, answer_tokens=512, memory=FreeMemory("RAM", 16 * GiB))
    assert plan.verdict is Verdict.FITS and plan.n_ctx == round_context(10_512)
    assert "will be loaded with that context" in plan.sentence


def test_tiny_model_facts_and_cut_position(tiny_model: Path, tiny_gguf: Path) -> None:
    cfg = load_config(tiny_model)
    from_gguf = ModelFacts.from_gguf(tiny_gguf)
    from_ckpt = ModelFacts.from_checkpoint(tiny_model)
    assert from_gguf.kv_bytes_per_token_f16 == from_ckpt.kv_bytes_per_token_f16 == cfg.kv_bytes_per_token_f16 == 256
    assert from_gguf.weights_bytes == tiny_gguf.stat().st_size
    assert free_memory("cpu").kind == "RAM" and free_memory("cpu").available > 0
    tok = vocab_only_tokenizer(tiny_gguf)
    text = "The quick brown fox jumps over the lazy dog near the river bank. " * 40
    total = len(tok.encode(text))
    pos = cut_position(tok.encode, text, total // 3)
    assert 0 < pos < len(text)
    assert len(tok.encode(text[:pos])) <= total // 3 < len(tok.encode(text[:pos + 40]))
    plan = plan_context(from_gguf, document_tokens=total, answer_tokens=64, current_ctx=total // 2,
                        memory=FreeMemory("RAM", 0), weights_loaded=True,
                        locate_cut=lambda keep: cut_position(tok.encode, text, keep))
    assert plan.verdict is Verdict.DOES_NOT_FIT
    cut = next(c for c in plan.choices if c.kind is ChoiceKind.CUT_DOCUMENT)
    assert cut.cut_at_char is not None and len(tok.encode(text[:cut.cut_at_char])) <= cut.keep_document_tokens


def test_a_context_past_the_trained_length_says_it_uses_the_long_context_scaling() -> None:
    memory = FreeMemory("RAM", 16 * GiB)
    past = plan_context(REAL, document_tokens=51_200, answer_tokens=1024, current_ctx=32_768, memory=memory,
                        weights_loaded=True, step=4096)
    assert "trained 32,768 tokens use its long-context (dynamic NTK) scaling" in past.sentence
    assert "long-context" in past.choices[0].sentence
    within = plan_context(REAL, document_tokens=20_000, answer_tokens=1024, current_ctx=8_192, memory=memory,
                          weights_loaded=True, step=4096)
    assert within.n_ctx <= 32_768 and "long-context" not in within.sentence
    assert "long-context" not in within.choices[0].sentence
