"""InternLM2 -> transformers LlamaForCausalLM: the config, the tensor mapping, a streamed load.

transformers has no native InternLM2 and the hub's remote code is broken on transformers 5,
so the weights go into the native Llama classes (the mapping InternLM's convert2llama uses):
the grouped wqkv is split into q/k/v, the rest is renamed. No RoPE permutation is needed
(same rotate-half convention). Nothing is loaded from the hub and no remote code runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from app.internlm2.checkpoint import Checkpoint, open_checkpoint
from app.internlm2.config import InternLM2Config

if TYPE_CHECKING:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

_RENAMES = {
    "attention.wo.weight": "self_attn.o_proj.weight",
    "feed_forward.w1.weight": "mlp.gate_proj.weight",
    "feed_forward.w3.weight": "mlp.up_proj.weight",
    "feed_forward.w2.weight": "mlp.down_proj.weight",
    "attention_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
}
_TOP = {
    "model.tok_embeddings.weight": "model.embed_tokens.weight",
    "model.norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}


def llama_config(cfg: InternLM2Config, *, attn_implementation: str = "sdpa") -> LlamaConfig:
    """A transformers LlamaConfig equal to the InternLM2 config (rope scaling read, not assumed)."""
    from transformers import LlamaConfig

    rope: dict[str, Any] = {"rope_type": "default", "rope_theta": cfg.rope_theta}
    if cfg.rope_scaling_type and cfg.rope_scaling_factor:
        rope = {"rope_type": cfg.rope_scaling_type, "factor": cfg.rope_scaling_factor,
                "rope_theta": cfg.rope_theta}
    config = LlamaConfig(
        vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size, num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads, num_key_value_heads=cfg.num_key_value_heads,
        head_dim=cfg.head_dim, max_position_embeddings=cfg.max_position_embeddings,
        rms_norm_eps=cfg.rms_norm_eps, rope_parameters=rope, attention_bias=False, mlp_bias=False,
        tie_word_embeddings=cfg.tie_word_embeddings, bos_token_id=cfg.bos_token_id,
        eos_token_id=cfg.eos_token_id, pad_token_id=cfg.pad_token_id, hidden_act="silu",
    )
    config._attn_implementation = attn_implementation
    return config


def split_wqkv(wqkv: np.ndarray, cfg: InternLM2Config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the grouped wqkv rows into q, k, v (per KV head: its query heads, 1 key, 1 value)."""
    g, d = cfg.queries_per_kv, cfg.head_dim
    grouped = wqkv.reshape(cfg.num_key_value_heads, g + 2, d, wqkv.shape[-1])
    q = grouped[:, :g].reshape(-1, wqkv.shape[-1])
    k = grouped[:, g].reshape(-1, wqkv.shape[-1])
    v = grouped[:, g + 1].reshape(-1, wqkv.shape[-1])
    return q, k, v


def llama_name(name: str) -> str:
    """The Llama name of an InternLM2 tensor (wqkv excluded: it splits in three)."""
    if name in _TOP:
        return _TOP[name]
    prefix, _, rest = name.partition(".layers.")
    layer, _, tail = rest.partition(".")
    return f"{prefix}.layers.{layer}.{_RENAMES[tail]}"


def iter_llama_arrays(ck: Checkpoint) -> Iterator[tuple[str, np.ndarray, str]]:
    """(llama name, stored array, stored dtype) one tensor at a time, in checkpoint order."""
    for name in ck.reader.tensors:
        arr = ck.reader.raw(name)
        dtype = ck.reader.info(name).dtype
        if name.endswith("attention.wqkv.weight"):
            base = name[: -len("attention.wqkv.weight")].replace("model.layers.", "model.layers.", 1)
            q, k, v = split_wqkv(arr, ck.config)
            yield base + "self_attn.q_proj.weight", q, dtype
            yield base + "self_attn.k_proj.weight", k, dtype
            yield base + "self_attn.v_proj.weight", v, dtype
        else:
            yield llama_name(name), arr, dtype
        del arr


def _to_torch(arr: np.ndarray, stored: str) -> torch.Tensor:
    import torch

    if stored == "BF16":
        return torch.from_numpy(np.ascontiguousarray(arr).view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(arr))


def load_llama_model(folder: Path | str | Checkpoint, device: str = "cpu", dtype: Any = None,
                     *, attn_implementation: str = "sdpa",
                     progress: Callable[[int, int], None] | None = None) -> LlamaForCausalLM:
    """Build a LlamaForCausalLM on `device` and fill it tensor by tensor from the checkpoint.

    The model is created without memory (meta device), allocated once in its final dtype, and
    each tensor is read and copied in turn: peak memory is the model plus one tensor.
    """
    import torch
    from transformers import LlamaForCausalLM
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    ck = folder if isinstance(folder, Checkpoint) else open_checkpoint(folder)
    dtype = dtype or torch.float32
    config = llama_config(ck.config, attn_implementation=attn_implementation)
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model = cast(Any, model).to(dtype=dtype).to_empty(device=device)
    params = dict(model.named_parameters())
    total, done = len(params), 0
    try:
        with torch.no_grad():
            for name, arr, stored in iter_llama_arrays(ck):
                target = params.pop(name)
                if tuple(target.shape) != arr.shape:
                    raise ValueError(f"{name}: {arr.shape} does not fit {tuple(target.shape)}")
                target.copy_(_to_torch(arr, stored))
                done += 1
                if progress:
                    progress(done, total)
    finally:
        if not isinstance(folder, Checkpoint):
            ck.close()
    if params:
        raise ValueError(f"tensors not filled: {sorted(params)[:3]}")
    # Buffers (the rotary inverse frequencies) were left uninitialised by to_empty().
    model.model.rotary_emb = LlamaRotaryEmbedding(config=config).to(device)
    model.generation_config.eos_token_id = list(ck.config.generation_eos_ids) or ck.config.eos_token_id
    model.eval()
    return model
