"""EPUB to text: the book's XHTML chapters in spine order, each through the HTML reader."""

from __future__ import annotations

import logging
import posixpath
import zipfile
import zlib
from urllib.parse import unquote
from xml.etree import ElementTree

from app.documents.errors import BinaryFileError, EpubBrokenError
from app.documents.html_text import declared_charset, html_to_text
from app.documents.limits import (
    MAX_MARKUP_BYTES,
    Cancel,
    TextBudget,
    open_checked_zip,
    read_member,
)
from app.documents.result import Extraction
from app.documents.text import decode_bytes
from app.sentences import say

_log = logging.getLogger(__name__)

_CONTAINER = "META-INF/container.xml"
_ENCRYPTION = "META-INF/encryption.xml"
_HTML_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/x-dtbook+xml"})
# Font obfuscation (IDPF and Adobe) is listed in encryption.xml but does not lock the text.
_FONT_OBFUSCATION = frozenset(
    {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
)
# What reading a member of a damaged (or partly encrypted) zip archive can raise.
ZIP_ERRORS: tuple[type[Exception], ...] = (
    KeyError,
    zipfile.BadZipFile,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    zlib.error,
)
_STRUCTURE_ERRORS: tuple[type[Exception], ...] = (ElementTree.ParseError, *ZIP_ERRORS)
_CHAPTER_ERRORS: tuple[type[Exception], ...] = (BinaryFileError, *ZIP_ERRORS)
#: Most uncompressed chapter bytes read from one book (the archive itself is checked on open).
MAX_UNCOMPRESSED_BYTES = MAX_MARKUP_BYTES


def read_epub(data: bytes, name: str, cancel: Cancel = None) -> Extraction:
    """The text of every chapter in reading order, separated by blank lines.

    Raises EpubBrokenError for a damaged book or one locked by DRM, ArchiveTooLargeError when
    it would unpack past the limits, DocumentTextTooLongError past the characters cap.
    """
    archive = open_checked_zip(data, name, lambda: EpubBrokenError(name))
    with archive:
        try:
            chapters = _spine_paths(archive)
            locked = _encrypted_paths(archive)
        except _STRUCTURE_ERRORS as exc:
            _log.info("cannot read the structure of %s: %r", name, exc)
            raise EpubBrokenError(name) from exc
        if any(path in locked for path in chapters):
            raise EpubBrokenError(name, drm=True)
        return _read_chapters(archive, chapters, TextBudget(name, cancel))


def _read_chapters(archive: zipfile.ZipFile, paths: list[str], budget: TextBudget) -> Extraction:
    """Decode each chapter and keep its visible text; missing chapters become a warning.

    One budget for the whole book: the characters cap and the HTML token cap hold for the
    book, not per chapter.
    """
    name = budget.name
    texts: list[str] = []
    warnings: list[str] = []
    missing = 0
    for path in paths:
        try:
            raw = read_member(archive, path, budget)
            decoded = decode_bytes(raw, name, declared=declared_charset(raw), cancel=budget.cancel)
        except _CHAPTER_ERRORS as exc:
            _log.info("cannot read chapter %s of %s: %r", path, name, exc)
            missing += 1
            continue
        for warning in decoded.warnings:
            if warning not in warnings:
                warnings.append(warning)
        del raw
        text = html_to_text(decoded.text, budget)
        if text.strip():
            texts.append(text)
            budget.add(2)
    if missing and missing == len(paths):
        raise EpubBrokenError(name)
    if missing:
        warnings.append(say(
            "{missing} of the {total} chapters of “{name}” could not be read (they are missing or "
            "damaged) and are left out; get a fresh copy of the book to include them.",
            missing=missing, total=len(paths), name=name))
    return Extraction("\n\n".join(texts), warnings=warnings)


def _spine_paths(archive: zipfile.ZipFile) -> list[str]:
    """The archive paths of the book's (X)HTML documents, in spine (reading) order."""
    opf_path = _package_path(archive)
    package = ElementTree.fromstring(archive.read(opf_path))
    base = posixpath.dirname(opf_path)
    manifest: dict[str, tuple[str, str]] = {}
    for item in _children(package, "manifest", "item"):
        item_id, href = item.get("id"), item.get("href")
        if item_id and href:
            manifest[item_id] = (_resolve(base, href), item.get("media-type", ""))
    paths: list[str] = []
    for itemref in _children(package, "spine", "itemref"):
        entry = manifest.get(itemref.get("idref", ""))
        if entry is not None and entry[1] in _HTML_TYPES and entry[0] not in paths:
            paths.append(entry[0])
    if not paths:
        raise ValueError("the spine lists no (X)HTML documents")
    return paths


def _package_path(archive: zipfile.ZipFile) -> str:
    """Where the OPF package document is: container.xml says, else the first .opf file."""
    names = set(archive.namelist())
    if _CONTAINER in names:
        container = ElementTree.fromstring(archive.read(_CONTAINER))
        for element in container.iter():
            path = element.get("full-path")
            if _local(element.tag) == "rootfile" and path and path in names:
                return path
    for candidate in sorted(names):
        if candidate.lower().endswith(".opf"):
            return candidate
    raise KeyError("no OPF package document")


def _encrypted_paths(archive: zipfile.ZipFile) -> set[str]:
    """Archive paths that META-INF/encryption.xml says are encrypted (fonts excepted)."""
    if _ENCRYPTION not in archive.namelist():
        return set()
    root = ElementTree.fromstring(archive.read(_ENCRYPTION))
    locked: set[str] = set()
    for encrypted in root.iter():
        if _local(encrypted.tag) != "EncryptedData":
            continue
        algorithms = {
            element.get("Algorithm", "")
            for element in encrypted.iter()
            if _local(element.tag) == "EncryptionMethod"
        }
        if algorithms and algorithms <= _FONT_OBFUSCATION:
            continue
        for element in encrypted.iter():
            uri = element.get("URI")
            if _local(element.tag) == "CipherReference" and uri:
                locked.add(_resolve("", uri))
    return locked


def _children(root: ElementTree.Element, parent: str, child: str) -> list[ElementTree.Element]:
    """The `child` elements of the first `parent` element, whatever their XML namespace."""
    for element in root.iter():
        if _local(element.tag) == parent:
            return [sub for sub in element if _local(sub.tag) == child]
    return []


def _local(tag: str) -> str:
    """An element's tag without its '{namespace}' prefix."""
    return tag.rsplit("}", 1)[-1]


def _resolve(base: str, href: str) -> str:
    """An href (relative to the OPF folder, URL-escaped, maybe with #fragment) as a zip path."""
    path = unquote(href.split("#", 1)[0])
    return posixpath.normpath(posixpath.join(base, path)).lstrip("/")
