"""Typed errors for documents the app cannot turn into text, each saying what to do instead."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.errors import UserError
from app.sentences import say


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
            say("“{name}” could not be found;", name=path.name),
            say("check that it still exists and drop it again."),
        )


class DocumentAccessError(DocumentError):
    """The operating system refused to let the app read the file (permissions, a lock, I/O)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            path.name,
            say("“{name}” could not be opened ({reason});", name=path.name, reason=reason),
            say("check that you may read it and that no other program has it locked, then try again."),
        )


class NotAFileError(DocumentError):
    """A folder, a device or a pipe was dropped instead of a regular file."""

    def __init__(self, path: Path, is_folder: bool = True) -> None:
        self.path = path
        if is_folder:
            message = say("“{name}” is a folder, not a document;", name=path.name)
            hint = say("drop the files inside it one at a time.")
        else:
            message = say("“{name}” is not a regular file (a device or a pipe);", name=path.name)
            hint = say("save its contents to a file and drop that file.")
        super().__init__(path.name, message, hint)


class DocumentTooLargeError(DocumentError):
    """The file on disk is over the size limit; it was refused before being read."""

    def __init__(self, name: str, size_bytes: int, limit_bytes: int) -> None:
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        super().__init__(
            name,
            say("“{name}” is {size}, over the {limit} limit for one document;", name=name,
                size=_human_size(size_bytes), limit=_human_size(limit_bytes)),
            say("split it into smaller files, or copy the part you need and paste it as text."),
        )


class EmptyDocumentError(DocumentError):
    """The file (or the paste) holds no text at all."""

    def __init__(self, name: str) -> None:
        super().__init__(
            name,
            say("“{name}” contains no text;", name=name),
            say("check that you picked the right file."),
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
            say("“{name}” is a {suffix} file, which the app cannot read;", name=name, suffix=suffix),
            advice or say("the app reads {kinds}.", kinds=kinds),
        )


class BinaryFileError(DocumentError):
    """The bytes are not text (NUL bytes, control codes): an image, an archive, a program."""

    def __init__(self, name: str) -> None:
        super().__init__(
            name,
            say("“{name}” is a binary file, not text;", name=name),
            say("drop a text, PDF, Word (.docx), EPUB or HTML document instead."),
        )


class PdfEncryptedError(DocumentError):
    """The PDF needs a password to open (or uses encryption the app cannot undo)."""

    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(
            name,
            say("“{name}” {detail};", name=name, detail=detail or say("is protected by a password")),
            say("open it in a PDF viewer with its password, save or print it as a new PDF "
                "without protection, and drop that copy."),
        )


class PdfBrokenError(DocumentError):
    """The PDF is damaged or cut short and no text could be recovered from it."""

    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(
            name,
            say("“{name}” {detail} and could not be read;", name=name,
                detail=detail or say("is damaged or incomplete")),
            say("download or copy it again, or open it in a PDF viewer and save a fresh copy."),
        )


class PdfNoTextError(DocumentError):
    """Every page is an image: the PDF was scanned and has no text layer."""

    def __init__(self, name: str, pages: int) -> None:
        self.pages = pages
        super().__init__(
            name,
            say("“{name}” has no text layer on its only page (it is probably scanned);", name=name)
            if pages == 1 else
            say("“{name}” has no text layer on any of its {pages} pages (it is probably scanned);",
                name=name, pages=pages),
            say("run OCR on it first (for example with OCRmyPDF or your scanner's software), "
                "then drop the new PDF."),
        )


class DocxBrokenError(DocumentError):
    """The .docx is not a valid Word document (damaged, or another format renamed)."""

    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(
            name,
            say("“{name}” {detail};", name=name, detail=detail or say("is not a valid Word (.docx) document")),
            say("open it in Word or LibreOffice and save it again as .docx (or as PDF), "
                "then drop the new file."),
        )


class EpubBrokenError(DocumentError):
    """The .epub is damaged, or its chapters are locked by DRM."""

    def __init__(self, name: str, drm: bool = False) -> None:
        self.drm = drm
        if drm:
            message = say("“{name}” is locked by DRM, so its text cannot be read;", name=name)
            hint = say("use a DRM-free copy of the book, or export its text with the program you read it in.")
        else:
            message = say("“{name}” is not a valid EPUB book (it is damaged or incomplete);", name=name)
            hint = say("get a fresh copy, or convert it to PDF or plain text in an e-book program "
                       "such as Calibre, then drop that file.")
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
            say("“{name}” holds more than {limit} characters of text, far more than the model can "
                "read at once (its largest context holds about a million);", name=name, limit=f"{limit_chars:,}"),
            say("split it into smaller files, or copy the part you need and paste it as text."),
        )


class ArchiveTooLargeError(DocumentError):
    """A .docx or .epub (a zip archive) would inflate past the app's limits: refused unopened."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(
            name,
            say("“{name}” {detail}, more than the app unpacks from one document (it may be damaged "
                "or built to exhaust memory);", name=name, detail=detail),
            say("if it is a real document, save it again in Word, LibreOffice or Calibre (or export "
                "it as PDF or text) and drop that file."),
        )

    @classmethod
    def members(cls, name: str, count: int, limit: int) -> ArchiveTooLargeError:
        return cls(name, say("holds {count} files inside (the limit is {limit})", count=f"{count:,}",
                             limit=f"{limit:,}"))

    @classmethod
    def ratio(cls, name: str, member: str, size: int, packed: int) -> ArchiveTooLargeError:
        return cls(name, say("has a part that unpacks from {packed} to {size} ({times} times its size)",
                             packed=_human_size(packed), size=_human_size(size),
                             times=f"{size // max(packed, 1):,}"))

    @classmethod
    def total(cls, name: str, size: int, limit: int) -> ArchiveTooLargeError:
        return cls(name, say("unpacks to {size} (the limit is {limit})", size=_human_size(size),
                             limit=_human_size(limit)))

    @classmethod
    def markup(cls, name: str, size: int, limit: int) -> ArchiveTooLargeError:
        return cls(name, say("has {size} of text and markup to parse (the limit is {limit})",
                             size=_human_size(size), limit=_human_size(limit)))


class ReadCancelledError(DocumentError):
    """The read was stopped by the user (Cancel, a new document, the conversation closed)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, say("Reading “{name}” was stopped;", name=name), say("nothing was attached."))


class MarkupTooLargeError(DocumentError):
    """An HTML document (or a book's chapters) holds more tags than the app parses."""

    def __init__(self, name: str, limit_tokens: int) -> None:
        self.limit_tokens = limit_tokens
        super().__init__(
            name,
            say("“{name}” holds more than {limit} tags and pieces of text, more than the app reads "
                "from one document (it may be damaged or built to stall readers);", name=name,
                limit=f"{limit_tokens:,}"),
            say("if it is a real document, save the part you need as plain text or PDF and drop that."),
        )


class PdfTooLargeError(DocumentError):
    """A PDF with more pages, or more drawing work, than the app reads from one document."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(
            name,
            say("“{name}” {detail}, more than the app reads from one document;", name=name, detail=detail),
            say("split it into smaller PDFs (a PDF viewer can save page ranges) and drop the part "
                "you need."),
        )

    @classmethod
    def pages(cls, name: str, count: int, limit: int) -> PdfTooLargeError:
        return cls(name, say("has {count} pages (the limit is {limit})", count=f"{count:,}", limit=f"{limit:,}"))

    @classmethod
    def operators(cls, name: str, limit: int) -> PdfTooLargeError:
        return cls(name, say("holds more than {limit} drawing instructions", limit=f"{limit:,}"))
