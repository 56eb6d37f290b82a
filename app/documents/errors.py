"""Typed errors for documents the app cannot turn into text, each saying what to do instead."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.errors import UserError


def _quoted(name: str) -> str:
    """A file name as it appears inside an error sentence."""
    return f"“{name}”"


class DocumentError(UserError):
    """Any document that could not be read; `name` is the file name shown to the user."""

    def __init__(self, name: str, message: str, hint: str) -> None:
        self.name = name
        super().__init__(message, hint)


class DocumentNotFoundError(DocumentError):
    """The file disappeared between the drop and the read, or the path is wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            path.name,
            f"{_quoted(path.name)} could not be found;",
            "check that it still exists and drop it again.",
        )


class DocumentAccessError(DocumentError):
    """The operating system refused to let the app read the file (permissions, a lock, I/O)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            path.name,
            f"{_quoted(path.name)} could not be opened ({reason});",
            "check that you may read it and that no other program has it locked, then try again.",
        )


class NotAFileError(DocumentError):
    """A folder, a device or a pipe was dropped instead of a regular file."""

    def __init__(self, path: Path, is_folder: bool = True) -> None:
        self.path = path
        if is_folder:
            message = f"{_quoted(path.name)} is a folder, not a document;"
            hint = "drop the files inside it one at a time."
        else:
            message = f"{_quoted(path.name)} is not a regular file (a device or a pipe);"
            hint = "save its contents to a file and drop that file."
        super().__init__(path.name, message, hint)


class DocumentTooLargeError(DocumentError):
    """The file on disk is over the size limit; it was refused before being read."""

    def __init__(self, name: str, size_bytes: int, limit_bytes: int) -> None:
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        super().__init__(
            name,
            f"{_quoted(name)} is {_human_size(size_bytes)}, over the {_human_size(limit_bytes)} "
            "limit for one document;",
            "split it into smaller files, or copy the part you need and paste it as text.",
        )


class EmptyDocumentError(DocumentError):
    """The file (or the paste) holds no text at all."""

    def __init__(self, name: str) -> None:
        super().__init__(
            name,
            f"{_quoted(name)} contains no text;",
            "check that you picked the right file.",
        )


class UnsupportedDocumentError(DocumentError):
    """The extension is not one the app can read; the message lists the kinds it can."""

    def __init__(self, name: str, suffix: str, supported: Iterable[str], advice: str = "") -> None:
        self.suffix = suffix
        self.supported = tuple(supported)
        *others, last = self.supported or ("text documents",)
        kinds = f"{', '.join(others)} and {last}" if others else last
        super().__init__(
            name,
            f"{_quoted(name)} is a {suffix} file, which the app cannot read;",
            advice or f"the app reads {kinds}.",
        )


class BinaryFileError(DocumentError):
    """The bytes are not text (NUL bytes, control codes): an image, an archive, a program."""

    def __init__(self, name: str) -> None:
        super().__init__(
            name,
            f"{_quoted(name)} is a binary file, not text;",
            "drop a text, PDF, Word (.docx), EPUB or HTML document instead.",
        )


class PdfEncryptedError(DocumentError):
    """The PDF needs a password to open (or uses encryption the app cannot undo)."""

    def __init__(self, name: str, detail: str = "is protected by a password") -> None:
        super().__init__(
            name,
            f"{_quoted(name)} {detail};",
            "open it in a PDF viewer with its password, save or print it as a new PDF "
            "without protection, and drop that copy.",
        )


class PdfBrokenError(DocumentError):
    """The PDF is damaged or cut short and no text could be recovered from it."""

    def __init__(self, name: str, detail: str = "is damaged or incomplete") -> None:
        super().__init__(
            name,
            f"{_quoted(name)} {detail} and could not be read;",
            "download or copy it again, or open it in a PDF viewer and save a fresh copy.",
        )


class PdfNoTextError(DocumentError):
    """Every page is an image: the PDF was scanned and has no text layer."""

    def __init__(self, name: str, pages: int) -> None:
        self.pages = pages
        super().__init__(
            name,
            f"{_quoted(name)} has no text layer on "
            f"{'its only page' if pages == 1 else f'any of its {pages} pages'} "
            "(it is probably scanned);",
            "run OCR on it first (for example with OCRmyPDF or your scanner's software), "
            "then drop the new PDF.",
        )


class DocxBrokenError(DocumentError):
    """The .docx is not a valid Word document (damaged, or another format renamed)."""

    def __init__(self, name: str, detail: str = "is not a valid Word (.docx) document") -> None:
        super().__init__(
            name,
            f"{_quoted(name)} {detail};",
            "open it in Word or LibreOffice and save it again as .docx (or as PDF), "
            "then drop the new file.",
        )


class EpubBrokenError(DocumentError):
    """The .epub is damaged, or its chapters are locked by DRM."""

    def __init__(self, name: str, drm: bool = False) -> None:
        self.drm = drm
        if drm:
            message = f"{_quoted(name)} is locked by DRM, so its text cannot be read;"
            hint = "use a DRM-free copy of the book, or export its text with the program you read it in."
        else:
            message = f"{_quoted(name)} is not a valid EPUB book (it is damaged or incomplete);"
            hint = (
                "get a fresh copy, or convert it to PDF or plain text in an e-book program "
                "such as Calibre, then drop that file."
            )
        super().__init__(name, message, hint)


def _human_size(size: int) -> str:
    """A byte count as a person reads it: 50 MB, 52.4 MB, 900 KB, 1.5 GB, 12 bytes."""
    if size < 1024:
        return f"{size} bytes"
    if size >= 1024**3:
        value, unit = size / 1024**3, "GB"
    else:
        value, unit = (size / 1024, "KB") if size < 1024 * 1024 else (size / (1024 * 1024), "MB")
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"


class DocumentTextTooLongError(DocumentError):
    """The text passed the characters cap while it was read: far more than any context holds."""

    def __init__(self, name: str, limit_chars: int) -> None:
        self.limit_chars = limit_chars
        super().__init__(
            name,
            f"{_quoted(name)} holds more than {limit_chars:,} characters of text, far more than "
            "the model can read at once (its largest context holds about a million);",
            "split it into smaller files, or copy the part you need and paste it as text.",
        )


class ArchiveTooLargeError(DocumentError):
    """A .docx or .epub (a zip archive) would inflate past the app's limits: refused unopened."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(
            name,
            f"{_quoted(name)} {detail}, more than the app unpacks from one document "
            "(it may be damaged or built to exhaust memory);",
            "if it is a real document, save it again in Word, LibreOffice or Calibre (or export "
            "it as PDF or text) and drop that file.",
        )

    @classmethod
    def members(cls, name: str, count: int, limit: int) -> ArchiveTooLargeError:
        return cls(name, f"holds {count:,} files inside (the limit is {limit:,})")

    @classmethod
    def ratio(cls, name: str, member: str, size: int, packed: int) -> ArchiveTooLargeError:
        return cls(name, f"has a part that unpacks from {_human_size(packed)} to "
                         f"{_human_size(size)} ({size // max(packed, 1):,} times its size)")

    @classmethod
    def total(cls, name: str, size: int, limit: int) -> ArchiveTooLargeError:
        return cls(name, f"unpacks to {_human_size(size)} (the limit is {_human_size(limit)})")

    @classmethod
    def markup(cls, name: str, size: int, limit: int) -> ArchiveTooLargeError:
        return cls(name, f"has {_human_size(size)} of text and markup to parse "
                         f"(the limit is {_human_size(limit)})")


class ReadCancelledError(DocumentError):
    """The read was stopped by the user (Cancel, a new document, the conversation closed)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, f"Reading {_quoted(name)} was stopped;", "nothing was attached.")


class MarkupTooLargeError(DocumentError):
    """An HTML document (or a book's chapters) holds more tags than the app parses."""

    def __init__(self, name: str, limit_tokens: int) -> None:
        self.limit_tokens = limit_tokens
        super().__init__(
            name,
            f"{_quoted(name)} holds more than {limit_tokens:,} tags and pieces of text, more "
            "than the app reads from one document (it may be damaged or built to stall readers);",
            "if it is a real document, save the part you need as plain text or PDF and drop that.",
        )


class PdfTooLargeError(DocumentError):
    """A PDF with more pages, or more drawing work, than the app reads from one document."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(
            name,
            f"{_quoted(name)} {detail}, more than the app reads from one document;",
            "split it into smaller PDFs (a PDF viewer can save page ranges) and drop the part "
            "you need.",
        )

    @classmethod
    def pages(cls, name: str, count: int, limit: int) -> PdfTooLargeError:
        return cls(name, f"has {count:,} pages (the limit is {limit:,})")

    @classmethod
    def operators(cls, name: str, limit: int) -> PdfTooLargeError:
        return cls(name, f"holds more than {limit:,} drawing instructions")
