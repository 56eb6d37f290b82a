"""Export an InternLM2 checkpoint to GGUF (llama.cpp arch `internlm2`), streamed, cancellable.

F32, F16, BF16 and Q8_0 are written here tensor by tensor, large tensors in row chunks, so the
process holds a few tens of MB of weights at a time (the 1.8B model peaks well under 1 GB).
Q4_K_M, Q5_K_M and Q6_K go through llama.cpp's own quantizer (app.internlm2.gguf_quantize) from
a lossless intermediate: BF16 for a bf16 checkpoint (the official ones), F16 or F32 otherwise.
Output goes to a temporary name beside the target and is renamed into place only when complete.

The tensor layout follows llama.cpp's converter for InternLM2ForCausalLM: wqkv rows are grouped
per KV head ([kv_heads, q_per_kv + 2, head_dim, hidden]); q and k get the Llama row permutation
that ggml's interleaved RoPE needs; 1-D tensors (the norms) stay F32.
"""

from __future__ import annotations

import os
import queue
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import gguf
import numpy as np

from app.internlm2.checkpoint import Checkpoint, open_checkpoint
from app.internlm2.config import InternLM2Config
from app.internlm2.errors import ExportCancelled, ExportError
from app.internlm2.gguf_quantize import K_QUANTS, estimate_quantized_bytes, quantize_gguf
from app.internlm2.gguf_vocab import metadata_bytes_estimate, read_vocabulary, write_metadata
from app.internlm2.safetensors_io import SafetensorsReader, bf16_bits_to_f32
from app.sentences import say

ProgressFn = Callable[[str, int, int], None]
"""progress(stage, done, total): stage "convert" or "quantize", done/total in output bytes."""
FreeSpaceFn = Callable[[Path], int]

_Q = gguf.GGMLQuantizationType
_DIRECT: dict[str, tuple[_Q, gguf.LlamaFileType]] = {
    "f32": (_Q.F32, gguf.LlamaFileType.ALL_F32),
    "f16": (_Q.F16, gguf.LlamaFileType.MOSTLY_F16),
    "bf16": (_Q.BF16, gguf.LlamaFileType.MOSTLY_BF16),
    "q8_0": (_Q.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
}
OUT_TYPES: tuple[str, ...] = (*_DIRECT, *K_QUANTS)
DEFAULT_OUT_TYPE = "q4_k_m"
_CHUNK_ELEMENTS = 4 << 20  # rows of at most 4 Mi values (16 MB in float32) per conversion step
_ARCH = gguf.MODEL_ARCH.INTERNLM2


def disk_free(path: Path) -> int:
    """Free bytes on the file system holding `path`."""
    return shutil.disk_usage(path).free


@dataclass(frozen=True)
class _Tensor:
    """One GGUF tensor: its name, logical shape, output type and a reader of stored rows."""

    name: str
    shape: tuple[int, ...]
    qtype: _Q
    stored: str  # the safetensors dtype the rows arrive in
    rows: Callable[[int, int], np.ndarray]

    @property
    def nbytes(self) -> int:
        block, size = gguf.GGML_QUANT_SIZES[self.qtype]
        return int(np.prod(self.shape[:-1], dtype=np.int64)) * (self.shape[-1] // block) * size


def _gguf_name(key: gguf.MODEL_TENSOR, layer: int | None = None) -> str:
    name = gguf.TENSOR_NAMES[key]
    return (name.format(bid=layer) if layer is not None else name) + ".weight"


def permute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """The Llama row permutation that turns rotate-half RoPE rows into ggml's interleaved layout."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


class _QKVSplitter:
    """Splits a layer's grouped wqkv into permuted q, k and plain v, one layer cached at a time."""

    def __init__(self, reader: SafetensorsReader, cfg: InternLM2Config) -> None:
        self._reader, self._cfg = reader, cfg
        self._layer = -1
        self._parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def part(self, layer: int, which: int) -> np.ndarray:
        if layer != self._layer or self._parts is None:
            self._parts = None  # drop the previous layer before reading the next one
            cfg = self._cfg
            wqkv = self._reader.raw(f"model.layers.{layer}.attention.wqkv.weight")
            g, d, cols = cfg.queries_per_kv, cfg.head_dim, wqkv.shape[-1]
            grouped = wqkv.reshape(cfg.num_key_value_heads, g + 2, d, cols)
            q = permute_qk(grouped[:, :g].reshape(-1, cols), cfg.num_attention_heads)
            k = permute_qk(grouped[:, g].reshape(-1, cols), cfg.num_key_value_heads)
            v = grouped[:, g + 1].reshape(-1, cols)
            self._parts = (np.ascontiguousarray(q), np.ascontiguousarray(k), np.ascontiguousarray(v))
            self._layer = layer
        return self._parts[which]


def _matrix_type(target: _Q, cols: int) -> _Q:
    """The type of a 2-D tensor; like llama.cpp, Q8_0 falls back to F16 for odd row sizes."""
    block, _ = gguf.GGML_QUANT_SIZES[target]
    return target if cols % block == 0 else _Q.F16


def _plan(ck: Checkpoint, target: _Q) -> list[_Tensor]:
    """Every output tensor in write order, with the function that reads its stored rows."""
    cfg, reader = ck.config, ck.reader
    split = _QKVSplitter(reader, cfg)
    M = gguf.MODEL_TENSOR

    def direct(gguf_name: str, src: str) -> _Tensor:
        info = reader.info(src)
        qtype = _matrix_type(target, info.shape[-1]) if len(info.shape) == 2 else _Q.F32
        return _Tensor(gguf_name, info.shape, qtype, info.dtype,
                       lambda a, b: reader.raw(src, rows=(a, b)))

    def qkv_part(gguf_name: str, layer: int, which: int) -> _Tensor:
        info = reader.info(f"model.layers.{layer}.attention.wqkv.weight")
        heads = cfg.num_attention_heads if which == 0 else cfg.num_key_value_heads
        shape = (heads * cfg.head_dim, cfg.hidden_size)
        return _Tensor(gguf_name, shape, _matrix_type(target, shape[1]), info.dtype,
                       lambda a, b: split.part(layer, which)[a:b])

    out = [direct(_gguf_name(M.TOKEN_EMBD), "model.tok_embeddings.weight")]
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        out += [
            direct(_gguf_name(M.ATTN_NORM, i), p + "attention_norm.weight"),
            qkv_part(_gguf_name(M.ATTN_Q, i), i, 0),
            qkv_part(_gguf_name(M.ATTN_K, i), i, 1),
            qkv_part(_gguf_name(M.ATTN_V, i), i, 2),
            direct(_gguf_name(M.ATTN_OUT, i), p + "attention.wo.weight"),
            direct(_gguf_name(M.FFN_NORM, i), p + "ffn_norm.weight"),
            direct(_gguf_name(M.FFN_GATE, i), p + "feed_forward.w1.weight"),
            direct(_gguf_name(M.FFN_UP, i), p + "feed_forward.w3.weight"),
            direct(_gguf_name(M.FFN_DOWN, i), p + "feed_forward.w2.weight"),
        ]
    out.append(direct(_gguf_name(M.OUTPUT_NORM), "model.norm.weight"))
    out.append(direct(_gguf_name(M.OUTPUT), "output.weight" if "output.weight" in reader.tensors
                      else "model.tok_embeddings.weight"))
    return out


def bf16_bits_to_f16(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns -> float16, exactly as float32.astype(float16) rounds them.

    Values in float16's normal range (bf16 exponents 113..142) convert exactly by moving the
    exponent and mantissa bits; the rest (zeros, tiny or huge values, inf, NaN) go through
    float32. About three times faster than the float32 round trip for real weights.
    """
    bits = np.asarray(bits, dtype=np.uint16)
    out = bits - np.uint16(112 << 7)  # rebias the exponent; no borrow within the normal range
    out = ((out & np.uint16(0x7FFF)) << np.uint16(3)) | (bits & np.uint16(0x8000))
    other = ((bits & np.uint16(0x7F80)) - np.uint16(113 << 7)) > np.uint16(29 << 7)
    if other.any():
        with np.errstate(over="ignore"):
            out[other] = bf16_bits_to_f32(bits[other]).astype(np.float16).view(np.uint16)
    return out.view(np.float16)


def _encode(raw: np.ndarray, stored: str, qtype: _Q) -> np.ndarray:
    """Stored rows (BF16 as uint16 bits) -> the bytes of `qtype`, converting only when needed."""
    if (stored, qtype) in (("BF16", _Q.BF16), ("F16", _Q.F16), ("F32", _Q.F32)):
        return raw
    if (stored, qtype) == ("BF16", _Q.F16):
        return bf16_bits_to_f16(raw)
    f32 = bf16_bits_to_f32(raw) if stored == "BF16" else raw.astype(np.float32, copy=False)
    if qtype == _Q.F32:
        return f32
    if qtype == _Q.F16:
        with np.errstate(over="ignore"):
            return f32.astype(np.float16)
    return gguf.quants.quantize(f32, qtype)


class _BackgroundWriter:
    """Writes arrays to a file on a second thread, so converting and writing overlap.

    At most `depth` chunks wait in the queue (a few tens of MB). A write error is raised in the
    caller's thread at its next write or at exit; leaving on an exception drops queued chunks.
    """

    def __init__(self, fh: BinaryIO, depth: int = 3) -> None:
        self._fh = fh
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._abort = False
        self._thread = threading.Thread(target=self._run, name="gguf-writer", daemon=True)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None and not self._abort:
                try:
                    item.tofile(self._fh)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def write(self, data: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        if data.size:
            self._queue.put(data)

    def __enter__(self) -> _BackgroundWriter:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._abort = exc_type is not None
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and exc_type is None:
            raise self._error


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise ExportCancelled(say("The conversion was cancelled."))


def _temp_path(dst: Path, tag: str) -> Path:
    """A new empty hidden file beside `dst` (created with the user's umask, unlike mkstemp)."""
    while True:
        path = dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.{tag}.part")
        try:
            path.open("xb").close()
            return path
        except FileExistsError:
            continue


def _write_direct(ck: Checkpoint, path: Path, qtype: _Q, file_type: gguf.LlamaFileType,
                  name: str, progress: ProgressFn | None, cancel: threading.Event | None) -> None:
    """Write the whole GGUF to `path`: metadata and tensor infos first, then data chunk by chunk."""
    vocab = read_vocabulary(ck.folder, ck.config)
    tensors = _plan(ck, qtype)
    writer = gguf.GGUFWriter(path, gguf.MODEL_ARCH_NAMES[_ARCH])
    write_metadata(writer, ck.config, vocab, file_type, name)
    for t in tensors:
        if t.qtype in (_Q.F32, _Q.F16):
            dtype = np.dtype(np.float32 if t.qtype == _Q.F32 else np.float16)
            writer.add_tensor_info(t.name, t.shape, dtype, t.nbytes)
        else:
            byte_shape = gguf.quant_shape_to_byte_shape(t.shape, t.qtype)
            writer.add_tensor_info(t.name, byte_shape, np.dtype(np.uint8), t.nbytes, raw_dtype=t.qtype)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
    finally:
        writer.close()
    align = writer.data_alignment
    total, done = sum(t.nbytes for t in tensors), 0
    with path.open("ab") as fh, _BackgroundWriter(fh) as out:
        out.write(np.zeros(-fh.tell() % align, dtype=np.uint8))
        for t in tensors:
            _check_cancel(cancel)
            n_rows = t.shape[0] if len(t.shape) == 2 else 1
            step = max(1, _CHUNK_ELEMENTS // t.shape[-1]) if len(t.shape) == 2 else 1
            written = 0
            for a in range(0, n_rows, step):
                raw = t.rows(a, min(a + step, n_rows)) if len(t.shape) == 2 else t.rows(0, t.shape[0])
                data = np.ascontiguousarray(_encode(raw, t.stored, t.qtype))
                out.write(data)
                written += data.nbytes
                done += data.nbytes
                if progress is not None:
                    progress("convert", done, total)
                _check_cancel(cancel)
            if written != t.nbytes:  # a bug, never a user error
                raise AssertionError(f"{t.name}: wrote {written} bytes, expected {t.nbytes}")
            out.write(np.zeros(-written % align, dtype=np.uint8))


def _estimate_direct(ck: Checkpoint, qtype: _Q) -> int:
    vocab_bytes = metadata_bytes_estimate(read_vocabulary(ck.folder, ck.config))
    return vocab_bytes + sum(t.nbytes + 64 for t in _plan(ck, qtype))


def _lossless_intermediate(ck: Checkpoint) -> str:
    """The direct type that holds the checkpoint's weights exactly, for llama.cpp to quantize."""
    dtypes = {info.dtype for info in ck.reader.tensors.values()}
    if dtypes <= {"BF16"}:
        return "bf16"
    if dtypes <= {"F16"}:
        return "f16"
    return "f32"


def _check_space(folder: Path, needed: int, free_space: FreeSpaceFn) -> None:
    free = free_space(folder)
    if free < needed:
        raise ExportError(
            say("Not enough disk space in {folder}: the conversion needs {needed} GB, {free} GB are free.",
                folder=folder, needed=f"{needed / 1e9:.2f}", free=f"{free / 1e9:.2f}"),
            say("Free some space or pick another folder for the GGUF file."))


def export_gguf(src: Path | str, dst: Path | str, out_type: str = DEFAULT_OUT_TYPE, *,
                progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                free_space: FreeSpaceFn = disk_free, name: str | None = None,
                threads: int = 0) -> Path:
    """Convert the checkpoint folder `src` to the GGUF file `dst` of type `out_type`.

    `out_type` is one of OUT_TYPES. Raises CheckpointError for a bad source, ExportError for a
    bad type, too little disk space or a failed write or quantization, ExportCancelled when
    `cancel` is set. Nothing is ever left under `dst` unless the file is complete; temporary
    files beside it are removed on every exit. `threads` (0: all cores) feeds llama.cpp's
    quantizer.
    """
    out_type = out_type.lower()
    if out_type not in OUT_TYPES:
        raise ExportError(say("Unknown GGUF type '{type}'.", type=out_type),
                          say("Choose one of: {choices}.", choices=", ".join(OUT_TYPES)))
    dst = Path(dst)
    if dst.is_dir():
        raise ExportError(say("{path} is a folder.", path=dst), say("Give a file name for the GGUF, e.g. model.gguf."))
    with open_checkpoint(src) as ck:
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(say("Cannot create the folder {folder}.", folder=dst.parent),
                              say("Pick another place for the GGUF file."), str(exc.strerror or exc)) from exc
        model_name = name or ck.folder.resolve().name
        direct = out_type if out_type in _DIRECT else _lossless_intermediate(ck)
        qtype, file_type = _DIRECT[direct]
        needed = _estimate_direct(ck, qtype)
        n_params = sum(int(np.prod(t.shape)) for t in ck.reader.tensors.values())
        if out_type in K_QUANTS:
            needed += estimate_quantized_bytes(n_params, out_type)
        _check_space(dst.parent, needed, free_space)
        temps: list[Path] = []
        try:
            first = _temp_path(dst, direct)
            temps.append(first)
            _write_direct(ck, first, qtype, file_type, model_name, progress, cancel)
            final = first
            if out_type in K_QUANTS:
                final = _temp_path(dst, out_type)
                temps.append(final)
                quantize_gguf(first, final, out_type, progress=progress, cancel=cancel,
                              threads=threads, n_params=n_params)
            os.replace(final, dst)
            temps.remove(final)
        except OSError as exc:
            raise ExportError(say("Writing {path} failed.", path=dst),
                              say("Check that the folder is writable and has free space."),
                              str(exc.strerror or exc)) from exc
        finally:
            for tmp in temps:
                tmp.unlink(missing_ok=True)
    return dst
