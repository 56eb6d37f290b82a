"""Dynamic-NTK RoPE: the rope base InternLM2 uses, chosen by the length a conversation needs.

The official model (InternLM2DynamicNTKScalingRotaryEmbedding, transformers' "dynamic" rope)
uses the unscaled base whenever the sequence is within the trained length, and past it
theta * ((factor * L / trained) - (factor - 1)) ** (d / (d - 2)) for a sequence of L tokens.
The app follows the conversation, never the allocated context:

- need <= trained length: exactly the official base, whatever n_ctx is;
- past it: the dynamic-NTK base for the length the conversation needs (prompt + answer
  budget), rounded up to a bucket (the trained length times a power of two, at most n_ctx),
  so that the base changes rarely: keys cached under one base are wrong under another, and a
  change of base means reading the whole conversation again.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.internlm2.config import InternLM2Config

# GGUF keys the app's exporter adds (llama.cpp ignores unknown keys): InternLM2's dynamic-NTK
# scaling, which llama.cpp's own converter drops, so the engine can set the base at run time.
GGUF_ROPE_SCALING_KEY = "internlm2_desktop.rope_scaling.type"
GGUF_ROPE_FACTOR_KEY = "internlm2_desktop.rope_scaling.factor"


def ntk_rope_base(theta: float, head_dim: int, factor: float, trained_ctx: int, length: int) -> float:
    """The official dynamic-NTK base for a sequence of `length` tokens.

    Below or at the trained context the base is unchanged. Past it (transformers' and
    LMDeploy's formula): theta * ((factor * L / trained) - (factor - 1)) ** (d / (d - 2)).
    """
    if length <= trained_ctx or factor <= 1.0:
        return float(theta)
    scale = (factor * length / trained_ctx) - (factor - 1.0)
    return float(theta * scale ** (head_dim / (head_dim - 2)))


@dataclass(frozen=True)
class RopeScaling:
    """A model's rope facts, and the base it needs for a conversation of a given length."""

    theta: float
    head_dim: int
    trained: int
    factor: float | None = None  # dynamic-NTK factor; None: the base never changes

    @classmethod
    def from_config(cls, cfg: InternLM2Config) -> RopeScaling:
        dynamic = cfg.rope_scaling_type == "dynamic" and bool(cfg.rope_scaling_factor)
        return cls(float(cfg.rope_theta), cfg.head_dim, cfg.max_position_embeddings,
                   float(cfg.rope_scaling_factor) if dynamic and cfg.rope_scaling_factor else None)

    @property
    def dynamic(self) -> bool:
        return self.factor is not None and self.factor > 1.0

    def bucket(self, need: int, n_ctx: int) -> int:
        """The length the base is computed for: the trained length while `need` fits it, else
        the trained length times the smallest power of two that holds `need`, at most n_ctx.
        `need` counts at most n_ctx: a conversation cannot outgrow its context (an answer
        budget larger than the room left ends when the context is full)."""
        need = min(need, n_ctx) if n_ctx > 0 else need
        if not self.dynamic or need <= self.trained:
            return self.trained
        length = self.trained
        while length < need:
            length *= 2
        return min(length, n_ctx) if n_ctx > 0 else length

    def base_for(self, need: int, n_ctx: int) -> float:
        """The rope base for a conversation that needs `need` tokens in a context of n_ctx."""
        if not self.dynamic:
            return float(self.theta)
        assert self.factor is not None
        return ntk_rope_base(self.theta, self.head_dim, self.factor, self.trained, self.bucket(need, n_ctx))


def official_rope_base(cfg: InternLM2Config, length: int) -> float:
    """The base the official model uses for a sequence of `length` tokens (no buckets)."""
    if cfg.rope_scaling_type != "dynamic" or not cfg.rope_scaling_factor:
        return float(cfg.rope_theta)
    return ntk_rope_base(cfg.rope_theta, cfg.head_dim, cfg.rope_scaling_factor,
                         cfg.max_position_embeddings, length)
