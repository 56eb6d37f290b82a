"""The text a reader produced: the public DocumentText result and the readers' shared pieces."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class DocumentKind(str, Enum):
    """What kind of source a document's text came from (stored with the document)."""

    TEXT = "text"
    MARKDOWN = "markdown"
    CODE = "code"
    HTML = "html"
    PDF = "pdf"
    DOCX = "docx"
    EPUB = "epub"
    PASTED = "pasted"


@dataclass(frozen=True)
class DocumentText:
    """A document turned into text, ready for the prompt builder and the document store.

    `characters` is always `len(text)`; `sha256` is the hash of the source bytes (of the
    UTF-8 text for a paste), so the same file dropped twice is recognised. `warnings` are
    sentences the UI shows beside the document (text that could not be decoded, pages
    without text); `pages` is set for paged formats (PDF) and None otherwise.
    """

    name: str
    path: Path | None
    kind: DocumentKind
    text: str = field(repr=False)
    sha256: str
    warnings: list[str] = field(default_factory=list)
    pages: int | None = None
    encoding: str | None = None
    characters: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "characters", len(self.text))


@dataclass
class Extraction:
    """What one format reader hands back to the dispatcher before hashing and normalising."""

    text: str
    warnings: list[str] = field(default_factory=list)
    pages: int | None = None
    encoding: str | None = None


def normalize_text(text: str) -> str:
    """Unix line ends, no NUL characters, no leading byte-order mark."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text.removeprefix("\ufeff")


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 of some bytes (the identity of a document's source)."""
    return hashlib.sha256(data).hexdigest()
