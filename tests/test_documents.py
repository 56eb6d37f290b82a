"""Tests for app.documents: every input file is built in tmp_path while the test runs."""

from __future__ import annotations

import codecs
import hashlib
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pypdf import PdfReader, PdfWriter

from app.documents import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    BinaryFileError,
    DocumentError,
    DocumentKind,
    DocumentNotFoundError,
    DocumentTooLargeError,
    DocxBrokenError,
    EmptyDocumentError,
    EpubBrokenError,
    NotAFileError,
    PdfBrokenError,
    PdfEncryptedError,
    PdfNoTextError,
    UnsupportedDocumentError,
    read_document,
    read_pasted_text,
)
from app.errors import UserError

REPO = Path(__file__).resolve().parents[1]
MIXED = "中文和English混合的文本：第一行。\nSecond line, with 标点符号！\n"


# -- builders -------------------------------------------------------------------------


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def build_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF written by hand: one Helvetica text line per string, [] = blank page."""
    count = len(pages)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * index) for index in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for index, lines in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * index)
        )
        ops = [b"BT /F1 12 Tf 14 TL 72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(b"(" + escaped.encode("cp1252") + b") Tj T*")
        stream = b"\n".join([*ops, b"ET"]) if lines else b""
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def encrypt_pdf(data: bytes, user: str, owner: str | None, algorithm: str = "RC4-128") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(BytesIO(data)))
    writer.encrypt(user, owner, algorithm=algorithm)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def build_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Annual report", level=0)
    document.add_paragraph("Opening paragraph with 中文.")
    document.add_heading("Figures", level=2)
    table = document.add_table(rows=2, cols=3)
    for row, cells in enumerate([("Name", "Value", "Unit"), ("speed", "12", "km/h")]):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    document.add_paragraph("")  # an empty paragraph adds nothing
    document.add_paragraph("Closing paragraph.")
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def build_epub(encrypt_chapter: bool = False) -> bytes:
    container = (
        '<?xml version="1.0"?><container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    # The manifest lists chapter 2 first: the spine, not the manifest, sets the reading order.
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        "<manifest>"
        '<item id="c2" href="text/chapter%202.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="c1" href="text/ch1.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="css" href="style.css" media-type="text/css"/>'
        '</manifest><spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>'
    )

    def chapter(title: str, body: str) -> str:
        return (
            '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{title} (head)</title></head><body><h1>{title}</h1>"
            f"<p>{body}</p></body></html>"
        )

    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("OEBPS/content.opf", opf)
        archive.writestr("OEBPS/style.css", "p { color: red }")
        archive.writestr("OEBPS/text/ch1.xhtml", chapter("Chapter One", "It begins &amp; goes on."))
        archive.writestr("OEBPS/text/chapter 2.xhtml", chapter("Chapter Two", "第二章的内容。"))
        if encrypt_chapter:
            archive.writestr(
                "META-INF/encryption.xml",
                '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
                'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
                '<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
                '<enc:CipherData><enc:CipherReference URI="OEBPS/text/ch1.xhtml"/>'
                "</enc:CipherData></enc:EncryptedData></encryption>",
            )
    return out.getvalue()


def assert_actionable(err: UserError, name: str) -> None:
    """The error names the file and reads as one line a person can act on."""
    text = str(err)
    assert isinstance(err, DocumentError)
    assert name in text
    assert "\n" not in text
    assert text.endswith(".")


# -- plain text and encodings ---------------------------------------------------------


def test_utf8_text_file_gives_text_hash_and_kind(tmp_path: Path) -> None:
    data = MIXED.encode("utf-8")
    doc = read_document(write(tmp_path, "notes.txt", data))
    assert doc.text == MIXED
    assert doc.characters == len(MIXED)
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert (doc.name, doc.kind, doc.encoding, doc.pages, doc.warnings) == (
        "notes.txt",
        DocumentKind.TEXT,
        "utf-8",
        None,
        [],
    )


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_marks_pick_the_encoding_and_are_dropped(
    tmp_path: Path, bom: bytes, encoding: str
) -> None:
    doc = read_document(write(tmp_path, "bom.md", bom + MIXED.encode(encoding)))
    assert doc.text == MIXED
    assert doc.encoding == encoding
    assert doc.kind == DocumentKind.MARKDOWN
    assert doc.warnings == []


def test_utf16_without_bom_is_recognised(tmp_path: Path) -> None:
    text = "Plain English saved as UTF-16 by an old tool.\nSecond line.\n"
    doc = read_document(write(tmp_path, "old.txt", text.encode("utf-16-le")))
    assert doc.text == text
    assert doc.encoding == "utf-16-le"


@pytest.mark.parametrize("codec", ["gb18030", "gbk"])
def test_chinese_legacy_encodings_are_detected(tmp_path: Path, codec: str) -> None:
    text = "简体中文的文件，用旧编码保存。\n第二行：数字123和English。\n"
    doc = read_document(write(tmp_path, "chinese.txt", text.encode(codec)))
    assert doc.text == text
    assert doc.encoding == "gb18030"
    assert doc.warnings == []


def test_unknown_encoding_uses_replacement_characters_and_warns(tmp_path: Path) -> None:
    # Every high byte once: no code page reads this as text, so it stays UTF-8 with a warning.
    data = b"Menu: " + bytes(range(0x80, 0x100)) * 4 + b"\n"
    doc = read_document(write(tmp_path, "menu.txt", data))
    assert doc.text == "Menu: " + "\ufffd" * 512 + "\n"
    assert len(doc.warnings) == 1
    assert "menu.txt" in doc.warnings[0]
    assert "512 characters" in doc.warnings[0]
    assert "UTF-8" in doc.warnings[0]


def test_one_bad_byte_in_utf8_keeps_the_rest(tmp_path: Path) -> None:
    data = MIXED.encode("utf-8") + b"\xff" + "尾巴".encode()
    doc = read_document(write(tmp_path, "damaged.txt", data))
    assert doc.text == MIXED + "\ufffd尾巴"
    assert doc.encoding == "utf-8"
    assert "1 character could not be decoded" in doc.warnings[0]


def test_line_ends_are_normalised_and_stray_nul_removed(tmp_path: Path) -> None:
    head = "x" * 9000  # a NUL far from the start is a stray byte, not a sign of binary data
    data = f"{head}\r\nwindows\r\nold mac\rend".encode() + b"\x00!"
    doc = read_document(write(tmp_path, "lines.log", data))
    assert doc.text == f"{head}\nwindows\nold mac\nend!"


def test_source_code_is_read_as_code(tmp_path: Path) -> None:
    source = 'def greet() -> str:\n    return "你好"\n'
    for name in ("hello.py", "main.rs", "config.yaml", "data.csv", "query.sql"):
        doc = read_document(write(tmp_path, name, source.encode()))
        assert (doc.kind, doc.text) == (DocumentKind.CODE, source)
    assert {".py", ".ts", ".go", ".json", ".toml", ".sh", ".css", ".h"} <= SUPPORTED_SUFFIXES


def test_file_without_extension_is_read_when_it_is_text(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "Makefile", b"all:\n\tcc main.c\n"))
    assert (doc.kind, doc.text) == (DocumentKind.TEXT, "all:\n\tcc main.c\n")


def test_file_without_extension_is_sniffed_as_pdf(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "download", build_pdf([["Sniffed by content"]])))
    assert doc.kind == DocumentKind.PDF
    assert doc.text == "--- Page 1 ---\nSniffed by content"


@pytest.mark.parametrize("name", ["photo.txt", "program"])
def test_binary_file_is_refused(tmp_path: Path, name: str) -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    with pytest.raises(BinaryFileError) as caught:
        read_document(write(tmp_path, name, data))
    assert_actionable(caught.value, name)
    assert "binary" in str(caught.value)


def test_two_hundred_thousand_mixed_characters_are_read_exactly(tmp_path: Path) -> None:
    line = "第{0}行：InternLM2 reads long documents whole，中文与English混排。\n"
    text = "".join(line.format(index) for index in range(5000))[:200_000]
    assert len(text) == 200_000
    for codec, name in (("utf-8", "long.md"), ("gb18030", "long-gb.txt")):
        doc = read_document(write(tmp_path, name, text.encode(codec)))
        assert doc.characters == 200_000
        assert doc.text == text
        assert doc.warnings == []


# -- limits and file-system errors ----------------------------------------------------


def test_oversized_file_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: instant, takes no disk space

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    with pytest.raises(DocumentTooLargeError) as caught:
        read_document(path)
    assert_actionable(caught.value, "huge.txt")
    assert "50 MB limit" in str(caught.value)
    assert "split it" in str(caught.value)


def test_size_limit_can_be_lowered(tmp_path: Path) -> None:
    path = write(tmp_path, "small.txt", b"a" * 2048)
    assert read_document(path, max_bytes=2048).characters == 2048
    with pytest.raises(DocumentTooLargeError, match=r"2 KB, over the 1 KB limit"):
        read_document(path, max_bytes=1024)


@pytest.mark.parametrize("content", [b"", b" \n\r\n\t "])
def test_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(EmptyDocumentError) as caught:
        read_document(write(tmp_path, "blank.txt", content))
    assert_actionable(caught.value, "blank.txt")


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentNotFoundError) as missing:
        read_document(tmp_path / "gone.txt")
    assert_actionable(missing.value, "gone.txt")
    (tmp_path / "folder").mkdir()
    with pytest.raises(NotAFileError, match="folder"):
        read_document(tmp_path / "folder")


def test_unsupported_extension_lists_supported_kinds(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedDocumentError) as caught:
        read_document(write(tmp_path, "movie.mkv", b"\x1aE\xdf\xa3"))
    message = str(caught.value)
    assert_actionable(caught.value, "movie.mkv")
    for kind in ("plain text", "source code", "HTML", "PDF", "Word (.docx)", "EPUB"):
        assert kind in message


def test_unsupported_office_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedDocumentError, match=r"save it as \.docx or PDF"):
        read_document(write(tmp_path, "old.doc", b"\xd0\xcf\x11\xe0"))


# -- HTML ----------------------------------------------------------------------------


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    page = """<!DOCTYPE html><html><head><title>Tab title</title>
    <style>p { color: red }</style><script>var s = "<p>hidden</p>";</script></head>
    <body><!-- a comment --><h2>Main   heading</h2>
    <p>Fish &amp; chips&nbsp;cost &lt;5&gt; &#20013;&#x6587;.</p><div>Block one</div><div>Two<br>Three</div>
    <ul><li>first</li><li>second</li></ul>
    <table><tr><th>Name</th><th>Qty</th></tr><tr><td> tea </td><td>2</td></tr></table>
    <noscript>Enable JavaScript</noscript></body></html>"""
    doc = read_document(write(tmp_path, "page.html", page.encode()))
    assert doc.kind == DocumentKind.HTML
    assert doc.text == (
        "## Main heading\n\n"
        "Fish & chips cost <5> 中文.\n\n"
        "Block one\nTwo\nThree\n\n"
        "- first\n- second\n\n"
        "Name | Qty\ntea | 2"
    )


def test_html_with_old_conditional_sections_is_read(tmp_path: Path) -> None:
    page = "<p>Before</p><![if !IE]><p>Modern browsers</p><![endif]><p>After</p>"
    doc = read_document(write(tmp_path, "legacy.html", page.encode()))
    assert doc.text == "Before\n\nModern browsers\n\nAfter"


def test_html_declared_charset_is_used(tmp_path: Path) -> None:
    page = '<html><head><meta charset="gbk"></head><body><p>网页正文</p></body></html>'
    doc = read_document(write(tmp_path, "old.htm", page.encode("gbk")))
    assert doc.text == "网页正文"
    assert doc.warnings == []


# -- PDF -----------------------------------------------------------------------------


def test_pdf_text_has_page_markers(tmp_path: Path) -> None:
    data = build_pdf([["Hello (page one)", "Second line"], ["Page two text"], ["Last page"]])
    doc = read_document(write(tmp_path, "paper.pdf", data))
    assert doc.kind == DocumentKind.PDF
    assert doc.pages == 3
    assert doc.text == (
        "--- Page 1 ---\nHello (page one)\nSecond line\n\n"
        "--- Page 2 ---\nPage two text\n\n"
        "--- Page 3 ---\nLast page"
    )
    assert doc.warnings == []
    assert doc.sha256 == hashlib.sha256(data).hexdigest()


def test_pdf_page_without_text_is_named_in_a_warning(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "mixed.pdf", build_pdf([["Typed page"], []])))
    assert doc.text == "--- Page 1 ---\nTyped page\n\n--- Page 2 ---"
    assert len(doc.warnings) == 1
    assert "Page 2 of “mixed.pdf” has no text layer" in doc.warnings[0]


def test_scanned_pdf_asks_for_ocr(tmp_path: Path) -> None:
    with pytest.raises(PdfNoTextError) as caught:
        read_document(write(tmp_path, "scan.pdf", build_pdf([[], []])))
    assert_actionable(caught.value, "scan.pdf")
    assert "no text layer" in str(caught.value)
    assert "OCR" in str(caught.value)


def test_password_protected_pdf_is_refused(tmp_path: Path) -> None:
    data = encrypt_pdf(build_pdf([["Secret"]]), user="letmein", owner="owner")
    with pytest.raises(PdfEncryptedError) as caught:
        read_document(write(tmp_path, "locked.pdf", data))
    assert_actionable(caught.value, "locked.pdf")
    assert "password" in str(caught.value)


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    data = encrypt_pdf(build_pdf([["Restricted but readable"]]), user="", owner="owner")
    doc = read_document(write(tmp_path, "restricted.pdf", data))
    assert doc.text == "--- Page 1 ---\nRestricted but readable"


def test_aes_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    data = encrypt_pdf(build_pdf([["AES text"]]), user="", owner="owner", algorithm="AES-256")
    doc = read_document(write(tmp_path, "aes.pdf", data))
    assert doc.text == "--- Page 1 ---\nAES text"


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_pdf_is_refused(tmp_path: Path, keep: float) -> None:
    data = build_pdf([[f"Page {page} line {line}" for line in range(20)] for page in range(5)])
    with pytest.raises(PdfBrokenError) as caught:
        read_document(write(tmp_path, "cut.pdf", data[: int(len(data) * keep)]))
    assert_actionable(caught.value, "cut.pdf")
    assert "download or copy it again" in str(caught.value)


def test_text_file_named_pdf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PdfBrokenError, match="not a PDF file"):
        read_document(write(tmp_path, "fake.pdf", b"just some text"))


# -- Word ----------------------------------------------------------------------------


def test_docx_keeps_headings_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "report.docx", build_docx()))
    assert doc.kind == DocumentKind.DOCX
    assert doc.text == (
        "# Annual report\n\n"
        "Opening paragraph with 中文.\n\n"
        "## Figures\n\n"
        "Name | Value | Unit\nspeed | 12 | km/h\n\n"
        "Closing paragraph."
    )


def test_docx_custom_heading_style_and_merged_cells(tmp_path: Path) -> None:
    document = docx.Document()
    style = document.styles.add_style("Section Title", WD_STYLE_TYPE.PARAGRAPH)
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), "1")  # outline level 1 (0-based): a second-level heading
    style.element.get_or_add_pPr().append(outline)
    document.add_paragraph("第一节  概述", style="Section Title")
    table = document.add_table(rows=1, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "spans two columns"
    table.cell(0, 2).text = "third"
    out = BytesIO()
    document.save(out)
    doc = read_document(write(tmp_path, "custom.docx", out.getvalue()))
    assert doc.text == "## 第一节 概述\n\nspans two columns | third"


@pytest.mark.parametrize(
    "data",
    [b"plain text, not a zip", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "truncated"],
)
def test_broken_docx_is_refused(tmp_path: Path, data: bytes | str) -> None:
    if data == "truncated":
        whole = build_docx()
        data = whole[: len(whole) // 2]
    assert isinstance(data, bytes)
    with pytest.raises(DocxBrokenError) as caught:
        read_document(write(tmp_path, "broken.docx", data))
    assert_actionable(caught.value, "broken.docx")
    assert "save it again" in str(caught.value)


def test_zip_without_a_word_document_is_refused(tmp_path: Path) -> None:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not word")
    with pytest.raises(DocxBrokenError):
        read_document(write(tmp_path, "renamed.docx", out.getvalue()))


# -- EPUB ----------------------------------------------------------------------------


def test_epub_chapters_follow_the_spine(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "book.epub", build_epub()))
    assert doc.kind == DocumentKind.EPUB
    assert doc.text == ("# Chapter One\n\nIt begins & goes on.\n\n# Chapter Two\n\n第二章的内容。")


def test_epub_locked_by_drm_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EpubBrokenError, match="DRM"):
        read_document(write(tmp_path, "drm.epub", build_epub(encrypt_chapter=True)))


def test_broken_epub_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EpubBrokenError) as caught:
        read_document(write(tmp_path, "bad.epub", build_epub()[:200]))
    assert_actionable(caught.value, "bad.epub")


# -- pasted text and the layer rule ---------------------------------------------------


def test_pasted_text_is_normalised_and_hashed() -> None:
    doc = read_pasted_text("line one\r\nline two\x00\r\n")
    assert (doc.name, doc.kind, doc.path) == ("Pasted text", DocumentKind.PASTED, None)
    assert doc.text == "line one\nline two\n"
    assert doc.characters == len("line one\nline two\n")
    assert doc.sha256 == hashlib.sha256(b"line one\r\nline two\x00\r\n").hexdigest()


def test_empty_paste_is_refused() -> None:
    with pytest.raises(EmptyDocumentError, match="Clipboard"):
        read_pasted_text("  \n ", name="Clipboard")


def test_documents_package_imports_no_qt() -> None:
    code = (
        "import sys, app.documents; "
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6')]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
