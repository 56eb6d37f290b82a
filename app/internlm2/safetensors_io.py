"""A lazy safetensors reader: one tensor at a time with plain file reads, bf16 included, no torch."""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.internlm2.errors import CheckpointError
from app.sentences import say

# safetensors dtype -> (numpy storage dtype, bytes per element). BF16 is stored as uint16.
_DTYPES: dict[str, tuple[Any, int]] = {
    "F32": (np.float32, 4),
    "F16": (np.float16, 2),
    "BF16": (np.uint16, 2),
    "F64": (np.float64, 8),
    "I64": (np.int64, 8),
    "I32": (np.int32, 4),
    "I16": (np.int16, 2),
    "I8": (np.int8, 1),
    "U8": (np.uint8, 1),
    "BOOL": (np.bool_, 1),
}
_MAX_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorInfo:
    """Where a tensor lives: its file, dtype, shape and byte range inside the file."""

    name: str
    path: Path
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.start


def read_header(path: Path) -> dict[str, TensorInfo]:
    """Parse a safetensors header and check that every tensor lies inside the file."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise CheckpointError(say("{name} is truncated (only {size} bytes).", name=path.name, size=size),
                                      say("Download the model again."))
            (length,) = struct.unpack("<Q", head)
            if length > _MAX_HEADER or 8 + length > size:
                raise CheckpointError(say("{name} is not a valid safetensors file or is truncated.", name=path.name),
                                      say("Download the model again."))
            header = json.loads(fh.read(length))
    except OSError as exc:
        raise CheckpointError(say("{name} cannot be read.", name=path.name),
                              say("Check that the file is still there and readable."), str(exc)) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(say("{name} has a damaged header.", name=path.name), say("Download the model again."),
                              str(exc)) from exc
    base = 8 + length
    infos: dict[str, TensorInfo] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = meta.get("dtype")
        if dtype not in _DTYPES:
            raise CheckpointError(say("Tensor {tensor} in {name} has an unsupported data type {dtype}.",
                                      tensor=name, name=path.name, dtype=dtype),
                                  say("Pick an official InternLM2 checkpoint."))
        begin, end = meta["data_offsets"]
        shape = tuple(int(x) for x in meta["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * _DTYPES[dtype][1]:
            raise CheckpointError(say("Tensor {tensor} in {name} has a size that does not match its shape.",
                                      tensor=name, name=path.name),
                                  say("The file is damaged; download the model again."))
        if base + end > size:
            raise CheckpointError(
                say("{name} is truncated: tensor {tensor} ends past the end of the file.", name=path.name, tensor=name),
                say("The download was probably cut; download the model again."),
            )
        infos[name] = TensorInfo(name, path, dtype, shape, base + begin, base + end)
    return infos


class SafetensorsReader:
    """Reads tensors lazily, one at a time, from one or more safetensors files.

    Reads go through plain file reads into fresh arrays (no memory map): the page cache is not
    counted in the process's resident memory, so converting or loading a 3.8 GB checkpoint holds
    only the tensors in hand. BF16 arrives as uint16 bit patterns.
    """

    def __init__(self, tensors: dict[str, TensorInfo]) -> None:
        self.tensors = tensors
        self._files: dict[Path, int] = {}

    def _fd(self, path: Path) -> int:
        fd = self._files.get(path)
        if fd is None:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            self._files[path] = fd
        return fd

    def info(self, name: str) -> TensorInfo:
        return self.tensors[name]

    def read_into(self, name: str, out: np.ndarray, rows: tuple[int, int] | None = None) -> None:
        """Fill `out` (C-contiguous, the stored dtype) with the tensor, or rows [a, b) of it."""
        info = self.tensors[name]
        start, end = info.start, info.end
        if rows is not None:
            row_bytes = info.nbytes // info.shape[0]
            start, end = info.start + rows[0] * row_bytes, info.start + rows[1] * row_bytes
        view = out.reshape(-1).view(np.uint8).data
        if len(view) != end - start:
            raise ValueError(f"buffer of {len(view)} bytes for {end - start} bytes of {name}")
        fd, done = self._fd(info.path), 0
        while done < len(view):
            got = os.preadv(fd, [view[done:]], start + done) if hasattr(os, "preadv") else \
                self._pread_fallback(fd, view[done:], start + done)
            if got <= 0:
                raise CheckpointError(say("{name} ended early while reading {tensor}.", name=info.path.name, tensor=name),
                                      say("The file is truncated; download the model again."))
            done += got

    @staticmethod
    def _pread_fallback(fd: int, view: memoryview, offset: int) -> int:
        data = os.pread(fd, len(view), offset) if hasattr(os, "pread") else b""
        if not data:
            os.lseek(fd, offset, os.SEEK_SET)
            data = os.read(fd, len(view))
        view[: len(data)] = data
        return len(data)

    def raw(self, name: str, rows: tuple[int, int] | None = None) -> np.ndarray:
        """The tensor's stored values (BF16 as uint16), or rows [a, b) of it, as a new array."""
        info = self.tensors[name]
        shape = info.shape if rows is None else (rows[1] - rows[0], *info.shape[1:])
        out = np.empty(shape, dtype=_DTYPES[info.dtype][0])
        self.read_into(name, out, rows)
        return out

    def float32(self, name: str, rows: tuple[int, int] | None = None) -> np.ndarray:
        """The tensor (or rows [a, b) of it) converted to float32."""
        arr = self.raw(name, rows)
        if self.tensors[name].dtype == "BF16":
            return bf16_bits_to_f32(arr)
        return arr.astype(np.float32, copy=False)

    def close(self) -> None:
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()

    def __enter__(self) -> SafetensorsReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bf16_bits_to_f32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) -> float32 values, exactly."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bits(values: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns with round-to-nearest-even (NaN kept as NaN)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(values)
    if nan.any():
        rounded[nan] = 0x7FC0
    return rounded


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], dtype: str = "F32",
                      metadata: dict[str, str] | None = None) -> None:
    """Write float arrays as a safetensors file (F32, F16 or BF16): used by tests and benchmarks."""
    header: dict[str, Any] = {"__metadata__": metadata or {"format": "pt"}}
    offset = 0
    for name, arr in tensors.items():
        nbytes = arr.size * _DTYPES[dtype][1]
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(blob)))
        fh.write(blob)
        for arr in tensors.values():
            if dtype == "BF16":
                data = f32_to_bf16_bits(np.asarray(arr, dtype=np.float32))
            else:
                data = np.ascontiguousarray(arr, dtype=_DTYPES[dtype][0])
            fh.write(data.tobytes())
