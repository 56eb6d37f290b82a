"""Builders of hostile documents, shared by the tests and bench/adversarial_docs.py.

Every input is generated here, in memory or in a folder given by the caller: zip bombs made
with zipfile (and central directories that declare what a bomb would), adversarial HTML of a
few MB, Word tables that span 100 M columns, PDFs whose streams inflate past pypdf's limits.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable
from io import BytesIO

MB = 1024 * 1024
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

# -- zip archives -------------------------------------------------------------------------------


def declare_sizes(data: bytes, member: str, *, size: int, packed: int | None = None) -> bytes:
    """`data` with the central directory saying `member` inflates to `size` (from `packed`).

    What zipfile (and our checks) trust; a real bomb's directory says the same.
    """
    out = bytearray(data)
    name = member.encode()
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, pos + 28)
        if bytes(out[pos + 46:pos + 46 + name_len]) == name:
            if packed is not None:
                struct.pack_into("<I", out, pos + 20, packed)
            struct.pack_into("<I", out, pos + 24, size)
            return bytes(out)
        pos = out.find(b"PK\x01\x02", pos + 46 + name_len + extra_len + comment_len)
    raise KeyError(member)


def zeros_member(archive: zipfile.ZipFile, name: str, megabytes: int) -> None:
    """Add a member of `megabytes` MB of zeros, streamed (it deflates about a thousandfold)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w") as handle:
        chunk = bytes(MB)
        for _ in range(megabytes):
            handle.write(chunk)


def rewrite_zip(data: bytes, replace: dict[str, bytes] | None = None,
                add: Callable[[zipfile.ZipFile], None] | None = None) -> bytes:
    """A copy of a zip archive with some members replaced and others added (deflated)."""
    replace = replace or {}
    source = zipfile.ZipFile(BytesIO(data))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        if add is not None:
            add(archive)
    return out.getvalue()


def many_members_zip(count: int) -> bytes:
    """A zip of `count` empty members (the central directory alone is large)."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for index in range(count):
            archive.writestr(f"f{index}", b"")
    return out.getvalue()


# -- Word -----------------------------------------------------------------------------------------


def docx_with_body(template: bytes, body: str) -> bytes:
    """A .docx whose document body is `body` (WordprocessingML), the rest from `template`."""
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>').encode()
    return rewrite_zip(template, {"word/document.xml": xml})


def grid_span_bomb_body(columns: int = 100_000_000) -> str:
    """One table cell spanning `columns` grid columns (python-docx made one cell per column)."""
    return (f'<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="{columns}"/></w:tcPr>'
            "<w:p><w:r><w:t>wide cell</w:t></w:r></w:p></w:tc>"
            "<w:tc><w:p><w:r><w:t>next</w:t></w:r></w:p></w:tc></w:tr></w:tbl>")


def vertical_merge_body(rows: int) -> str:
    """A column merged down `rows` rows (python-docx walked each one back to the first)."""
    first = ('<w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>top</w:t>'
             "</w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>row 0</w:t></w:r></w:p></w:tc></w:tr>")
    rest = "".join(f"<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p><w:r>"
                   f"<w:t>row {index}</w:t></w:r></w:p></w:tc></w:tr>" for index in range(1, rows))
    return f"<w:tbl>{first}{rest}</w:tbl>"


# -- HTML -----------------------------------------------------------------------------------------


def adversarial_html(megabytes: float = 2) -> dict[str, str]:
    """Inputs that make naive HTML parsers quadratic, deep or huge, each about `megabytes` MB."""
    n = int(megabytes * MB)
    return {
        "'</' repeated": "</" * (n // 2),
        "'<' repeated": "<" * n,
        "'<a' repeated (unfinished tags)": "<a" * (n // 2),
        "deep nesting (div)": "<div>" * (n // 5) + "deep" + "</div>" * 10,
        "deep nesting (ul/li)": "<ul><li>x" * (n // 9),
        "hidden nesting (svg) then stray closes": "<svg>" * (n // 10) + "</head>" * (n // 14),
        "one huge attribute": '<p title="' + "x" * n + '">after</p>',
        "unterminated quoted attribute": '<p title="' + "x>" * (n // 2),
        "'=\"' repeated inside a tag": "<p " + '="' * (n // 2),
        "comment openers": "<!--" * (n // 4),
        "comment with '--' inside": "<!--" + "-- " * (n // 3) + "-->visible",
        "CDATA openers": "<![CDATA[" * (n // 9),
        "script never closed": "<script>" + "</scrip" * (n // 7),
        "entity flood": "&amp;" * (n // 5),
        "numeric entity of a million digits": "&#" + "9" * n + ";",
        "named-entity prefixes": "&notit" * (n // 6),
        "table cells without rows": "<td>x" * (n // 5),
    }


# -- PDF ------------------------------------------------------------------------------------------


def pdf_with_streams(streams: list[bytes], *, deflate: bool = True) -> bytes:
    """A PDF of one page per content stream (deflated when asked), written by hand."""
    count = len(streams)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * index) for index in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for index, stream in enumerate(streams):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * index))
        body = zlib.compress(stream, 9) if deflate else stream
        filters = b" /Filter /FlateDecode" if deflate else b""
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(body), filters) + body + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_page(line: str) -> bytes:
    """A content stream that shows one line of text."""
    return b"BT /F1 12 Tf 72 720 Td (" + line.encode("latin-1") + b") Tj ET"
