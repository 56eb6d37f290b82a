"""The needle test's heat map as a picture: a PNG (zlib + struct, no imaging library) or an SVG.

Rows are depths (0% at the top), columns are document lengths; a cell is green when the
needle was found and red when not. The PNG has no text (it would need a font): a light
border marks the grid, and the command prints the same table with labels. The SVG carries
the labels itself.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

_FOUND = (46, 160, 67)
_MISSED = (207, 34, 46)
_GRID = (240, 240, 240)
_CELL = 48
_LINE = 2


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(grid: Sequence[Sequence[bool]]) -> bytes:
    """An RGB PNG of the grid (rows x columns of found/not found)."""
    rows, cols = len(grid), max((len(r) for r in grid), default=0)
    width, height = cols * _CELL + _LINE, rows * _CELL + _LINE
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter: none
        r = y // _CELL
        on_line_y = y % _CELL < _LINE or r >= rows
        for x in range(width):
            c = x // _CELL
            if on_line_y or x % _CELL < _LINE or c >= cols:
                raw.extend(_GRID)
            else:
                raw.extend(_FOUND if grid[r][c] else _MISSED)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + _chunk(b"IEND", b""))


def svg_text(grid: Sequence[Sequence[bool]], depths: Sequence[float], lengths: Sequence[int]) -> str:
    """An SVG heat map with the depth and length labels."""
    left, top = 70, 40
    w, h = left + len(lengths) * _CELL + 10, top + len(depths) * _CELL + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
           f'font-size="11">', f'<text x="{left}" y="14">needle found (green) / not found (red)</text>']
    for c, length in enumerate(lengths):
        out.append(f'<text x="{left + c * _CELL + 4}" y="{top - 6}">{length // 1000}K</text>')
    for r, depth in enumerate(depths):
        out.append(f'<text x="4" y="{top + r * _CELL + _CELL // 2 + 4}">depth {depth:g}%</text>')
        for c in range(len(lengths)):
            color = "#%02x%02x%02x" % (_FOUND if grid[r][c] else _MISSED)
            out.append(f'<rect x="{left + c * _CELL}" y="{top + r * _CELL}" width="{_CELL - _LINE}" '
                       f'height="{_CELL - _LINE}" fill="{color}"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_heatmap(path: Path, grid: Sequence[Sequence[bool]], depths: Sequence[float],
                  lengths: Sequence[int]) -> Path:
    """Write the picture: SVG for a .svg name, PNG otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".svg":
        path.write_text(svg_text(grid, depths, lengths), encoding="utf-8")
    else:
        path.write_bytes(png_bytes(grid))
    return path
