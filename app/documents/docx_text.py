"""Word (.docx) to text: paragraphs, '#' headings and ' | ' tables in document order.

python-docx opens the package (after `open_checked_zip` checked every member's size, so
nothing inflates past the limits); the body is then walked on its lxml tree directly, each
element once. (python-docx's own `row.cells` repeats a cell once per grid column it spans,
so one `<w:gridSpan w:val="100000000"/>` made 100 M cells, and it follows vertically merged
cells upwards row by row; its paragraph objects cost ~20 us each.)
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterator
from io import BytesIO

import docx
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.styles.style import BaseStyle, CharacterStyle

from app.documents.errors import DocumentError, DocxBrokenError
from app.documents.limits import Cancel, TextBudget, open_checked_zip
from app.documents.result import Extraction
from app.sentences import say

_log = logging.getLogger(__name__)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc files and password-protected .docx
_HEADING_STYLE = re.compile(r"heading\s*([1-9])$", re.IGNORECASE)
_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_P, _TBL, _TR, _TC = (f"{_WORD_NS}{tag}" for tag in ("p", "tbl", "tr", "tc"))
_T, _TAB, _PTAB, _BR, _CR, _HYPHEN = (
    f"{_WORD_NS}{tag}" for tag in ("t", "tab", "ptab", "br", "cr", "noBreakHyphen")
)
_CONTAINERS = {f"{_WORD_NS}{tag}" for tag in ("sdt", "sdtContent", "customXml", "ins", "smartTag")}
_TC_PR, _V_MERGE = f"{_WORD_NS}tcPr", f"{_WORD_NS}vMerge"
_MAX_HEADING = 6
_MAX_STYLE_CHAIN = 16
_MAX_NESTING = 16  # tables in tables (and content controls) followed this deep
_MAX_STYLES = 512  # distinct paragraph styles looked up; more are read as body text
_CANCEL_EVERY = 512  # body elements between two cancel checks


def read_docx(data: bytes, name: str, cancel: Cancel = None) -> Extraction:
    """The paragraphs, headings and tables of a .docx, in document order, blank-line separated.

    Raises DocxBrokenError when the file is not a readable Word document, ArchiveTooLargeError
    when it would unpack past the limits, DocumentTextTooLongError past the characters cap.
    """
    if data.startswith(_OLE_MAGIC):
        raise DocxBrokenError(
            name, say("is password-protected, or is an old Word (.doc) file renamed to .docx")
        )
    if not zipfile.is_zipfile(BytesIO(data)):
        raise DocxBrokenError(name)
    open_checked_zip(data, name, lambda: DocxBrokenError(name)).close()
    budget = TextBudget(name, cancel)
    try:
        document = docx.Document(BytesIO(data))
        budget.check()
        body = document.element.body
        for fallback in list(body.iter(_MC_FALLBACK)):  # the same content again, for old readers
            parent = fallback.getparent()
            if parent is not None:
                parent.remove(fallback)
        headings = _Headings(document)
        blocks = list(_blocks(body, headings, budget, 0))
    except DocumentError:
        raise
    except Exception as exc:  # python-docx, zipfile and lxml raise many kinds of error
        _log.info("cannot read %s: %r", name, exc)
        raise DocxBrokenError(name) from exc
    return Extraction("\n\n".join(blocks))


def _blocks(container: BaseOxmlElement, headings: _Headings, budget: TextBudget,
            depth: int) -> Iterator[str]:
    """One string per non-empty paragraph or table, looking inside content controls."""
    for index, child in enumerate(container.iterchildren()):
        if not index % _CANCEL_EVERY:
            budget.check()
        tag = child.tag
        if tag == _P:
            if not len(child):  # an empty paragraph (the commonest element of all)
                continue
            text = _paragraph(child, headings)
        elif tag == _TBL:
            text = _table(child, budget, depth + 1).strip()
        elif tag in _CONTAINERS and depth < _MAX_NESTING:
            yield from _blocks(child, headings, budget, depth + 1)
            continue
        else:
            continue
        if text:
            budget.add(len(text) + 2)
            yield text


def _paragraph_text(p: BaseOxmlElement) -> str:
    """A paragraph's text as Word shows it: runs, tabs, line breaks (page breaks add nothing)."""
    parts: list[str] = []
    for element in p.iter(_T, _TAB, _PTAB, _BR, _CR, _HYPHEN):
        tag = element.tag
        if tag == _T:
            parts.append(element.text or "")
        elif tag in (_TAB, _PTAB):
            parts.append("\t")
        elif tag == _HYPHEN:
            parts.append("-")
        elif tag == _CR or element.get(f"{_WORD_NS}type") in (None, "textWrapping"):
            parts.append("\n")
    return "".join(parts)


def _paragraph(p: BaseOxmlElement, headings: _Headings) -> str:
    """A paragraph's text, as a markdown heading line when its style is a heading ('' if none)."""
    text = _paragraph_text(p).rstrip()
    if not text.strip():
        return ""
    level = headings.level(p)
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

    def level(self, p: BaseOxmlElement) -> int:
        """1-6 for a title or heading paragraph (a w:p element), 0 for body text."""
        style_id = p.style
        if style_id not in self._by_style:
            if len(self._by_style) >= _MAX_STYLES:  # a file made to make us look up styles
                style_id = None
            if style_id not in self._by_style:
                self._by_style[style_id] = self._style_levels(style_id)
        by_name, by_outline = self._by_style[style_id]
        if by_name:
            return by_name
        own = _outline_level(p.pPr)
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


def _table(tbl: BaseOxmlElement, budget: TextBudget, depth: int) -> str:
    """One line per row, cells joined by ' | '; each <w:tc> once, whatever it spans.

    A cell that continues a vertical merge is empty (its text is in the row above).
    """
    lines = []
    for tr in tbl.iterchildren(_TR):
        cells = [_cell(tc, budget, depth) for tc in tr.iterchildren(_TC)]
        if any(cells):
            line = " | ".join(cells).strip()
            budget.add(len(line) + 1)
            lines.append(line)
        elif not len(lines) % _CANCEL_EVERY:
            budget.check()
    return "\n".join(lines)


def _cell(tc: BaseOxmlElement, budget: TextBudget, depth: int) -> str:
    """A cell's paragraphs (and any nested table) on one line."""
    props = tc.find(_TC_PR)
    merge = props.find(_V_MERGE) if props is not None else None
    if merge is not None and merge.get(f"{_WORD_NS}val", "continue") == "continue":
        return ""
    parts: list[str] = []
    for item in tc.iterchildren(_P, _TBL):
        if item.tag == _P:
            text = " ".join(_paragraph_text(item).split())
        elif depth < _MAX_NESTING:
            text = " / ".join(_table(item, budget, depth + 1).splitlines())
        else:
            continue
        if text:
            parts.append(text)
    return " ".join(parts)
