"""What the app needs to know about a GGUF file before loading it (read from its header)."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from app.engine.types import ModelLoadError
from app.internlm2.rope import GGUF_ROPE_FACTOR_KEY, GGUF_ROPE_SCALING_KEY
from app.sentences import say


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


# GGUF value types (gguf.GGUFValueType) and the struct format of the fixed-size ones.
_FIXED = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_MAX_KV = 1 << 20


class _Header:
    """A GGUF header read key by key from a buffered file: arrays are skipped unless asked for.

    The gguf package's GGUFReader builds Python objects for every element of every array, and
    a real InternLM2 vocabulary (92,544 tokens, scores and types) took it seconds; the app only
    needs a dozen scalars. Every length is checked against the file's size (hostile files)."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self._fh = fh
        self._size = size

    def _read(self, n: int) -> bytes:
        data = self._fh.read(n)
        if len(data) != n:
            raise ValueError("the file ends inside its header")
        return data

    def _unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self._read(struct.calcsize(fmt)))[0]

    def _length(self) -> int:
        n = int(self._unpack("<Q"))
        if n > self._size:
            raise ValueError(f"a length of {n} is larger than the file")
        return n

    def string(self) -> str:
        return self._read(self._length()).decode("utf-8", errors="replace")

    def value(self, kind: int, keep: bool) -> Any:
        if kind in _FIXED:
            return self._unpack(_FIXED[kind])
        if kind == _STRING:
            if keep:
                return self.string()
            self._fh.seek(self._length(), 1)
            return None
        if kind == _ARRAY:
            elem, count = int(self._unpack("<I")), self._length()
            if elem in _FIXED and not keep:
                self._fh.seek(count * struct.calcsize(_FIXED[elem]), 1)
                return None
            items = [self.value(elem, keep) for _ in range(count)]
            return items if keep else None
        raise ValueError(f"unknown value type {kind}")


def read_gguf_metadata(path: Path, keys: set[str] | None = None) -> dict[str, Any]:
    """The key/value metadata of a GGUF file: scalars and strings, plus the arrays named in
    `keys` (None: no arrays). Raises ValueError (or OSError) on anything but a GGUF v2/v3."""
    size = Path(path).stat().st_size
    with open(path, "rb") as raw:
        fh = io.BufferedReader(raw, 1 << 16)
        head = _Header(fh, size)
        if head._read(4) != b"GGUF":
            raise ValueError("it does not start with GGUF")
        version = int(head._unpack("<I"))
        if version not in (2, 3):
            raise ValueError(f"GGUF version {version} is not supported")
        head._unpack("<Q")  # tensor count
        n_kv = int(head._unpack("<Q"))
        if n_kv > _MAX_KV:
            raise ValueError(f"{n_kv} metadata keys")
        out: dict[str, Any] = {}
        for _ in range(n_kv):
            key = head.string()
            kind = int(head._unpack("<I"))
            value = head.value(kind, keep=kind != _ARRAY or (keys is not None and key in keys))
            if value is not None:
                out[key] = value
        return out


def read_gguf_info(path: Path) -> GGUFInfo:
    """Read the header of a GGUF; a non-GGUF or damaged file raises ModelLoadError."""
    try:
        fields = read_gguf_metadata(path)
    except (OSError, ValueError, struct.error) as exc:
        raise ModelLoadError(say("{name} is not a readable GGUF file: it is damaged or incomplete.", name=path.name),
                             say("Convert the model again or pick another file."), str(exc)) from exc
    arch = str(fields.get("general.architecture") or "unknown")

    def get(key: str, default: Any = None) -> Any:
        val = fields.get(f"{arch}.{key}")
        return default if val is None else val

    try:
        heads = int(get("attention.head_count", 1))
        embd = int(get("embedding_length", 0))
        template = fields.get("tokenizer.chat_template")
        info = GGUFInfo(
            arch=arch, context_length=int(get("context_length", 4096)),
            rope_base=float(get("rope.freq_base", 10000.0)), head_dim=embd // heads if heads else 0,
            n_layers=int(get("block_count", 0)), n_kv_heads=int(get("attention.head_count_kv", heads)),
            rope_scaling=fields.get(GGUF_ROPE_SCALING_KEY),
            rope_factor=fields.get(GGUF_ROPE_FACTOR_KEY),
            is_chat=bool(template) or fields.get("tokenizer.ggml.eot_token_id") is not None,
            file_type=fields.get("general.file_type"),
            n_heads=heads,
        )
    except (TypeError, ValueError, ZeroDivisionError) as exc:  # a value of the wrong type
        raise ModelLoadError(say("{name} is not a readable GGUF file: it is damaged or incomplete.", name=path.name),
                             say("Convert the model again or pick another file."), str(exc)) from exc
    return info
