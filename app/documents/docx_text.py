"""Word (.docx) to text with python-docx: paragraphs, '#' headings and ' | ' tables in order."""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterable, Iterator
from io import BytesIO

import docx
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.styles.style import BaseStyle, CharacterStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from app.documents.errors import DocxBrokenError
from app.documents.result import Extraction

_log = logging.getLogger(__name__)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc files and password-protected .docx
_HEADING_STYLE = re.compile(r"heading\s*([1-9])$", re.IGNORECASE)
_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MAX_HEADING = 6
_MAX_STYLE_CHAIN = 16


def read_docx(data: bytes, name: str) -> Extraction:
    """The paragraphs, headings and tables of a .docx, in document order, blank-line separated.

    Raises DocxBrokenError when the file is not a readable Word document.
    """
    if data.startswith(_OLE_MAGIC):
        raise DocxBrokenError(
            name, "is password-protected, or is an old Word (.doc) file renamed to .docx"
        )
    if not zipfile.is_zipfile(BytesIO(data)):
        raise DocxBrokenError(name)
    try:
        document = docx.Document(BytesIO(data))
        headings = _Headings(document)
        blocks = list(_blocks(document.iter_inner_content(), headings))
    except Exception as exc:  # python-docx, zipfile and lxml raise many kinds of error
        _log.info("cannot read %s: %r", name, exc)
        raise DocxBrokenError(name) from exc
    return Extraction("\n\n".join(blocks))


def _blocks(items: Iterable[Paragraph | Table], headings: _Headings) -> Iterator[str]:
    """One string per non-empty paragraph or table."""
    for item in items:
        text = _paragraph(item, headings) if isinstance(item, Paragraph) else _table(item)
        if text.strip():
            yield text


def _paragraph(paragraph: Paragraph, headings: _Headings) -> str:
    """A paragraph's text, as a markdown heading line when its style is a heading."""
    text = paragraph.text.rstrip()
    if not text.strip():
        return ""
    level = headings.level(paragraph)
    if level:
        return "#" * level + " " + " ".join(text.split())
    return text


class _Headings:
    """Heading levels of paragraphs, with each style looked up once.

    (python-docx's `paragraph.style` searches the whole style sheet on every call, which
    took seconds for a few thousand paragraphs.) Built-in heading styles keep their English
    names ('Heading 2') even in localised Word; custom heading styles are recognised by the
    outline level they set.
    """

    def __init__(self, document: DocxDocument) -> None:
        self._part = document.part
        self._by_style: dict[str | None, tuple[int, int]] = {}

    def level(self, paragraph: Paragraph) -> int:
        """1-6 for a title or heading paragraph, 0 for body text."""
        style_id = paragraph._p.style
        if style_id not in self._by_style:
            self._by_style[style_id] = self._style_levels(style_id)
        by_name, by_outline = self._by_style[style_id]
        if by_name:
            return by_name
        own = _outline_level(paragraph._p.pPr)
        return own if own is not None else by_outline

    def _style_levels(self, style_id: str | None) -> tuple[int, int]:
        """(level from the style's name, level from its outline setting), 0 when none."""
        style: BaseStyle | None = self._part.get_style(style_id, WD_STYLE_TYPE.PARAGRAPH)
        if style is None:  # a document without a default paragraph style
            return 0, 0
        style_name = (style.name or "").strip()
        by_name = 1 if style_name.lower() == "title" else 0
        match = _HEADING_STYLE.match(style_name)
        if match:
            by_name = min(int(match.group(1)), _MAX_HEADING)
        by_outline = 0
        for _ in range(_MAX_STYLE_CHAIN):  # a damaged file may base styles on each other
            outline = _outline_level(style.element.pPr)
            if outline is not None:
                by_outline = outline
                break
            style = style.base_style if isinstance(style, CharacterStyle) else None
            if style is None:
                break
        return by_name, by_outline


def _outline_level(ppr: BaseOxmlElement | None) -> int | None:
    """The heading level (1-6) set by a w:outlineLvl, 0 for body text, None when unset."""
    if ppr is None:
        return None
    outline = ppr.find(f"{_WORD_NS}outlineLvl")
    if outline is None:
        return None
    value = outline.get(f"{_WORD_NS}val", "")
    level = int(value) if value.isdigit() else 9
    return min(level + 1, _MAX_HEADING) if level < 9 else 0


def _table(table: Table) -> str:
    """One line per row, cells joined by ' | '; a merged cell appears once per row."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a cell spanning columns comes once per column
                continue
            previous = cell._tc
            cells.append(_cell(cell))
        if any(cells):
            lines.append(" | ".join(cells).strip())
    return "\n".join(lines)


def _cell(cell: _Cell) -> str:
    """A cell's paragraphs (and any nested table) on one line."""
    parts: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Paragraph):
            text = " ".join(item.text.split())
        else:
            text = " / ".join(_table(item).splitlines())
        if text:
            parts.append(text)
    return " ".join(parts)
