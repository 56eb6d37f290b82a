"""How a reply is cut into rendering steps that each stay well under 100 ms on the GUI thread.

Qt lays out what is inserted into the chat view at once, in the same call, and some of its
Markdown is superlinear (a 1 MB table took 100 s to parse and 37 s to lay out; 400 rows
took 150 ms). So nothing big goes in as one piece: prose is cut at blank lines into pieces
whose estimated cost fits one step; a single Markdown block that is too costly on its own (a
huge table, a very long unbroken line, deep nesting) is shown as plain text, itself cut into
small blocks. The estimate is pure arithmetic on the text (linear, no parsing), with
per-character and per-cell costs measured on a slow shared CPU (docs/security-rendering.md).
"""

from __future__ import annotations

from dataclasses import dataclass

STEP_MS = 40.0  # estimated work per step; measured cost is within 2x, so < 100 ms on a slow laptop
_US_PER_CHAR = 0.7  # Markdown prose, parse + layout
_US_PER_CODE_CHAR = 2.5  # highlighted code (one insert per token)
_US_PER_PLAIN_CHAR = 0.7
_US_PER_CELL = 100.0  # a table cell costs about as much as 140 characters of prose
_US_PER_TABLE = 500.0
_US_PER_RUN_CHAR = 2.5  # extra, per character of an unbroken run: wrapping "anywhere" is slow
_RUN = 80  # runs of non-space characters longer than this pay _US_PER_RUN_CHAR
MAX_PREFIX = 64  # leading spaces / quote / list markers on a line: deeper is shown as plain text
PLAIN_LINE = 1000  # a plain-text line longer than this is shown cut into lines this long
SHOWN_CAP = 1_000_000  # characters of one reply shown; Copy copies the whole text
HIGHLIGHT_CAP = 12_000  # longer code blocks are shown in monospace without colours


@dataclass(frozen=True)
class Piece:
    """One step of a reply's prose: Markdown (`rich`) or plain text."""

    text: str
    rich: bool
    cost_ms: float


def _runs_cost(text: str) -> float:
    extra = 0
    for word in text.split():
        if len(word) > _RUN:
            extra += len(word)
    return extra * _US_PER_RUN_CHAR


def _is_delimiter_row(line: str) -> bool:
    stripped = line.strip()
    return "|" in stripped and "-" in stripped and not stripped.strip("|:- \t")


def prose_cost_ms(text: str) -> float | None:
    """Estimated milliseconds to render `text` as Markdown; None when it nests too deep to try."""
    cells = tables = 0
    for line in text.splitlines():
        body = line.lstrip(" \t>*+-0123456789.)")
        if len(line) - len(body) > MAX_PREFIX:
            return None
        if "|" in line:
            cells += line.count("|") + 1
            if _is_delimiter_row(line):
                tables += 1
    micro = (len(text) * _US_PER_CHAR + cells * _US_PER_CELL + tables * _US_PER_TABLE
             + _runs_cost(text))
    return micro / 1000.0


def code_cost_ms(text: str, highlighted: bool) -> float:
    per_char = _US_PER_CODE_CHAR if highlighted else _US_PER_PLAIN_CHAR
    return len(text) * per_char / 1000.0 + _runs_cost(text) / 1000.0


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


def plan_prose(text: str, step_ms: float = STEP_MS) -> list[Piece]:
    """Markdown prose as steps: consecutive blocks grouped while their cost fits a step, a block
    too costly alone (or too deep) as plain text."""
    plan: list[Piece] = []
    group: list[str] = []
    group_cost = 0.0

    def flush() -> None:
        nonlocal group, group_cost
        if group:
            plan.append(Piece("".join(group), True, group_cost))
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
    return len(text) * _US_PER_PLAIN_CHAR / 1000.0 + _runs_cost(text) / 1000.0


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
    for line in plain_lines(text):
        line_cost = plain_cost_ms(line) + 0.005
        if current and cost + line_cost > step_ms:
            chunks.append("\n".join(current))
            current, cost = [], 0.0
        current.append(line)
        cost += line_cost
    if current:
        chunks.append("\n".join(current))
    return chunks
