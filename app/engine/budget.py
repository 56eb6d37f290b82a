"""The context budget: how many tokens a conversation needs and how much memory that takes."""

from __future__ import annotations

CONTEXT_STEP = 256  # llama.cpp pads contexts to multiples of 256
MIN_CONTEXT = 2048


def round_context(tokens: int, minimum: int = MIN_CONTEXT) -> int:
    """The context length to allocate for `tokens`: rounded up, never below `minimum`."""
    need = max(tokens, minimum)
    return -(-need // CONTEXT_STEP) * CONTEXT_STEP


def kv_bytes(tokens: int, bytes_per_token_f16: int, kv_type: str = "f16") -> int:
    """KV-cache bytes for `tokens` (q8_0 is 34/64 of f16: 32 values + a scale in 34 bytes)."""
    scale = {"f32": 2.0, "f16": 1.0, "q8_0": 34 / 64}[kv_type]
    return int(tokens * bytes_per_token_f16 * scale)
