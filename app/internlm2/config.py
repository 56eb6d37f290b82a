"""The InternLM2 configuration read from a checkpoint's config.json and generation_config.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.internlm2.errors import CheckpointError
from app.sentences import say

_ARCHITECTURE = "InternLM2ForCausalLM"
_MODEL_TYPE = "internlm2"


@dataclass(frozen=True)
class InternLM2Config:
    """The hyper-parameters the code needs, with the checkpoint's own values (never assumed)."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    intermediate_size: int
    vocab_size: int
    max_position_embeddings: int
    rope_theta: float
    rms_norm_eps: float
    rope_scaling_type: str | None = None
    rope_scaling_factor: float | None = None
    bos_token_id: int = 1
    eos_token_id: int = 2
    pad_token_id: int | None = 2
    tie_word_embeddings: bool = False
    torch_dtype: str = "bfloat16"
    generation_eos_ids: tuple[int, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def queries_per_kv(self) -> int:
        return self.num_attention_heads // self.num_key_value_heads

    @property
    def kv_bytes_per_token_f16(self) -> int:
        """KV-cache bytes per token in fp16: layers x KV heads x head_dim x (K and V) x 2 bytes."""
        return self.num_hidden_layers * self.num_key_value_heads * self.head_dim * 2 * 2


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CheckpointError(
            say("{name} is missing from {folder}.", name=path.name, folder=path.parent),
            say("Download the model again or pick the folder that holds config.json."),
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(say("{name} in {folder} cannot be read.", name=path.name, folder=path.parent),
                              say("Download the model again."), str(exc)) from exc
    if not isinstance(data, dict):
        raise CheckpointError(say("{name} in {folder} is not a JSON object.", name=path.name, folder=path.parent),
                              say("Download the model again."))
    return data


def _require_int(raw: dict[str, Any], key: str) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise CheckpointError(say("config.json has no valid '{key}'.", key=key),
                              say("Pick an official InternLM2 checkpoint."), f"found {value!r}")
    return value


def parse_config(raw: dict[str, Any], generation: dict[str, Any] | None = None) -> InternLM2Config:
    """Validate an InternLM2 config.json dictionary and turn it into an InternLM2Config."""
    archs = raw.get("architectures") or []
    if raw.get("model_type") != _MODEL_TYPE and _ARCHITECTURE not in archs:
        found = ", ".join(archs) if archs else raw.get("model_type", "unknown")
        raise CheckpointError(
            say("This is not an InternLM2 checkpoint (architecture: {found}).", found=found),
            say("Pick a folder with an InternLM2-1.8B model."),
        )
    if raw.get("bias", False):
        raise CheckpointError(
            say("This InternLM2 checkpoint uses bias=true, which the InternLM2-1.8B models never do."),
            say("Pick an official InternLM2-1.8B checkpoint."),
        )
    heads = _require_int(raw, "num_attention_heads")
    kv_heads = raw.get("num_key_value_heads", heads)
    hidden = _require_int(raw, "hidden_size")
    if not isinstance(kv_heads, int) or kv_heads <= 0 or heads % kv_heads or hidden % heads:
        raise CheckpointError(
            say("config.json has inconsistent attention heads."), say("Pick an official InternLM2 checkpoint."),
            f"{heads} attention heads, {kv_heads} KV heads, hidden size {hidden}",
        )
    scaling = raw.get("rope_scaling") or {}
    if not isinstance(scaling, dict):
        raise CheckpointError(say("config.json has an unreadable rope_scaling."),
                              say("Pick an official InternLM2 checkpoint."), repr(scaling))
    scaling_type = scaling.get("type") or scaling.get("rope_type")
    factor = scaling.get("factor")
    eos_ids: tuple[int, ...] = ()
    if generation:
        eos = generation.get("eos_token_id")
        if isinstance(eos, int):
            eos_ids = (eos,)
        elif isinstance(eos, list):
            eos_ids = tuple(int(x) for x in eos)
    return InternLM2Config(
        hidden_size=hidden,
        num_hidden_layers=_require_int(raw, "num_hidden_layers"),
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        intermediate_size=_require_int(raw, "intermediate_size"),
        vocab_size=_require_int(raw, "vocab_size"),
        max_position_embeddings=_require_int(raw, "max_position_embeddings"),
        rope_theta=float(raw.get("rope_theta", 10000.0)),
        rms_norm_eps=float(raw.get("rms_norm_eps", 1e-6)),
        rope_scaling_type=str(scaling_type) if scaling_type else None,
        rope_scaling_factor=float(factor) if factor is not None else None,
        bos_token_id=int(raw.get("bos_token_id", 1)),
        eos_token_id=int(raw.get("eos_token_id", 2)),
        pad_token_id=raw.get("pad_token_id"),
        tie_word_embeddings=bool(raw.get("tie_word_embeddings", False)),
        torch_dtype=str(raw.get("torch_dtype", "bfloat16")),
        generation_eos_ids=eos_ids,
        raw=raw,
    )


def load_config(folder: Path) -> InternLM2Config:
    """Read config.json (and generation_config.json when present) from a checkpoint folder."""
    raw = _read_json(folder / "config.json")
    gen_path = folder / "generation_config.json"
    generation = _read_json(gen_path) if gen_path.exists() else None
    return parse_config(raw, generation)
