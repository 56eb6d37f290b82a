"""Markdown into a QTextDocument: Qt's Markdown for prose, our own code blocks (monospace,
simple syntax colours, a Copy link above each)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QTextCharFormat,
    QTextCursor,
    QTextFrameFormat,
    QTextTable,
)

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*([^\n`]*)$", re.M)
_KEYWORDS = ["and", "as", "assert", "async", "await", "break", "case", "catch", "class", "const", "continue", "def", "del", "elif", "else", "enum", "except", "export", "extends", "false", "False", "final", "finally", "fn", "for", "from", "func", "function", "go", "if", "impl", "import", "in", "interface", "is", "lambda", "let", "match", "mod", "mut", "new", "nil", "None", "not", "null", "or", "package", "pass", "private", "protected", "pub", "public", "raise", "return", "self", "static", "struct", "super", "switch", "this", "throw", "true", "True", "try", "type", "typedef", "use", "var", "void", "while", "with", "yield", "int", "float", "str", "bool", "char", "double", "long", "string"]
_TOKEN = re.compile(
    r"(?P<comment>#[^\n]*|//[^\n]*|/\*.*?\*/)"
    r"|(?P<string>\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*')"
    r"|(?P<number>\b\d+(?:\.\d+)?\b)"
    r"|(?P<keyword>\b(?:" + "|".join(_KEYWORDS) + r")\b)",
    re.S,
)
_LIGHT = {"comment": "#6a737d", "string": "#22863a", "number": "#005cc5", "keyword": "#d73a49"}
_DARK = {"comment": "#8b949e", "string": "#7ee787", "number": "#79c0ff", "keyword": "#ff7b72"}


@dataclass(frozen=True)
class Prose:
    """Markdown text between code blocks."""

    text: str


@dataclass(frozen=True)
class Code:
    """A fenced code block (an unclosed fence runs to the end)."""

    language: str
    text: str


def split_fences(text: str) -> list[Prose | Code]:
    """Split Markdown into prose and fenced code blocks."""
    parts: list[Prose | Code] = []
    pos = 0
    while True:
        opening = _FENCE.search(text, pos)
        if opening is None:
            break
        fence = opening.group(2)
        closing = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$", re.M)
        end = closing.search(text, opening.end())
        if text[pos:opening.start()].strip():
            parts.append(Prose(text[pos:opening.start()]))
        body_start = opening.end() + 1
        body = text[body_start:end.start()] if end else text[body_start:]
        parts.append(Code(opening.group(3).strip(), body.rstrip("\n")))
        if end is None:
            return parts
        pos = end.end()
    if text[pos:].strip():
        parts.append(Prose(text[pos:]))
    return parts


def highlight_spans(code: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of comments, strings, numbers and keywords: a simple highlighter
    good enough for most languages; no parsing."""
    return [(m.start(), m.end(), m.lastgroup or "") for m in _TOKEN.finditer(code)]


def _mono() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


def insert_code(cursor: QTextCursor, code: Code, index: int, *, dark: bool, copy_label: str) -> None:
    """A code block at the end of the document: a line with the language and a Copy link, then
    the code in a shaded frame. `index` goes into the link (copy-code:INDEX)."""
    cursor.insertBlock()
    muted = QTextCharFormat()
    muted.setForeground(QColor("#8b949e" if dark else "#6a737d"))
    if code.language:
        cursor.insertText(code.language + "  ", muted)
    link = QTextCharFormat()
    link.setAnchor(True)
    link.setAnchorHref(f"copy-code:{index}")
    link.setFontUnderline(True)
    link.setForeground(QColor("#58a6ff" if dark else "#0969da"))
    cursor.insertText(copy_label, link)
    frame_format = QTextFrameFormat()
    frame_format.setBackground(QColor("#262a30" if dark else "#f3f4f6"))  # apart from the base
    frame_format.setPadding(8)
    frame_format.setBorder(0)
    frame_format.setTopMargin(2)
    frame_format.setBottomMargin(6)
    frame = cursor.insertFrame(frame_format)
    inner = frame.firstCursorPosition()
    plain = QTextCharFormat()
    plain.setFont(_mono())
    plain.setForeground(QColor("#e6edf3" if dark else "#24292f"))
    colours = _DARK if dark else _LIGHT
    pos = 0
    for start, end, kind in highlight_spans(code.text):
        if start > pos:
            inner.insertText(code.text[pos:start], plain)
        coloured = QTextCharFormat(plain)
        coloured.setForeground(QColor(colours[kind]))
        inner.insertText(code.text[start:end], coloured)
        pos = end
    if pos < len(code.text):
        inner.insertText(code.text[pos:], plain)
    cursor.setPosition(frame.lastPosition() + 1)


def insert_markdown(cursor: QTextCursor, text: str, codes: list[str], *, dark: bool,
                    copy_label: str) -> None:
    """Render Markdown at the end of the document; each code block's text is appended to
    `codes` (its index is the one in its Copy link)."""
    for part in split_fences(text):
        if isinstance(part, Code):
            insert_code(cursor, part, len(codes), dark=dark, copy_label=copy_label)
            codes.append(part.text)
        else:
            cursor.insertBlock()
            start = cursor.position()
            cursor.insertMarkdown(part.text.strip("\n"))
            _space_tables(cursor, start, dark=dark)


def _space_tables(cursor: QTextCursor, start: int, *, dark: bool) -> None:
    """Tables from Qt's Markdown touch the text around them: give those inserted after
    `start` some air, cell padding and a border in a muted colour of the theme."""
    for frame in cursor.document().rootFrame().childFrames():
        if isinstance(frame, QTextTable) and frame.firstPosition() >= start:
            table_format = frame.format()
            table_format.setTopMargin(6)
            table_format.setBottomMargin(6)
            table_format.setCellPadding(4)
            table_format.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)  # not outset
            table_format.setBorderBrush(QColor("#6e7681" if dark else "#afb8c1"))
            frame.setFormat(table_format)
