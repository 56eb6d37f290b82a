"""llamacpp_state.convert_v_layout: llama.cpp's per-sequence state between its two V layouts.

Generated states in the pinned llama.cpp's format check that every value lands where the other
layout keeps it; damaged ones (cut at every header, sizes that lie, cells in several sequences,
a quantized V) must be refused before a byte changes; a real state from llama.cpp must come
back byte for byte after converting there and back, and llama.cpp itself must accept the
converted state in a context of the other layout and compute what the source context computes.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.engine.llamacpp_state import StateFormatError, _parse, convert_v_layout


def _state(cells: int, layers: int, n_k: int, n_v: int, transposed: bool, seed: int = 0,
           vtype: int = 1, el: int = 2) -> tuple[bytearray, list[np.ndarray]]:
    """A one-stream state of `cells` cells in sequence 0, and each layer's V as (cells, n_v)."""
    rng = np.random.default_rng(seed)
    out = bytearray(struct.pack("<IiII", 0xAF143CD8, 0, 1, cells))
    if cells == 0:
        return out, []
    for pos in range(cells):
        out += struct.pack("<iIi", pos, 1, 0)
    out += struct.pack("<II", int(transposed), layers)
    for _ in range(layers):
        out += struct.pack("<iQ", vtype, n_k * el) + rng.integers(0, 256, cells * n_k * el, dtype=np.uint8).tobytes()
    values = []
    dtype = np.dtype(f"<u{el}")
    for _ in range(layers):
        v = rng.integers(0, np.iinfo(dtype).max, (cells, n_v), dtype=dtype)
        values.append(v)
        if transposed:
            out += struct.pack("<iII", vtype, el, n_v) + np.ascontiguousarray(v.T).tobytes()
        else:
            out += struct.pack("<iQ", vtype, n_v * el) + v.tobytes()
    return out, values


@pytest.mark.parametrize("cells,layers,n_k,n_v", [(1, 1, 4, 4), (7, 3, 8, 6), (130, 2, 64, 1100), (2100, 2, 16, 96)])
def test_every_value_lands_where_the_other_layout_keeps_it(cells: int, layers: int, n_k: int, n_v: int) -> None:
    rows, values = _state(cells, layers, n_k, n_v, transposed=False, seed=cells)
    trans, _ = _state(cells, layers, n_k, n_v, transposed=True, seed=cells)
    buf = bytearray(rows) + b"\xee" * 5  # the buffer is larger than the state: the tail is not touched
    convert_v_layout(buf, len(rows), transposed=False)
    assert bytes(buf[:len(rows)]) == bytes(trans)
    assert bytes(buf[len(rows):]) == b"\xee" * 5
    convert_v_layout(buf, len(rows), transposed=True)
    assert bytes(buf[:len(rows)]) == bytes(rows)
    assert len(values) == layers


def test_f32_values_and_an_empty_state() -> None:
    rows, _ = _state(33, 2, 8, 8, transposed=False, vtype=0, el=4)
    trans, _ = _state(33, 2, 8, 8, transposed=True, vtype=0, el=4)
    convert_v_layout(rows, len(rows), transposed=False)
    assert rows == trans
    empty, _ = _state(0, 2, 8, 8, transposed=False)
    before = bytes(empty)
    convert_v_layout(empty, len(empty), transposed=False)
    assert bytes(empty) == before


def _refused(buf: bytearray, size: int, transposed: bool) -> None:
    before = bytes(buf)
    with pytest.raises(StateFormatError):
        convert_v_layout(buf, size, transposed=transposed)
    assert bytes(buf) == before  # refused before a byte changed


@pytest.mark.parametrize("transposed", [False, True])
def test_a_cut_state_is_refused_at_every_length(transposed: bool) -> None:
    full, _ = _state(5, 2, 4, 4, transposed=transposed)
    for cut in range(len(full)):
        _refused(bytearray(full[:cut]), cut, transposed)
    _refused(bytearray(full) + b"\0" * 8, len(full) + 8, transposed)  # bytes past what the headers say
    _refused(bytearray(full), len(full) + 1, transposed)  # a size past the buffer


def test_damaged_headers_are_refused() -> None:
    rng = random.Random(11)
    base, _ = _state(6, 2, 4, 4, transposed=False)
    meta = 16
    data = meta + 12 * 6
    damaged = {
        "another magic": (0, struct.pack("<I", 0xAF143CD9)),
        "two streams": (8, struct.pack("<I", 2)),
        "more cells than written": (12, struct.pack("<I", 7)),
        "a cell in two sequences": (meta + 4, struct.pack("<I", 2)),
        "the other layout's flag": (data, struct.pack("<I", 1)),
        "more layers": (data + 4, struct.pack("<I", 3)),
        "a huge K row": (data + 12, struct.pack("<Q", 1 << 60)),
    }
    v_header = data + 8 + 2 * (12 + 6 * 8)
    damaged["a quantized V"] = (v_header, struct.pack("<i", 8))  # q8_0: blocks, not elements
    damaged["an odd V row"] = (v_header + 4, struct.pack("<Q", 7))
    for why, (at, raw) in damaged.items():
        buf = bytearray(base)
        buf[at:at + len(raw)] = raw
        with pytest.raises(StateFormatError):
            convert_v_layout(buf, len(buf), transposed=False)
        assert bytes(buf[:at]) + bytes(buf[at + len(raw):]) == bytes(base[:at]) + bytes(base[at + len(raw):]), why
    for _ in range(300):  # random bytes in the headers: refused or converted, never another error
        buf = bytearray(base)
        at = rng.randrange(0, data + 24)
        buf[at] = rng.randrange(256)
        try:
            convert_v_layout(buf, len(buf), transposed=False)
        except StateFormatError:
            assert bytes(buf) == bytes(base[:at]) + bytes([buf[at]]) + bytes(base[at + 1:])


# -- a real state from llama.cpp ---------------------------------------------------------------
@pytest.fixture(scope="module")
def f16_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from app.internlm2.gguf_export import export_gguf
    from tests.tiny_model import TinySpec, build_tiny_checkpoint

    root = tmp_path_factory.mktemp("state")
    spec = TinySpec(hidden=128, intermediate=256, heads=4, kv_heads=2, tokenizer="synthetic", dtype="F32",
                    seed=21, max_positions=1024)
    return export_gguf(build_tiny_checkpoint(root / "ckpt", spec), root / "tiny-f16.gguf", "f16")


def test_llama_cpp_takes_a_converted_state_in_the_other_layout(f16_gguf: Path) -> None:
    """llama.cpp loads the converted state into a context of the other layout and writes back
    the very same bytes (so it holds each value where the source held it); converted back they
    are the source's bytes. The next step then computes what the source computes, to the two
    attention kernels' rounding, where V flagged but not transposed is off by far more."""
    import ctypes

    from app.engine.llamacpp_runtime import import_llama_cpp

    llama_cpp = import_llama_cpp()

    def ctx(flash: bool) -> Any:
        return llama_cpp.Llama(model_path=str(f16_gguf), n_ctx=512, n_batch=128, n_ubatch=128, n_threads=1,
                               n_threads_batch=1, flash_attn=flash, n_gpu_layers=0, verbose=False)

    def logits(llm: Any) -> np.ndarray:
        ptr = llm._ctx.get_logits_ith(-1)
        return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).copy()

    def state(llm: Any) -> Any:
        size = int(llama_cpp.llama_state_seq_get_size(llm._ctx.ctx, 0))
        buf = (ctypes.c_uint8 * size)()
        assert int(llama_cpp.llama_state_seq_get_data(llm._ctx.ctx, buf, size, 0)) == size
        return buf

    def load(llm: Any, buf: Any, n_tokens: int) -> int:
        llm.n_tokens = n_tokens
        return int(llama_cpp.llama_state_seq_set_data(llm._ctx.ctx, buf, len(buf), 0))

    rng = random.Random(4)
    ids = [rng.randrange(10, 200) for _ in range(300)]
    step = [rng.randrange(10, 200)]
    for src_flash in (True, False):
        src, dst, wrong = ctx(src_flash), ctx(not src_flash), ctx(not src_flash)
        try:
            src.eval(ids)
            buf = state(src)
            original = bytes(buf)
            assert load(dst, buf, len(ids)) == 0  # unconverted: "incompatible V transposition"
            convert_v_layout(memoryview(buf).cast("B"), len(buf), transposed=not src_flash)
            converted = bytes(buf)
            assert converted != original
            assert load(dst, buf, len(ids)) == len(buf)
            back = state(dst)
            assert bytes(back) == converted  # llama.cpp holds every value where we put it
            convert_v_layout(memoryview(back).cast("B"), len(back), transposed=src_flash)
            assert bytes(back) == original  # and there and back is the identity
            src.eval(step)
            dst.eval(step)
            gap = float(np.abs(logits(dst) - logits(src)).max())
            assert gap < 2e-2, gap  # the two attention kernels' rounding (f16 inside flash attention)
            # the headers converted and V left as it was: each value read across the wrong axis
            flagged = bytearray(converted)
            _, blocks, cells = _parse(original, len(original), transposed=not src_flash)
            for b in blocks:
                end = b.data + cells * b.n_embd * 2
                flagged[b.data:end] = original[b.data:end]
            assert flagged != converted
            raw = (ctypes.c_uint8 * len(flagged)).from_buffer(flagged)
            assert load(wrong, raw, len(ids)) == len(flagged)
            wrong.eval(step)
            assert float(np.abs(logits(wrong) - logits(src)).max()) > 10 * gap + 0.05
        finally:
            for llm in (src, dst, wrong):
                llm.close()
