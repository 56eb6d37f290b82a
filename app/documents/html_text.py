"""HTML (and XHTML) to the text a reader sees: no scripts, styles, head or comments.

Uses only the standard library's html.parser. Block elements become line breaks, headings
become markdown '#' lines, list items '-' (or '1.') lines, and table rows ' | '-joined cells,
matching what the .docx reader produces. Character references are decoded.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from app.documents.result import Extraction
from app.documents.text import decode_bytes


def _names(text: str) -> frozenset[str]:
    """A set of tag names written as one whitespace-separated string."""
    return frozenset(text.split())


# Elements whose content is never shown on the page.
_HIDDEN = _names("head title script style template noscript svg iframe")
# Elements that start on a new line.
_LINE_BLOCKS = _names(
    "address article aside caption center dd details dialog div dl dt fieldset figcaption "
    "figure footer form header hgroup legend main nav section summary tbody tfoot thead"
)
# Elements set apart by a blank line.
_PARAGRAPH_BLOCKS = _names("p blockquote pre table ul ol hr")
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.I)


def read_html(data: bytes, name: str) -> Extraction:
    """The visible text of an HTML file's bytes, decoded with its BOM or declared charset."""
    decoded = decode_bytes(data, name, declared=declared_charset(data))
    decoded.text = html_to_text(decoded.text)
    return decoded


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML or XML file names near its start (<meta charset>, <?xml encoding>)."""
    head = data[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return match.group(1).decode("ascii") if match else None


def html_to_text(markup: str) -> str:
    """The text a browser would show for some HTML, one block per line."""
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    return parser.text()


class _VisibleText(HTMLParser):
    """Collects visible text, turning block structure into line breaks as it goes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._pending_breaks = 0
        self._at_line_start = True
        self._hidden: list[str] = []
        self._pre_depth = 0
        self._lists: list[list[int]] = []  # per open list: [is_ordered, items so far]
        self._cells: list[int] = []  # per open table row: cells so far

    def text(self) -> str:
        """The collected text, with non-breaking spaces as plain spaces and no outer blanks."""
        return "".join(self._out).replace("\xa0", " ").strip("\n ")

    # -- parser callbacks -------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._close_hidden("head")
        if tag in _HIDDEN:
            self._hidden.append(tag)
            return
        if self._hidden:
            return
        if tag == "br":
            self._pending_breaks = min(self._pending_breaks + 1, 2)
        elif tag in _HEADINGS:
            self._break(2)
            self._emit("#" * _HEADINGS[tag] + " ")
        elif tag == "li":
            self._start_list_item()
        elif tag in ("ul", "ol"):
            self._break(2 if not self._lists else 1)
            self._lists.append([tag == "ol", 0])
        elif tag == "tr":
            self._break(1)
            self._cells.append(0)
        elif tag in ("td", "th"):
            self._start_cell()
        elif tag in _PARAGRAPH_BLOCKS:
            self._break(2)
            if tag == "pre":
                self._pre_depth += 1
        elif tag in _LINE_BLOCKS:
            self._break(1)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._close_hidden(tag)
            return
        if self._hidden:
            return
        if tag in ("ul", "ol"):
            if self._lists:
                self._lists.pop()
            self._break(2 if not self._lists else 1)
        elif tag == "tr":
            if self._cells:
                self._cells.pop()
            self._break(1)
        elif tag in _HEADINGS or tag in _PARAGRAPH_BLOCKS:
            if tag == "pre" and self._pre_depth:
                self._pre_depth -= 1
            self._break(2)
        elif tag in _LINE_BLOCKS or tag == "li":
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre_depth:
            self._emit(data)
            return
        data = _WHITESPACE.sub(" ", data)
        if self._at_line_start or self._pending_breaks:
            data = data.lstrip(" ")
        if data:
            self._emit(data)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """Skip a malformed '<![...' section instead of failing (Python < 3.13 asserts)."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i)
            return -1 if end < 0 else end + 1

    # -- helpers ----------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        """Append text, first writing any line breaks the block structure asked for."""
        if self._pending_breaks and self._out:
            last = self._out[-1]
            if last.endswith(" "):
                self._out[-1] = last.rstrip(" ")
            self._out.append("\n" * self._pending_breaks)
        self._pending_breaks = 0
        self._out.append(text)
        self._at_line_start = text.endswith("\n")

    def _break(self, count: int) -> None:
        """Ask for the next text to start after at least `count` line breaks."""
        if self._out:
            self._pending_breaks = max(self._pending_breaks, count)

    def _start_list_item(self) -> None:
        self._break(1)
        if not self._lists:
            self._emit("- ")
            return
        current = self._lists[-1]
        current[1] += 1
        indent = "  " * (len(self._lists) - 1)
        self._emit(f"{indent}{current[1]}. " if current[0] else f"{indent}- ")

    def _start_cell(self) -> None:
        if not self._cells:  # a cell outside any <tr>: treat it as the start of a row
            self._break(1)
            self._cells.append(0)
        if self._cells[-1]:
            if self._out and not self._pending_breaks:
                self._out[-1] = self._out[-1].rstrip(" ")
            self._emit("| " if self._pending_breaks or self._at_line_start else " | ")
        self._cells[-1] += 1
        self._at_line_start = True  # drop the whitespace that opens the cell

    def _close_hidden(self, tag: str) -> None:
        """Close the innermost open hidden element named `tag` (and any left open inside it)."""
        if tag in self._hidden:
            index = len(self._hidden) - 1 - self._hidden[::-1].index(tag)
            del self._hidden[index:]
