"""Readers that turn dropped files into text, with encoding detection and clear errors."""

from app.documents.errors import (
    BinaryFileError,
    DocumentAccessError,
    DocumentError,
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
)
from app.documents.kinds import SUPPORTED_KINDS, SUPPORTED_SUFFIXES
from app.documents.reader import MAX_FILE_BYTES, read_document, read_pasted_text
from app.documents.result import DocumentKind, DocumentText

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_KINDS",
    "SUPPORTED_SUFFIXES",
    "BinaryFileError",
    "DocumentAccessError",
    "DocumentError",
    "DocumentKind",
    "DocumentNotFoundError",
    "DocumentText",
    "DocumentTooLargeError",
    "DocxBrokenError",
    "EmptyDocumentError",
    "EpubBrokenError",
    "NotAFileError",
    "PdfBrokenError",
    "PdfEncryptedError",
    "PdfNoTextError",
    "UnsupportedDocumentError",
    "read_document",
    "read_pasted_text",
]
