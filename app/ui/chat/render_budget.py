"""How a reply is cut into rendering steps that each stay well under 100 ms on the GUI thread.

Qt lays out what is inserted into the chat view at once, in the same call, and some of its
Markdown is superlinear (a 1 MB table took 100 s to parse and 37 s to lay out; 400 rows
took 150 ms). So nothing big goes in as one piece: prose is cut at blank lines into pieces
whose estimated cost fits one step; a single Markdown block that is too costly on its own (a
huge table, a very long unbroken line, deep nesting) is shown as plain text, itself cut into
small blocks. The estimate is pure arithmetic on the text (linear, no parsing), with
per-character and per-cell costs measured on a slow shared CPU (docs/security.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STEP_MS = 40.0  # estimated work per step; measured cost is within 2x, so < 100 ms on a slow laptop
_US_PER_CHAR = 0.7  # Markdown prose, parse + layout
_US_PER_CODE_CHAR = 2.5  # highlighted code (one insert per token)
_US_PER_PLAIN_CHAR = 0.7
_US_PER_LINE = 60.0  # each line is a block of its own
_US_PER_CELL = 100.0  # per '|'; measured 80 with <= 100 tables in the view, 120 with 300
_US_PER_TABLE = 1000.0
_US_PER_LINK = 300.0  # each link or image is made safe one by one (markdown_render.py)
_US_PER_RUN_CHAR = 2.5  # extra, per character of an unbroken run: wrapping "anywhere" is slow
_RUN = 80  # runs of non-space characters longer than this pay _US_PER_RUN_CHAR
MAX_PREFIX = 64  # leading spaces / quote / list markers on a line: deeper is shown as plain text
PLAIN_LINE = 1000  # a plain-text line longer than this is shown cut into lines this long
SHOWN_CAP = 1_000_000  # characters of one reply shown; Copy copies the whole text
HIGHLIGHT_CAP = 12_000  # longer code blocks are shown in monospace without colours
MAX_TABLES = 200  # tables one view lays out as tables (each slows later inserts); then plain
_LONG_RUN = re.compile(r"(?<!\S)\S{" + str(_RUN + 1) + ",}")  # tried only where a run starts
_DEEP = re.compile(r"^[ \t>*+\-0-9.)]{" + str(MAX_PREFIX + 1) + "}", re.M)
# Unambiguous, so linear: "[ \t]*\|?[ \t:]*" tried every split of a run of spaces (quadratic).
_DELIMITER_ROW = re.compile(r"^[ \t]*(?:\|[ \t]*)?:?-[ \t|:-]*$", re.M)


@dataclass(frozen=True)
class Piece:
    """One step of a reply's prose: Markdown (`rich`) or plain text."""

    text: str
    rich: bool
    cost_ms: float
    tables: int = 0


def _runs_cost(text: str) -> float:
    return sum(len(run) for run in _LONG_RUN.findall(text)) * _US_PER_RUN_CHAR


def plan_cost_ms(text: str) -> float:
    """Estimated milliseconds to cut `text` into steps (regular expressions over it)."""
    return 0.3 + len(text) * 0.3 / 1000.0  # measured: 26 ms for a 64 KB slice of deep lists


def count_tables(text: str) -> int:
    """Delimiter rows (`|---|:-:|`): about one per table (a regex, linear on any input)."""
    return sum(1 for row in _DELIMITER_ROW.findall(text) if "|" in row)


def prose_cost_ms(text: str) -> float | None:
    """Estimated milliseconds to render `text` as Markdown; None when it nests too deep to try."""
    if _DEEP.search(text):
        return None
    cells = text.count("|")
    links = text.count("](") + text.count("://") + text.count("<")
    micro = (len(text) * _US_PER_CHAR + cells * _US_PER_CELL + count_tables(text) * _US_PER_TABLE
             + links * _US_PER_LINK + _runs_cost(text))
    return micro / 1000.0


def code_cost_ms(text: str, highlighted: bool) -> float:
    if not highlighted:
        return plain_cost_ms(text)
    return (2000.0 + len(text) * _US_PER_CODE_CHAR + (text.count("\n") + 1) * _US_PER_LINE
            + _runs_cost(text)) / 1000.0


def _blocks(text: str) -> list[str]:
    """`text` cut at blank lines (each piece ends with its newlines, so joined they are `text`)."""
    pieces: list[str] = []
    start = 0
    while True:
        gap = text.find("\n\n", start)
        if gap < 0:
            break
        end = gap + 2
        while end < len(text) and text[end] == "\n":
            end += 1
        pieces.append(text[start:end])
        start = end
    if start < len(text):
        pieces.append(text[start:])
    return pieces


SLICE = 64_000  # prose longer than this is planned (and cut into pieces) a slice at a time


def slices(text: str, size: int = SLICE) -> list[str]:
    """`text` cut into slices of about `size` characters, at a blank line where there is one
    near the cut, else at a line end, else anywhere; joined they are `text`."""
    out: list[str] = []
    start = 0
    while len(text) - start > size:
        end = start + size
        cut = text.rfind("\n\n", start + size // 2, end)
        if cut < 0:
            cut = text.rfind("\n", start + size // 2, end)
        cut = end if cut < 0 else cut + 1
        out.append(text[start:cut])
        start = cut
    out.append(text[start:])
    return out


def plan_prose(text: str, step_ms: float = STEP_MS) -> list[Piece]:
    """Markdown prose as steps: consecutive blocks grouped while their cost fits a step, a block
    too costly alone (or too deep) as plain text."""
    plan: list[Piece] = []
    group: list[str] = []
    group_cost = 0.0

    def flush() -> None:
        nonlocal group, group_cost
        if group:
            text = "".join(group)
            plan.append(Piece(text, True, group_cost, count_tables(text)))
        group, group_cost = [], 0.0

    for block in _blocks(text):
        cost = prose_cost_ms(block)
        if cost is None or cost > step_ms:
            flush()
            plan.append(Piece(block, False, plain_cost_ms(block)))
            continue
        if group_cost + cost > step_ms:
            flush()
        group.append(block)
        group_cost += cost
    flush()
    return plan


def plain_cost_ms(text: str) -> float:
    return (len(text) * _US_PER_PLAIN_CHAR + (text.count("\n") + 1) * _US_PER_LINE
            + _runs_cost(text)) / 1000.0


def _line_cost_us(line: str) -> float:
    """One line's share of plain_cost_ms()."""
    cost = len(line) * _US_PER_PLAIN_CHAR + _US_PER_LINE
    return cost + _runs_cost(line) if len(line) > _RUN else cost


def plain_lines(text: str, width: int = PLAIN_LINE) -> list[str]:
    """Lines of `text` for plain display, a line longer than `width` cut into pieces."""
    lines: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            lines.append(line)
        else:
            lines.extend(line[i:i + width] for i in range(0, len(line), width))
    return lines


def plain_chunks(text: str, step_ms: float = STEP_MS) -> list[str]:
    """`text` as plain-display chunks (lines joined by newlines), each within one step."""
    chunks: list[str] = []
    current: list[str] = []
    cost = 0.0
    limit = step_ms * 1000.0
    for line in plain_lines(text):
        line_cost = _line_cost_us(line)
        if current and cost + line_cost > limit:
            chunks.append("\n".join(current))
            current, cost = [], 0.0
        current.append(line)
        cost += line_cost
    if current:
        chunks.append("\n".join(current))
    return chunks
