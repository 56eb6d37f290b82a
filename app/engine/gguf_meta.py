"""What the app needs to know about a GGUF file before loading it (read from its header)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.engine.types import ModelLoadError
from app.internlm2.rope import GGUF_ROPE_FACTOR_KEY, GGUF_ROPE_SCALING_KEY


@dataclass(frozen=True)
class GGUFInfo:
    """Architecture, context, rope and chat facts of a GGUF file."""

    arch: str
    context_length: int
    rope_base: float
    head_dim: int
    n_layers: int
    n_kv_heads: int
    rope_scaling: str | None
    rope_factor: float | None
    is_chat: bool
    file_type: int | None
    n_heads: int = 1

    @property
    def kv_bytes_per_token_f16(self) -> int:
        return self.n_layers * self.n_kv_heads * self.head_dim * 2 * 2


def _value(field: Any) -> Any:
    import numpy as np

    if field is None:
        return None
    parts = field.parts
    if len(field.types) == 1 and field.types[0].name == "STRING":
        return bytes(parts[field.data[0]]).decode("utf-8", errors="replace")
    if len(field.data) == 1:
        arr = np.asarray(parts[field.data[0]])
        return arr.item() if arr.size == 1 else arr
    return None


def read_gguf_info(path: Path) -> GGUFInfo:
    """Read the header of a GGUF; a non-GGUF or damaged file raises ModelLoadError."""
    try:
        from gguf import GGUFReader

        reader = GGUFReader(str(path), "r")
    except Exception as exc:  # gguf raises ValueError/struct.error/... on bad input
        raise ModelLoadError(f"{path.name} is not a readable GGUF file ({exc}).",
                             "Convert the model again or pick another file.") from exc
    fields = reader.fields
    arch = _value(fields.get("general.architecture")) or "unknown"

    def get(key: str, default: Any = None) -> Any:
        val = _value(fields.get(f"{arch}.{key}"))
        return default if val is None else val

    heads = int(get("attention.head_count", 1))
    embd = int(get("embedding_length", 0))
    template = _value(fields.get("tokenizer.chat_template"))
    return GGUFInfo(
        arch=arch, context_length=int(get("context_length", 4096)),
        rope_base=float(get("rope.freq_base", 10000.0)), head_dim=embd // heads if heads else 0,
        n_layers=int(get("block_count", 0)), n_kv_heads=int(get("attention.head_count_kv", heads)),
        rope_scaling=_value(fields.get(GGUF_ROPE_SCALING_KEY)),
        rope_factor=_value(fields.get(GGUF_ROPE_FACTOR_KEY)),
        is_chat=bool(template) or _value(fields.get("tokenizer.ggml.eot_token_id")) is not None,
        file_type=_value(fields.get("general.file_type")),
        n_heads=heads,
    )
