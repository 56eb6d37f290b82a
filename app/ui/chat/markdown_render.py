"""Markdown into a QTextDocument: Qt's Markdown for prose, our own code blocks (monospace,
simple syntax colours, a Copy link above each).

Prose is parsed into a scratch document that has no layout and loads nothing, then made safe
before it reaches the chat view: every image becomes a text placeholder with its alt text
(so the view holds no image an address could name), every link from the text is either
rewritten to the view's own link for it (web addresses) or made plain text, and raw HTML is
not parsed at all (it shows as text). See docs/security.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QImage,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
    QTextFrame,
    QTextFrameFormat,
    QTextTable,
)

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*([^\n`]*)$", re.M)
_KEYWORDS = ["and", "as", "assert", "async", "await", "break", "case", "catch", "class", "const", "continue", "def", "del", "elif", "else", "enum", "except", "export", "extends", "false", "False", "final", "finally", "fn", "for", "from", "func", "function", "go", "if", "impl", "import", "in", "interface", "is", "lambda", "let", "match", "mod", "mut", "new", "nil", "None", "not", "null", "or", "package", "pass", "private", "protected", "pub", "public", "raise", "return", "self", "static", "struct", "super", "switch", "this", "throw", "true", "True", "try", "type", "typedef", "use", "var", "void", "while", "with", "yield", "int", "float", "str", "bool", "char", "double", "long", "string"]
# Linear on any input: a string or comment that is opened always matches at once (an unclosed
# string runs to the end of its line, a lone backslash at the very end included; an unclosed
# comment to the end of the code), so no failed match is retried from every later position.
_TOKEN = re.compile(
    r"(?P<comment>#[^\n]*|//[^\n]*|/\*.*?(?:\*/|\Z))"
    r"|(?P<string>\"(?:\\.|[^\"\\\n])*(?:\"|\\?$)|'(?:\\.|[^'\\\n])*(?:'|\\?$))"
    r"|(?P<number>\b\d+(?:\.\d+)?\b)"
    r"|(?P<keyword>\b(?:" + "|".join(_KEYWORDS) + r")\b)",
    re.S | re.M,
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


def insert_code(cursor: QTextCursor, code: Code, href: str, *, dark: bool, copy_label: str,
                highlight: bool = True) -> QTextFrame:
    """A code block at the cursor: a line with the language and a Copy link (`href`), then the
    code in a shaded frame (coloured when `highlight`); the frame, for append_code()."""
    cursor.insertBlock()
    muted = QTextCharFormat()
    muted.setForeground(QColor("#8b949e" if dark else "#6a737d"))
    if code.language:
        cursor.insertText(code.language[:80] + "  ", muted)
    link = QTextCharFormat()
    link.setAnchor(True)
    link.setAnchorHref(href)
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
    plain = code_format(dark)
    if not highlight:
        inner.insertText(code.text, plain)
        cursor.setPosition(frame.lastPosition() + 1)
        return frame
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
    return frame


def code_format(dark: bool) -> QTextCharFormat:
    """Monospace in the theme's code colour."""
    plain = QTextCharFormat()
    plain.setFont(_mono())
    plain.setForeground(QColor("#e6edf3" if dark else "#24292f"))
    return plain


def append_code(frame: QTextFrame, text: str, *, dark: bool) -> None:
    """More of a long code block, in monospace without colours, at the end of its frame."""
    frame.lastCursorPosition().insertText(text, code_format(dark))


class _Scratch(QTextDocument):
    """A document for parsing only: it has no layout, and if anything asks it for a resource
    it gives an empty one instead of reading the named file (QTextDocument's own fallback)."""

    def loadResource(self, kind: int, name: QUrl | str) -> Any:  # noqa: N802 - Qt override
        return empty_resource(kind)


def empty_resource(kind: int) -> Any:
    """What the chat view gives for any resource a text names: never None, since for None Qt
    falls back to reading the named file itself."""
    if kind == QTextDocument.ResourceType.ImageResource.value:
        image = QImage(1, 1, QImage.Format.Format_ARGB32)
        image.fill(0)
        return image
    return ""


_FEATURES = QTextDocument.MarkdownFeature(QTextDocument.MarkdownFeature.MarkdownDialectGitHub.value
                                          | QTextDocument.MarkdownFeature.MarkdownNoHTML.value)
_WEB = ("http", "https")
_SHOWN_ADDRESS = 300  # characters of an address shown in a tooltip


@dataclass(frozen=True)
class Labels:
    """The view's translated words and link maker for markdown_fragment()."""

    image: str  # "image", shown as [image: ALT]
    link_href: Callable[[int], str]  # the view's own href for the web link with this index


def markdown_fragment(text: str, links: list[str], labels: Labels, *, dark: bool) -> QTextDocumentFragment:
    """Markdown prose made safe (no images, no links of the text's own, no HTML), tables spaced;
    each kept web address is appended to `links` (its index is in its href)."""
    scratch = _Scratch()
    scratch.setUndoRedoEnabled(False)
    QTextCursor(scratch).insertMarkdown(text.strip("\n"), _FEATURES)
    _make_safe(scratch, links, labels, dark=dark)
    _space_tables(scratch, dark=dark)
    return QTextDocumentFragment(scratch)


def _make_safe(doc: QTextDocument, links: list[str], labels: Labels, *, dark: bool) -> None:
    """Images to placeholders, the text's links to ours or to plain text, anchor names gone."""
    found: list[tuple[int, int, QTextCharFormat]] = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            if fmt.isImageFormat() or fmt.isAnchor() or fmt.anchorHref() or fmt.anchorNames():
                found.append((frag.position(), frag.length(), fmt))
            it += 1
        block = block.next()
    cursor = QTextCursor(doc)
    for position, length, fmt in reversed(found):  # from the end: earlier positions stay valid
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        if fmt.isImageFormat():
            cursor.insertText(_placeholder(fmt, labels) * length, _placeholder_format(fmt, dark))
        else:
            cursor.setCharFormat(_safe_link(fmt, links, labels))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _placeholder(fmt: QTextCharFormat, labels: Labels) -> str:
    alt = " ".join(str(fmt.property(QTextFormat.Property.ImageAltText) or "").split())
    return f"[{labels.image}: {_shorten(alt, 120)}]" if alt else f"[{labels.image}]"


def _placeholder_format(fmt: QTextCharFormat, dark: bool) -> QTextCharFormat:
    shown = QTextCharFormat()
    shown.setFontItalic(True)
    shown.setForeground(QColor("#8b949e" if dark else "#6a737d"))
    shown.setToolTip(_shorten(fmt.toImageFormat().name(), _SHOWN_ADDRESS))
    return shown


def _safe_link(fmt: QTextCharFormat, links: list[str], labels: Labels) -> QTextCharFormat:
    """A web link keeps its look with our href (the view copies the address when clicked);
    any other link (edit:, file:, javascript:, ...) becomes plain text."""
    href = fmt.anchorHref()
    safe = QTextCharFormat(fmt)
    for prop in (QTextFormat.Property.IsAnchor, QTextFormat.Property.AnchorHref,
                 QTextFormat.Property.AnchorName):
        safe.clearProperty(prop)
    if href:
        safe.setToolTip(_shorten(href, _SHOWN_ADDRESS))
    url = QUrl(href)
    if url.isValid() and url.scheme().lower() in _WEB and url.host() and len(href) <= 4096:
        safe.setAnchor(True)
        safe.setAnchorHref(labels.link_href(len(links)))
        links.append(href)
    else:
        safe.clearForeground()
        safe.setFontUnderline(False)
    return safe


def _space_tables(doc: QTextDocument, *, dark: bool) -> None:
    """Tables from Qt's Markdown touch the text around them: give them some air, cell padding
    and a border in a muted colour of the theme."""
    for frame in doc.rootFrame().childFrames():
        if isinstance(frame, QTextTable):
            table_format = frame.format()
            table_format.setTopMargin(6)
            table_format.setBottomMargin(6)
            table_format.setCellPadding(4)
            table_format.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)  # not outset
            table_format.setBorderBrush(QColor("#6e7681" if dark else "#afb8c1"))
            frame.setFormat(table_format)
