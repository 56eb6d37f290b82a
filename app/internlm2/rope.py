"""Dynamic-NTK RoPE arithmetic: the rope base InternLM2 uses past its trained context."""

from __future__ import annotations

from app.internlm2.config import InternLM2Config

# GGUF keys the app's exporter adds (llama.cpp ignores unknown keys): InternLM2's dynamic-NTK
# scaling, which llama.cpp's own converter drops, so the engine can set the base at run time.
GGUF_ROPE_SCALING_KEY = "internlm2_desktop.rope_scaling.type"
GGUF_ROPE_FACTOR_KEY = "internlm2_desktop.rope_scaling.factor"


def ntk_rope_base(theta: float, head_dim: int, factor: float, trained_ctx: int, length: int) -> float:
    """The dynamic-NTK base for a sequence of `length` tokens.

    Below or at the trained context the base is unchanged. Past it (transformers' and
    LMDeploy's formula): theta * ((factor * L / trained) - (factor - 1)) ** (d / (d - 2)).
    """
    if length <= trained_ctx or factor <= 1.0:
        return float(theta)
    scale = (factor * length / trained_ctx) - (factor - 1.0)
    return float(theta * scale ** (head_dim / (head_dim - 2)))


def rope_base_for_context(cfg: InternLM2Config, n_ctx: int) -> float:
    """The rope base a llama.cpp context of n_ctx tokens must use to match dynamic NTK.

    A GGUF carries only the unscaled base; llama.cpp ignores dynamic scaling, so the app sets
    the context's rope_freq_base itself for the length the context will hold.
    """
    if cfg.rope_scaling_type != "dynamic" or not cfg.rope_scaling_factor:
        return float(cfg.rope_theta)
    return ntk_rope_base(cfg.rope_theta, cfg.head_dim, cfg.rope_scaling_factor,
                         cfg.max_position_embeddings, n_ctx)
