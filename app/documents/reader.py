"""The front door for documents: pick a reader by extension, enforce limits, build the result.

Runs on a worker thread (never the GUI thread); every failure a user can meet is a
DocumentError (a UserError) whose str() says what to do.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from app.documents.epub import ZIP_ERRORS, read_epub
from app.documents.errors import (
    DocumentAccessError,
    DocumentError,
    DocumentNotFoundError,
    DocumentTextTooLongError,
    DocumentTooLargeError,
    EmptyDocumentError,
    NotAFileError,
    UnsupportedDocumentError,
)
from app.documents.html_text import read_html
from app.documents.kinds import KIND_BY_SUFFIX, SUPPORTED_KINDS, advice_for
from app.documents.limits import MAX_TEXT_CHARS, Cancel, check_cancel, open_checked_zip
from app.documents.result import DocumentKind, DocumentText, Extraction, normalize_text, sha256_hex
from app.documents.text import decode_bytes
from app.sentences import say


def _lazy(module: str, name: str) -> Callable[..., Extraction]:
    """A reader imported on first use: pypdf and python-docx stay out of the app's start-up."""

    def call(*args: object, **kwargs: object) -> Extraction:
        import importlib

        impl: Callable[..., Extraction] = getattr(importlib.import_module(module), name)
        return impl(*args, **kwargs)

    return call


read_pdf = _lazy("app.documents.pdf", "read_pdf")
read_docx = _lazy("app.documents.docx_text", "read_docx")

#: Files bigger than this on disk are refused before they are read.
MAX_FILE_BYTES = 50 * 1024 * 1024

_Reader = Callable[[bytes, str, Cancel], Extraction]

_READERS: dict[DocumentKind, _Reader] = {
    DocumentKind.TEXT: lambda data, name, cancel: decode_bytes(data, name, cancel=cancel),
    DocumentKind.MARKDOWN: lambda data, name, cancel: decode_bytes(data, name, cancel=cancel),
    DocumentKind.CODE: lambda data, name, cancel: decode_bytes(data, name, cancel=cancel),
    DocumentKind.HTML: read_html,
    DocumentKind.PDF: read_pdf,
    DocumentKind.DOCX: read_docx,
    DocumentKind.EPUB: read_epub,
}


def read_document(path: Path, max_bytes: int = MAX_FILE_BYTES,
                  cancel: Cancel = None) -> DocumentText:
    """Turn a dropped file into text.

    Raises a DocumentError (a UserError) for anything the user must fix: a missing or
    unreadable file, one over `max_bytes`, an unsupported kind, binary data, a PDF, .docx or
    EPUB that cannot give text, an archive that would unpack past the limits, text past
    MAX_TEXT_CHARS. `cancel` (a threading.Event or a callable) is checked throughout: once it
    is set, the read stops within a fraction of a second with ReadCancelledError.
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix and suffix not in KIND_BY_SUFFIX:
        raise UnsupportedDocumentError(name, suffix, SUPPORTED_KINDS, advice_for(suffix))
    data = _read_bytes(path, max_bytes)
    if not data:
        raise EmptyDocumentError(name)
    check_cancel(cancel, name)
    kind = KIND_BY_SUFFIX[suffix] if suffix else _sniff(data, name)
    extraction = _READERS[kind](data, name, cancel)
    check_cancel(cancel, name)
    text = normalize_text(extraction.text)
    if not text.strip():
        raise EmptyDocumentError(name)
    return DocumentText(
        name=name,
        path=path,
        kind=kind,
        text=text,
        sha256=sha256_hex(data),
        warnings=list(extraction.warnings),
        pages=extraction.pages,
        encoding=extraction.encoding,
    )


def read_pasted_text(text: str, name: str = "Pasted text") -> DocumentText:
    """Wrap text pasted into the app as a document (normalised like a file's text)."""
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentTextTooLongError(name, MAX_TEXT_CHARS)
    normalized = normalize_text(text)
    if not normalized.strip():
        raise EmptyDocumentError(name)
    return DocumentText(
        name=name,
        path=None,
        kind=DocumentKind.PASTED,
        text=normalized,
        sha256=sha256_hex(text.encode("utf-8", errors="surrogatepass")),
    )


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing folders, devices and files over the limit before reading."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise NotAFileError(path)
        if not stat.S_ISREG(info.st_mode):
            raise NotAFileError(path, is_folder=False)
        if info.st_size > max_bytes:
            raise DocumentTooLargeError(path.name, info.st_size, max_bytes)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise DocumentNotFoundError(path) from exc
    except PermissionError as exc:
        raise DocumentAccessError(path, say("permission denied")) from exc
    except OSError as exc:
        raise DocumentAccessError(path, exc.strerror or type(exc).__name__) from exc
    if len(data) > max_bytes:  # the file grew after stat()
        raise DocumentTooLargeError(path.name, len(data), max_bytes)
    return data


class _NotAnArchive(DocumentError):
    """Sniffing found no readable archive (the text reader then has its say)."""


_SNIFF_ERRORS: tuple[type[Exception], ...] = (*ZIP_ERRORS, _NotAnArchive)


def _sniff(data: bytes, name: str) -> DocumentKind:
    """The reader for a file without an extension: PDF, .docx and EPUB by content, else text.

    An archive is checked like any other before a member is read (a bomb is refused here).
    """
    if data.startswith(b"%PDF-"):
        return DocumentKind.PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            with open_checked_zip(data, name, lambda: _NotAnArchive(name, "", "")) as archive:
                names = set(archive.namelist())
                if "word/document.xml" in names:
                    return DocumentKind.DOCX
                if (
                    "mimetype" in names
                    and archive.read("mimetype").strip() == b"application/epub+zip"
                ):
                    return DocumentKind.EPUB
        except _SNIFF_ERRORS:
            pass  # not a readable archive: let the text reader say it is binary
    return DocumentKind.TEXT
