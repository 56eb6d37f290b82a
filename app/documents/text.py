"""Encoding detection for text files: BOMs, UTF-8, UTF-16, GB18030, and refusing binary data.

The order of the guesses, strongest evidence first:
1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
2. NUL bytes: ASCII-heavy UTF-16 without a BOM, otherwise a binary file (refused);
3. strict UTF-8 (which also covers plain ASCII);
4. a charset the file itself declares (an HTML <meta charset>), when it decodes cleanly;
5. UTF-8 with a handful of bad bytes (a damaged UTF-8 file) -> replacement characters;
6. GB18030 (a superset of GBK and GB2312) when the high bytes pair up as common Chinese
   characters (EUC-KR Korean pairs up the same way and would be misread: a known limit);
7. anything else: UTF-8 with replacement characters and a warning that says so.
"""

from __future__ import annotations

import codecs
import re

from app.documents.errors import BinaryFileError
from app.documents.result import Extraction

#: How many leading bytes the binary sniffing looks at (git and grep use the same idea).
SNIFF_BYTES = 8192

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 little-endian one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Control bytes that never appear in text (tab, line feed, form feed, carriage return and
# escape, used by coloured logs, are allowed).
_CONTROL_BYTES = bytes([*range(0x01, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_HIGH_BYTES = bytes(range(0x80, 0x100))
# A common GB2312 character: Chinese punctuation and full-width forms (lead 0xA1-0xA3) or a
# hanzi (lead 0xB0-0xF7), with a trail byte in 0xA1-0xFE. Chinese text in GBK/GB18030 is
# overwhelmingly made of these; Windows-1252 text almost never is, and Big5 only partly.
_GB2312_PAIR = re.compile(rb"[\xa1-\xa3\xb0-\xf7][\xa1-\xfe]")
# Share of high bytes that must form such pairs before a file is read as GB18030.
_GB_MIN_SHARE = 0.8
# Share of high bytes that may be invalid in a file still treated as (damaged) UTF-8.
_UTF8_MAX_BAD_SHARE = 0.05
# Declared charsets that browsers (and we) widen to a superset.
_WIDER_CODEC = {"gb2312": "gb18030", "gbk": "gb18030", "ascii": "cp1252", "iso8859_1": "cp1252"}


def decode_bytes(data: bytes, name: str, declared: str | None = None) -> Extraction:
    """Decode a text file's bytes, with the encoding used and any warning for the user.

    `declared` is a charset named inside the file (HTML), tried after the stronger evidence.
    Raises BinaryFileError when the bytes are not text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_as(data[len(bom) :], encoding, name)

    nul_count = data.count(0)
    if nul_count:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return _decode_as(data, utf16, name)
        if 0 in data[:SNIFF_BYTES] or nul_count * 100 > len(data):
            raise BinaryFileError(name)
    if _looks_binary(data[:SNIFF_BYTES]):
        raise BinaryFileError(name)

    try:
        return Extraction(data.decode("utf-8"), encoding="utf-8")
    except UnicodeDecodeError:
        pass

    declared_codec = _codec_name(declared)
    if declared_codec is not None:
        try:
            return Extraction(data.decode(declared_codec), encoding=declared_codec)
        except UnicodeDecodeError:
            pass

    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    utf8_text = data.decode("utf-8", errors="replace")
    utf8_bad = _replacements(utf8_text, data)
    if utf8_bad <= _UTF8_MAX_BAD_SHARE * high:
        return _with_replacements(utf8_text, "utf-8", utf8_bad, name)

    gb_pairs = _GB2312_PAIR.subn(b"", data)[1]
    if 2 * gb_pairs >= _GB_MIN_SHARE * high:
        return _decode_as(data, "gb18030", name)

    return _with_replacements(utf8_text, "utf-8", utf8_bad, name)


def undecodable_warning(name: str, count: int, encoding: str) -> str:
    """The warning shown when some bytes could not be decoded and became U+FFFD."""
    label = _LABELS.get(encoding, encoding)
    if count == 1:
        chars = "character could not be decoded and is"
    else:
        chars = "characters could not be decoded and are"
    return (
        f"“{name}” is not entirely valid text in a known encoding (read as {label}): "
        f"{count:,} {chars} shown as �; "
        "if the text looks wrong, save the file as UTF-8 and drop it again."
    )


_LABELS = {
    "utf-8": "UTF-8",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "utf-32-le": "UTF-32",
    "utf-32-be": "UTF-32",
    "gb18030": "GB18030",
}


def _decode_as(data: bytes, encoding: str, name: str) -> Extraction:
    """Decode with a known encoding; bad bytes become U+FFFD and earn a warning."""
    try:
        return Extraction(data.decode(encoding), encoding=encoding)
    except UnicodeDecodeError:
        text = data.decode(encoding, errors="replace")
        return _with_replacements(text, encoding, _replacements(text, data, encoding), name)


def _with_replacements(text: str, encoding: str, bad: int, name: str) -> Extraction:
    """An extraction that carries the undecodable-bytes warning when there were any."""
    warnings = [undecodable_warning(name, bad, encoding)] if bad else []
    return Extraction(text, warnings=warnings, encoding=encoding)


def _replacements(text: str, data: bytes, encoding: str = "utf-8") -> int:
    """How many U+FFFD characters the decoder added (not counting any the file already had)."""
    found = text.count("\ufffd")
    if not found:
        return 0
    try:
        already = data.count("\ufffd".encode(encoding))
    except UnicodeEncodeError:  # pragma: no cover - every codec we use can encode U+FFFD
        already = 0
    return max(found - already, 0)


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for mostly-ASCII UTF-16 saved without a BOM, else None.

    In such text every other byte is NUL, all on the same side of each 16-bit unit.
    """
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[: SNIFF_BYTES * 2]
    units = len(sample) // 2
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    encoding = None
    if odd_nuls >= 0.3 * units and even_nuls <= 0.02 * units:
        encoding = "utf-16-le"
    elif even_nuls >= 0.3 * units and odd_nuls <= 0.02 * units:
        encoding = "utf-16-be"
    if encoding is None:
        return None
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return encoding


def _looks_binary(sample: bytes) -> bool:
    """True when more than a tenth of the sample is control bytes that text never holds."""
    if not sample:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls * 10 > len(sample)


def _codec_name(declared: str | None) -> str | None:
    """The Python codec for a declared charset name, widened to its superset; None if unknown."""
    if not declared:
        return None
    try:
        name = codecs.lookup(declared.strip().strip("\"'")).name
    except LookupError:
        return None
    name = name.replace("-", "_")
    name = _WIDER_CODEC.get(name, name)
    if name in ("utf_8", "utf_16", "utf_32"):
        return None  # already tried (UTF-8), or meaningless without a BOM (UTF-16/32)
    return name
