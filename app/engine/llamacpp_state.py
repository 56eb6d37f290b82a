"""llama.cpp's per-sequence state copy, converted between its two V-cache layouts.

A context with flash attention stores V as K is stored (one row per cell); one without it stores
V transposed (one row per embedding dimension, its cells side by side), and llama.cpp refuses to
load one layout's state into the other ("incompatible V transposition"). The prompt reader
(flash attention on, llamacpp_policy.reader_flash_attention) and the decoder (off) hand their
cache over through this conversion, in place, in the copy buffer.

The format (llama-kv-cache.cpp, state_write / state_write_meta / state_write_data of the pinned
llama.cpp), all little-endian:

    u32 magic 0xaf143cd8, i32 seq_id (llama-context.cpp, state_seq_get_data)
    u32 n_stream; per stream: u32 cell_count, then when cell_count > 0
      meta: per cell i32 pos, u32 n_seq_id, n_seq_id x i32 seq_id
      data: u32 v_trans, u32 n_layer
        K, per layer: i32 type, u64 row_size, cell_count rows
        V untransposed, per layer: i32 type, u64 row_size, cell_count rows
        V transposed, per layer:   i32 type, u32 element_size, u32 n_embd, n_embd rows of cell_count

Both V headers are 12 bytes, so the conversion moves no offsets: it rewrites each V header and
transposes each layer's block through a scratch the size of one block. The buffer is read as
untrusted: every size is checked against the bytes written, and anything not in this format
(several streams, cells in several sequences, cell extensions, a quantized V) raises
StateFormatError before a byte is changed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

# ggml types whose rows are plain arrays of elements, so a transposition is a reshape: F32, F16, BF16
_ELEMENT_SIZE = {0: 4, 1: 2, 30: 2}
_MAGIC = 0xAF143CD8
_TILE, _SPAN = 32, 1024  # a tile of the transposition, rows by columns (the fastest of eight tried)


class StateFormatError(ValueError):
    """The state is not in the format this module converts (a changed llama.cpp, or damage)."""


@dataclass(frozen=True)
class _Block:
    header: int  # offset of the layer's V header
    data: int  # offset of its block
    type: int
    n_embd: int


def _u32(buf: Any, off: int, end: int) -> int:
    if off + 4 > end:
        raise StateFormatError(f"the state ends at byte {end}, inside a header at {off}")
    return int(struct.unpack_from("<I", buf, off)[0])


def _parse(buf: Any, size: int, transposed: bool) -> tuple[int, list[_Block], int]:
    """The v_trans word's offset, the V blocks, and the cell count of a one-stream state."""
    import numpy as np

    if _u32(buf, 0, size) != _MAGIC:
        raise StateFormatError("the state does not start with llama.cpp's sequence-state magic")
    if _u32(buf, 8, size) != 1:
        raise StateFormatError("the state has more than one stream")
    cells = _u32(buf, 12, size)
    off = 16
    if cells == 0:
        if size != off:
            raise StateFormatError("an empty state has bytes after its header")
        return -1, [], 0
    meta_end = off + 12 * cells
    if meta_end > size:
        raise StateFormatError("the state ends inside its cell list")
    meta = np.frombuffer(buf, dtype="<i4", count=3 * cells, offset=off).reshape(cells, 3)
    if not (meta[:, 1] == 1).all():  # one sequence per cell (and no cell extension)
        raise StateFormatError("a cell of the state is in several sequences")
    off = meta_end
    trans_at = off
    v_trans = _u32(buf, off, size)
    n_layer = _u32(buf, off + 4, size)
    if v_trans != int(transposed):
        raise StateFormatError(f"the state's V layout is {'transposed' if v_trans else 'row by row'}, not the other")
    off += 8
    for _ in range(n_layer):  # K: kept as it is
        if off + 12 > size:
            raise StateFormatError("the state ends inside a K header")
        _, row = struct.unpack_from("<iQ", buf, off)
        off += 12 + cells * int(row)
    blocks: list[_Block] = []
    for _ in range(n_layer):
        if off + 12 > size:
            raise StateFormatError("the state ends inside a V header")
        if transposed:
            vtype, el, n_embd = struct.unpack_from("<iII", buf, off)
            if _ELEMENT_SIZE.get(vtype) != el:
                raise StateFormatError(f"V type {vtype} with {el}-byte elements cannot be converted")
        else:
            vtype, row = struct.unpack_from("<iQ", buf, off)
            el = _ELEMENT_SIZE.get(vtype, 0)
            if not el or row % el:
                raise StateFormatError(f"V type {vtype} with {row}-byte rows cannot be converted")
            n_embd = row // el
        blocks.append(_Block(off, off + 12, int(vtype), int(n_embd)))
        off += 12 + cells * int(n_embd) * el
    if off != size:
        raise StateFormatError(f"the state is {size} bytes, its headers describe {off}")
    return trans_at, blocks, cells


def convert_v_layout(buf: Any, size: int, *, transposed: bool) -> None:
    """Convert the state in the first `size` bytes of the writable buffer `buf` in place: from
    row-by-row V (flash attention) to transposed V when `transposed` is False, and back when it
    is True. An empty state stays as it is."""
    import numpy as np

    if size > len(buf):
        raise StateFormatError(f"the state is {size} bytes, its buffer {len(buf)}")
    trans_at, blocks, cells = _parse(buf, size, transposed)
    if trans_at >= 0:  # an empty state has no layout word
        struct.pack_into("<I", buf, trans_at, int(not transposed))
    scratch: Any = None
    for b in blocks:
        el = _ELEMENT_SIZE[b.type]
        if transposed:
            struct.pack_into("<iQ", buf, b.header, b.type, b.n_embd * el)
        else:
            struct.pack_into("<iII", buf, b.header, b.type, el, b.n_embd)
        dtype = np.dtype(f"<u{el}")
        block = np.frombuffer(buf, dtype=dtype, count=cells * b.n_embd, offset=b.data)
        if scratch is None or scratch.dtype != dtype or scratch.size != block.size:
            scratch = np.empty(block.size, dtype=dtype)
        # rows x cols of the source: (cells, n_embd) row by row, (n_embd, cells) transposed
        rows, cols = (b.n_embd, cells) if transposed else (cells, b.n_embd)
        src = block.reshape(rows, cols)
        dst = scratch.reshape(cols, rows)
        for i in range(0, rows, _TILE):  # tiles of _TILE x _SPAN: one and its transpose stay in the L2 cache
            for j in range(0, cols, _SPAN):
                dst[j:j + _SPAN, i:i + _TILE] = src[i:i + _TILE, j:j + _SPAN].T
        block[:] = scratch
