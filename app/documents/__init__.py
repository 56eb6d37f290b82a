"""Readers that turn dropped files into text, with encoding detection and clear errors."""

from app.documents.errors import (
    ArchiveTooLargeError,
    BinaryFileError,
    DocumentAccessError,
    DocumentError,
    DocumentNotFoundError,
    DocumentTextTooLongError,
    DocumentTooLargeError,
    DocxBrokenError,
    EmptyDocumentError,
    EpubBrokenError,
    MarkupTooLargeError,
    NotAFileError,
    PdfBrokenError,
    PdfEncryptedError,
    PdfNoTextError,
    PdfTooLargeError,
    ReadCancelledError,
    UnsupportedDocumentError,
)
from app.documents.kinds import SUPPORTED_KINDS, SUPPORTED_SUFFIXES
from app.documents.limits import MAX_TEXT_CHARS, Cancel
from app.documents.reader import MAX_FILE_BYTES, read_document, read_pasted_text
from app.documents.result import DocumentKind, DocumentText

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_TEXT_CHARS",
    "SUPPORTED_KINDS",
    "SUPPORTED_SUFFIXES",
    "ArchiveTooLargeError",
    "BinaryFileError",
    "Cancel",
    "DocumentAccessError",
    "DocumentError",
    "DocumentKind",
    "DocumentNotFoundError",
    "DocumentText",
    "DocumentTextTooLongError",
    "DocumentTooLargeError",
    "DocxBrokenError",
    "EmptyDocumentError",
    "EpubBrokenError",
    "MarkupTooLargeError",
    "NotAFileError",
    "PdfBrokenError",
    "PdfEncryptedError",
    "PdfNoTextError",
    "PdfTooLargeError",
    "ReadCancelledError",
    "UnsupportedDocumentError",
    "read_document",
    "read_pasted_text",
]
