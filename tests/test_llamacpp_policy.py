"""The llama.cpp context policy (app/engine/llamacpp_policy.py): its decisions, not timings.

The figures that chose it are in bench/README.md ("CPU sweep"); here each decision is checked
over generated context sizes, and a real backend is checked to run with what it decided.
"""

from __future__ import annotations

import random
from pathlib import Path

from app.engine.llamacpp_backend import LlamaCppBackend
from app.engine.llamacpp_policy import LONG_CONTEXT, MIN_UBATCH, SCORES_CAP_BYTES, context_policy
from app.engine.llamacpp_runtime import build_has_avx512, repacking_allowed

_LLAMA_FLASH_ENABLED, _LLAMA_FLASH_DISABLED = 1, 0  # llama_flash_attn_type


def _sizes() -> list[int]:
    rng = random.Random(17)
    return sorted({1, 16, 256, 512, 4096, 8192, 32768, 262144} | {rng.randint(1, 300_000) for _ in range(40)})


def test_the_cpu_never_uses_flash_attention_for_an_f16_or_f32_cache() -> None:
    for n_ctx in _sizes():
        for kv in ("f16", "f32"):
            policy = context_policy(n_ctx, 512, 16, kv, offloaded=False)
            assert not policy.flash_attn, (n_ctx, kv)
            assert "CPU" in policy.why and f"{n_ctx:,}" in policy.why


def test_the_micro_batch_keeps_the_scores_bounded_at_every_size() -> None:
    for n_ctx in _sizes():
        for n_batch in (64, 128, 512, 2048):
            for heads in (8, 16, 32):
                rows = context_policy(n_ctx, n_batch, heads, "f16", offloaded=False).n_ubatch
                assert rows <= min(n_batch, n_ctx), (n_ctx, n_batch, heads)
                assert rows >= min(n_batch, n_ctx, MIN_UBATCH)
                assert rows <= MIN_UBATCH or rows * n_ctx * heads * 4 <= SCORES_CAP_BYTES


def test_gpu_q8_0_and_explicit_requests_get_flash_attention() -> None:
    for n_ctx in _sizes():
        gpu = context_policy(n_ctx, 512, 16, "f16", offloaded=True)
        assert gpu.flash_attn and gpu.n_ubatch == min(512, n_ctx) and "GPU" in gpu.why
        q8 = context_policy(n_ctx, 512, 16, "q8_0", offloaded=False, requested_flash=False)
        assert q8.flash_attn and "q8_0" in q8.why  # a quantized V cache cannot do without it
        assert context_policy(n_ctx, 512, 16, "f16", offloaded=False, requested_flash=True).flash_attn
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=True, requested_flash=False).flash_attn


def test_chat_contexts_repack_the_weights_and_document_contexts_do_not_on_avx512() -> None:
    for n_ctx in _sizes():
        chat = n_ctx < LONG_CONTEXT
        policy = context_policy(n_ctx, 512, 16, "f16", offloaded=False, avx512=True)
        assert policy.repack is chat, n_ctx
        assert ("decode first" if chat else "prefill first") in policy.why
        # Without AVX512 kernels the plain layout reads no faster: repacked everywhere.
        assert context_policy(n_ctx, 512, 16, "f16", offloaded=False, avx512=False).repack
        guarded = context_policy(n_ctx, 512, 16, "f16", offloaded=False, repack_allowed=False)
        assert not guarded.repack and "AMX guard" in guarded.why  # never where AMX repacking could crash
        assert context_policy(n_ctx, 512, 16, "f16", offloaded=True).repack  # the GPU reads; keep the layout
        assert not context_policy(n_ctx, 512, 16, "f16", offloaded=True, repack_allowed=False).repack


def test_a_real_context_runs_with_what_the_policy_chose(tiny_gguf: Path) -> None:
    for n_ctx, flash in ((256, None), (2048, None), (512, True), (LONG_CONTEXT, None)):
        backend = LlamaCppBackend(tiny_gguf, n_ctx=n_ctx, n_batch=512, kv_type="f32", flash_attn=flash)
        try:
            expected = context_policy(n_ctx, 512, backend.info.n_heads, "f32", offloaded=backend.offloaded,
                                      requested_flash=flash, repack_allowed=repacking_allowed(),
                                      avx512=build_has_avx512(), reader_memory_ok=backend.policy.reader)
            assert backend.policy == expected
            assert backend.has_prompt_reader is expected.reader  # free memory: tests/test_prompt_reader.py
            assert backend._llm.model_params.use_extra_bufts is expected.repack
            params = backend._llm.context_params
            assert params.flash_attn_type == (_LLAMA_FLASH_ENABLED if expected.flash_attn else _LLAMA_FLASH_DISABLED)
            assert params.n_ubatch == expected.n_ubatch
        finally:
            backend.unload()
