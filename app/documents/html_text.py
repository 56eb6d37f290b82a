"""HTML (and XHTML) to the text a reader sees: no scripts, styles, head or comments.

A small tokenizer of our own (`_scan`), linear in the input by construction: every step
starts where the previous one ended and looks only forward (`str.find` or an anchored regex
without nested repetition), and whatever is unterminated at the end of the input (a comment,
a tag, a quoted attribute, a `<script>`) ends there, as in a browser. (The standard library's
html.parser rescans the rest of the input for each `</` it cannot finish: 1 MB took 104 s.)
The visible-text builder (`_VisibleText`) keeps O(1) work per token too: hidden elements are
counted, list and table state are stacks of small integers, list indentation is capped.

Block elements become line breaks, headings markdown '#' lines, list items '-' (or '1.')
lines, and table rows ' | '-joined cells, matching what the .docx reader produces.
Character references are decoded (with bounded lookups: a 100,000-digit `&#...;` is one �).
"""

from __future__ import annotations

import re
from html.entities import html5 as _NAMED

from app.documents.errors import MarkupTooLargeError
from app.documents.limits import Cancel, TextBudget
from app.documents.result import Extraction
from app.documents.text import decode_bytes


def _names(text: str) -> frozenset[str]:
    """A set of tag names written as one whitespace-separated string."""
    return frozenset(text.split())


# Elements whose content is never shown on the page.
_HIDDEN = _names("head title script style template noscript svg math iframe object")
_CANONICAL = {name: name for name in _HIDDEN}
# What may stand in <head>; any other start tag ends the head, as in a browser.
_HEAD_CONTENT = _names("title meta link style script base noscript template")
# Elements whose content is not markup: skipped whole (or, for these two, kept as text).
_RAW_TEXT = _names("script style xmp iframe noembed noframes noscript title textarea")
_RAW_VISIBLE = _names("xmp textarea")
# Elements that start on a new line.
_LINE_BLOCKS = _names(
    "address article aside caption center dd details dialog div dl dt fieldset figcaption "
    "figure footer form header hgroup legend main nav section summary tbody tfoot thead"
)
# Elements set apart by a blank line.
_PARAGRAPH_BLOCKS = _names("p blockquote pre table ul ol hr")
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_MAX_INDENT = 8  # nested list levels shown as indentation (deeper ones share the last)
_CANCEL_EVERY = 2048  # tokens between two cancel checks
#: Most tags and text runs read from one document (a few seconds of work; real pages of
#: 50 MB have fewer).
_MAX_TOKENS = 2_000_000

_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]{0,512}?encoding\s*=\s*["']([A-Za-z0-9_.:\-]{1,40})""", re.I)
_TAG_NAME = re.compile(r"[A-Za-z][^\t\n\f\r />]*")
# Where markup may start; any other '<' is text ("a < b").
_MARKUP_START = re.compile(r"<[A-Za-z/!?]")
# A tag without quotes in it, the common case, in one match. After the name comes whitespace,
# '/' or '>', none of which a name holds, so a failed match backtracks in O(1) per character.
_SIMPLE_TAG = re.compile(r"""<(/?)([A-Za-z][^\t\n\f\r />]*)(?:[\t\n\f\r /][^>"']*)?>""")
# Inside a tag: its end, or the start of a quoted attribute value (which may hold '>').
_TAG_END_OR_QUOTE = re.compile(r"""=[\t\n\f\r ]*(["'])|>""")
_CHARREF = re.compile(r"&(?:#[xX]([0-9a-fA-F]+);?|#([0-9]+);?|([A-Za-z][A-Za-z0-9]{0,31};?))")
_RAW_END: dict[str, re.Pattern[str]] = {
    name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE) for name in _RAW_TEXT
}


def read_html(data: bytes, name: str, cancel: Cancel = None) -> Extraction:
    """The visible text of an HTML file's bytes, decoded with its BOM or declared charset."""
    decoded = decode_bytes(data, name, declared=declared_charset(data), cancel=cancel)
    decoded.text = html_to_text(decoded.text, TextBudget(name, cancel))
    return decoded


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML or XML file names near its start (<meta charset>, <?xml encoding>)."""
    head = data[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return match.group(1).decode("ascii") if match else None


def html_to_text(markup: str, budget: TextBudget | None = None) -> str:
    """The text a browser would show for some HTML, one block per line.

    `budget` caps the text (and carries the cancel check); raises its errors when passed.
    """
    builder = _VisibleText(budget or TextBudget("HTML"))
    _scan(markup, builder)
    return builder.text()


def unescape(text: str) -> str:
    """Decode HTML character references, each looked up in bounded time."""
    if "&" not in text:
        return text
    return _CHARREF.sub(_charref, text)


def _charref(match: re.Match[str]) -> str:
    hexa, decimal, named = match.groups()
    if named is None:
        digits = (hexa or decimal).lstrip("0") or "0"
        if len(digits) > 8:
            return "\ufffd"
        return _codepoint(int(digits, 16 if hexa is not None else 10))
    if named in _NAMED:
        return _NAMED[named]
    for end in range(len(named) - 1, 1, -1):  # legacy names work without ';' ("&copy2024")
        if named[:end] in _NAMED:
            return _NAMED[named[:end]] + named[end:]
    return match.group(0)


def _codepoint(number: int) -> str:
    """The character a numeric reference names, repaired as browsers do."""
    if number == 0 or number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
        return "\ufffd"
    if 0x80 <= number <= 0x9F:  # Windows-1252 bytes written as references
        return bytes([number]).decode("cp1252", errors="ignore") or chr(number)
    return chr(number)


def _scan(markup: str, out: _VisibleText) -> None:
    """Tokenize `markup` once from left to right, handing text and tags to `out`."""
    size = len(markup)
    pos = 0
    budget = out.budget
    tokens = budget.tokens  # a book's chapters share one count
    search = _MARKUP_START.search
    while pos < size:
        tokens += 1
        if tokens % _CANCEL_EVERY == 0:
            budget.check()
            if tokens > _MAX_TOKENS:
                raise MarkupTooLargeError(budget.name, _MAX_TOKENS)
        found = search(markup, pos)
        if found is None:
            out.data(unescape(markup[pos:]))
            break
        lt = found.start()
        if lt > pos:
            out.data(unescape(markup[pos:lt]))
        after = markup[lt + 1]
        if after == "/":
            pos = _end_tag(markup, lt, out)
        elif after == "!":
            pos = _markup_declaration(markup, lt, out)
        elif after == "?":
            pos = _skip_to(markup, ">", lt + 2)
        else:
            pos = _start_tag(markup, lt, out)
    budget.tokens = tokens


def _skip_to(markup: str, token: str, start: int) -> int:
    """The position just after the next `token`, or the end of the input when there is none."""
    found = markup.find(token, start)
    return len(markup) if found < 0 else found + len(token)


def _tag_end(markup: str, start: int) -> int:
    """Position after the '>' closing a tag whose attributes begin at `start`; -1 at the end."""
    pos = start
    while True:
        match = _TAG_END_OR_QUOTE.search(markup, pos)
        if match is None:
            return -1
        quote = match.group(1)
        if quote is None:
            return match.end()
        close = markup.find(quote, match.end())
        if close < 0:
            return -1
        pos = close + 1


def _start_tag(markup: str, pos: int, out: _VisibleText) -> int:
    simple = _SIMPLE_TAG.match(markup, pos)
    if simple is not None:
        name, end = simple.group(2).lower(), simple.end()
    else:
        match = _TAG_NAME.match(markup, pos + 1)
        assert match is not None
        name = match.group().lower()
        end = _tag_end(markup, match.end())
    if end < 0:  # a tag cut off by the end of the input is dropped, as a browser does
        return len(markup)
    self_closing = markup[end - 2 : end] == "/>"
    out.start(name, self_closing)
    if name not in _RAW_TEXT or self_closing:  # XHTML writes <script src="..."/>
        return end
    close = _RAW_END[name].search(markup, end)
    content_end = len(markup) if close is None else close.start()
    if name in _RAW_VISIBLE:
        out.data(markup[end:content_end] if name == "xmp" else unescape(markup[end:content_end]))
    if close is None:
        return len(markup)
    return _end_tag(markup, close.start(), out)


def _end_tag(markup: str, pos: int, out: _VisibleText) -> int:
    simple = _SIMPLE_TAG.match(markup, pos)
    if simple is not None:
        out.end(simple.group(2).lower())
        return simple.end()
    match = _TAG_NAME.match(markup, pos + 2)
    if match is None:  # '</>' is nothing; '</3' and the like are bogus comments
        return pos + 3 if markup.startswith("</>", pos) else _skip_to(markup, ">", pos + 2)
    end = _tag_end(markup, match.end())
    if end < 0:
        return len(markup)
    out.end(match.group().lower())
    return end


def _markup_declaration(markup: str, pos: int, out: _VisibleText) -> int:
    """Comments, CDATA sections, doctypes and other '<!' constructs."""
    if markup.startswith("<!--", pos):
        if markup.startswith(">", pos + 4):
            return pos + 5
        if markup.startswith("->", pos + 4):
            return pos + 6
        return _skip_to(markup, "-->", pos + 4)
    if markup.startswith("<![CDATA[", pos):  # XHTML: its content is text
        close = markup.find("]]>", pos + 9)
        content_end = len(markup) if close < 0 else close
        out.data(markup[pos + 9 : content_end])
        return len(markup) if close < 0 else close + 3
    return _skip_to(markup, ">", pos + 2)


class _VisibleText:
    """Collects visible text, turning block structure into line breaks as it goes."""

    def __init__(self, budget: TextBudget) -> None:
        self.budget = budget
        self._out: list[str] = []
        self._pending_breaks = 0
        self._at_line_start = True
        self._hidden: list[str] = []  # open hidden elements, innermost last
        self._hidden_open: dict[str, int] = {}  # how many of each are open
        self._pre_depth = 0
        self._list_ordered: list[bool] = []  # per open list, innermost last
        self._list_items: list[int] = []
        self._cells: list[int] = []  # per open table row: cells so far

    def text(self) -> str:
        """The collected text, with non-breaking spaces as plain spaces and no outer blanks."""
        return "".join(self._out).replace("\xa0", " ").strip("\n ")

    # -- tokens -----------------------------------------------------------------------

    def start(self, tag: str, self_closing: bool = False) -> None:
        if tag == "body" or (self._hidden_open.get("head") and tag not in _HEAD_CONTENT
                             and self._hidden[-1] == "head"):
            self._close_hidden("head")
        if tag in _HIDDEN:
            if self_closing:  # <svg .../> in XHTML: nothing inside, nothing to hide
                return
            self._hidden.append(_CANONICAL[tag])
            self._hidden_open[tag] = self._hidden_open.get(tag, 0) + 1
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
            self._break(2 if not self._list_items else 1)
            self._list_ordered.append(tag == "ol")
            self._list_items.append(0)
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

    def end(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._close_hidden(tag)
            return
        if self._hidden:
            return
        if tag in ("ul", "ol"):
            if self._list_items:
                self._list_items.pop()
                self._list_ordered.pop()
            self._break(2 if not self._list_items else 1)
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

    def data(self, data: str) -> None:
        if self._hidden or not data:
            return
        if self._pre_depth:
            self._emit(data)
            return
        data = _WHITESPACE.sub(" ", data)
        if self._at_line_start or self._pending_breaks:
            data = data.lstrip(" ")
        if data:
            self._emit(data)

    # -- helpers ----------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        """Append text, first writing any line breaks the block structure asked for."""
        if self._pending_breaks and self._out:
            last = self._out[-1]
            if last.endswith(" "):
                self._out[-1] = last.rstrip(" ")
            self._out.append("\n" * self._pending_breaks)
            self.budget.add(self._pending_breaks)
        self._pending_breaks = 0
        self._out.append(text)
        self.budget.add(len(text))
        self._at_line_start = text.endswith("\n")

    def _break(self, count: int) -> None:
        """Ask for the next text to start after at least `count` line breaks."""
        if self._out:
            self._pending_breaks = max(self._pending_breaks, count)

    def _start_list_item(self) -> None:
        self._break(1)
        if not self._list_items:
            self._emit("- ")
            return
        self._list_items[-1] += 1
        indent = "  " * min(len(self._list_items) - 1, _MAX_INDENT)
        number = self._list_items[-1]
        self._emit(f"{indent}{number}. " if self._list_ordered[-1] else f"{indent}- ")

    def _start_cell(self) -> None:
        if not self._cells:  # a cell outside any <tr>: treat it as the start of a row
            self._break(1)
            self._cells.append(0)
        if self._cells[-1]:
            if self._out and not self._pending_breaks and self._out[-1].endswith(" "):
                self._out[-1] = self._out[-1].rstrip(" ")
            self._emit("| " if self._pending_breaks or self._at_line_start else " | ")
        self._cells[-1] += 1
        self._at_line_start = True  # drop the whitespace that opens the cell

    def _close_hidden(self, tag: str) -> None:
        """Close the innermost open hidden element named `tag` (and any left open inside it).

        Each element is popped once, so closing costs O(1) per opened element in all.
        """
        if not self._hidden_open.get(tag):
            return
        while self._hidden:
            popped = self._hidden.pop()
            self._hidden_open[popped] -= 1
            if popped == tag:
                return
