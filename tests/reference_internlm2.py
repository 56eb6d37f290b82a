"""An independent InternLM2 forward pass written from the equations, for parity tests."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from app.internlm2.checkpoint import open_checkpoint


def _rms(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def reference_logits(folder: Path, ids: list[int], base: float | None = None,
                     last_only: bool = False) -> torch.Tensor:
    """Logits [T, vocab] (or [vocab] of the last position) of InternLM2 on `ids` in float64."""
    with open_checkpoint(folder) as ck:
        out = torch.from_numpy(ck.reader.float32("output.weight")).double()
    hidden = reference_hidden(folder, ids, base)
    return hidden[-1] @ out.T if last_only else hidden @ out.T


def reference_hidden(folder: Path, ids: list[int], base: float | None = None) -> torch.Tensor:
    """Final normed hidden states [T, hidden] in float64, straight from the checkpoint tensors.

    Grouped wqkv split per KV head, RMSNorm, rotate-half RoPE (with `base`, or by default the
    official one: dynamic NTK past the trained length, for the whole sequence), grouped-query
    causal attention, SwiGLU.
    """
    with open_checkpoint(folder) as ck:
        cfg = ck.config

        def t(name: str) -> torch.Tensor:
            return torch.from_numpy(ck.reader.float32(name)).double()

        n, d, g = len(ids), cfg.head_dim, cfg.queries_per_kv
        if base is None:
            base = cfg.rope_theta
            if cfg.rope_scaling_type == "dynamic" and cfg.rope_scaling_factor and n > cfg.max_position_embeddings:
                f = cfg.rope_scaling_factor
                base = base * ((f * n / cfg.max_position_embeddings) - (f - 1)) ** (d / (d - 2))
        inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]
        cos, sin = torch.cat((ang, ang), -1).cos(), torch.cat((ang, ang), -1).sin()
        mask = torch.full((n, n), float("-inf"), dtype=torch.float64).triu(1)

        x = t("model.tok_embeddings.weight")[torch.tensor(ids)]
        for i in range(cfg.num_hidden_layers):
            p = f"model.layers.{i}."
            h = _rms(x, t(p + "attention_norm.weight"), cfg.rms_norm_eps)
            qkv = (h @ t(p + "attention.wqkv.weight").T).view(n, cfg.num_key_value_heads, g + 2, d)
            q = qkv[:, :, :g].reshape(n, cfg.num_attention_heads, d).transpose(0, 1)
            k = qkv[:, :, g].transpose(0, 1)
            v = qkv[:, :, g + 1].transpose(0, 1)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            heads = []
            for head in range(cfg.num_attention_heads):
                kv = head // g
                scores = q[head] @ k[kv].T / math.sqrt(d) + mask
                heads.append(torch.softmax(scores, -1) @ v[kv])
            x = x + torch.cat(heads, -1) @ t(p + "attention.wo.weight").T
            h = _rms(x, t(p + "ffn_norm.weight"), cfg.rms_norm_eps)
            gate = torch.nn.functional.silu(h @ t(p + "feed_forward.w1.weight").T)
            x = x + (gate * (h @ t(p + "feed_forward.w3.weight").T)) @ t(p + "feed_forward.w2.weight").T
        return _rms(x, t("model.norm.weight"), cfg.rms_norm_eps)
