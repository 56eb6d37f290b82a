"""Encoding detection for text files: BOMs, UTF-8, UTF-16, legacy code pages, refusing binary.

The order of the guesses, strongest evidence first:
1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
2. NUL bytes: UTF-16 without a BOM (English or Chinese: the side the NULs fall on gives the
   byte order, and the decoded text must be made of real scripts), otherwise binary (refused);
3. strict UTF-8 (which also covers plain ASCII);
4. a charset the file itself declares (an HTML <meta charset>), when it decodes cleanly;
5. UTF-16 without a BOM and without NULs (a single line of CJK text), on the same evidence;
6. UTF-8 with a handful of bad bytes (a damaged UTF-8 file) -> replacement characters;
7. a legacy code page (GB18030, Big5, Shift-JIS, EUC-KR, Windows-1252, -1251, ...) detected
   by charset-normalizer on a bounded sample, when the whole file decodes cleanly with it (with
   a warning when only a handful of bytes were evidence; ties go to the Windows code pages);
8. GB18030 when the high bytes pair up as common Chinese characters;
9. anything else: UTF-8 with replacement characters and a warning that says so.

Decoding is incremental and stops once the text passes the characters cap (limits.py), and
every step is linear in the file's size.
"""
from __future__ import annotations

import codecs
import re

from app.documents.errors import BinaryFileError
from app.documents.limits import Cancel, TextBudget
from app.documents.result import Extraction
from app.sentences import say

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
# Decoding works in chunks of this many bytes (cancel and the cap are checked between them).
_DECODE_CHUNK = 1024 * 1024
# Characters of real text: whitespace, ASCII, Latin, Greek, Cyrillic, Hebrew, Arabic, Indic and
# Thai letters, punctuation and symbols, CJK punctuation, kana, CJK ideographs, Hangul, full-width
# forms. Bytes of another encoding read as UTF-16 land mostly elsewhere.
_PLAUSIBLE = re.compile(
    "[\t\n\r\f\x20-\x7e\xa0-\u024f\u0370-\u052f\u0590-\u06ff\u0900-\u0e7f"
    "\u2000-\u206f\u20a0-\u20bf\u2100-\u27ff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7a3\uff00-\uffef]+"
)
_WIDE_SCRIPTS = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uff00-\uffef]+")
# Share of UTF-16 units with a NUL byte on one side (from ASCII: line ends, spaces, digits).
_UTF16_MIN_NUL_SHARE = 0.01
# Most units of CJK UTF-16 without NULs whose two bytes may both be printable ASCII (~20% in
# Chinese text; 100% for ASCII read as UTF-16).
_UTF16_MAX_ASCII_PAIRS = 0.6
_PRINTABLE = bytes(1 if 0x20 <= byte < 0x7F else 0 for byte in range(256))
# Share of a UTF-16 sample that must be plausible text.
_UTF16_MIN_PLAUSIBLE = 0.97
# Fewer high bytes than this make a legacy code page a guess the user is told about.
_LEGACY_MIN_EVIDENCE = 16
# How much of a file the legacy-encoding detector looks at.
_LEGACY_SAMPLE = 64 * 1024
# How much messier than the best guess Windows-1252 may be and still be preferred: it is by far
# the most common single-byte code page, and the detector often names a close cousin instead.
_CP1252_MARGIN = 0.15
# Detector results this close count as a tie, won by the first of _PREFERRED.
_TIE = 0.01
_PREFERRED = ("cp1252", "cp1251", "cp1250", "gb18030", "big5", "cp932", "cp949", "shift_jis",
              "euc_kr", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp874")
# Declared charsets that browsers (and we) widen to a superset.
_WIDER_CODEC = {"gb2312": "gb18030", "gbk": "gb18030", "ascii": "cp1252", "iso8859_1": "cp1252",
                "shift_jis": "cp932", "euc_kr": "cp949"}


def decode_bytes(data: bytes, name: str, declared: str | None = None,
                 cancel: Cancel = None) -> Extraction:
    """Decode a text file's bytes, with the encoding used and any warning for the user.

    `declared` is a charset named inside the file (HTML), tried after the stronger evidence.
    Raises BinaryFileError when the bytes are not text, DocumentTextTooLongError past the cap.
    """
    budget = TextBudget(name, cancel)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_as(data[len(bom) :], encoding, name, budget)

    nul_count = data.count(0)
    if nul_count:  # ASCII in UTF-16, or CJK whose code point ends in 00 (一 is U+4E00)
        utf16 = _utf16_without_bom(data, budget) or _utf16_without_bom(data, budget, nuls=False)
        if utf16 is not None:
            return _decode_as(data, utf16, name, budget)
        if 0 in data[:SNIFF_BYTES] or nul_count * 100 > len(data):
            raise BinaryFileError(name)
    if _looks_binary(data[:SNIFF_BYTES]):
        raise BinaryFileError(name)

    strict = _try_strict(data, "utf-8", budget)
    if strict is not None:
        return strict

    declared_codec = _codec_name(declared)
    if declared_codec is not None:
        strict = _try_strict(data, declared_codec, budget)
        if strict is not None:
            return strict

    if not nul_count:
        utf16 = _utf16_without_bom(data, budget, nuls=False)
        if utf16 is not None:
            return _decode_as(data, utf16, name, budget)

    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    utf8_text = _decode_capped(data, "utf-8", "replace", TextBudget(name, cancel))
    utf8_bad = _replacements(utf8_text, data)
    if utf8_bad <= _UTF8_MAX_BAD_SHARE * high:
        return _with_replacements(utf8_text, "utf-8", utf8_bad, name)
    del utf8_text  # the legacy guesses below may need the memory

    legacy = _legacy_codec(data)
    if legacy is not None:
        strict = _try_strict(data, legacy, TextBudget(name, cancel))
        if strict is not None:
            if high < _LEGACY_MIN_EVIDENCE:  # a handful of bytes: say it is a guess
                strict.warnings.append(guessed_warning(name, legacy))
            return strict

    gb_pairs = _GB2312_PAIR.subn(b"", data)[1]
    if 2 * gb_pairs >= _GB_MIN_SHARE * high:
        return _decode_as(data, "gb18030", name, TextBudget(name, cancel))

    utf8_text = _decode_capped(data, "utf-8", "replace", TextBudget(name, cancel))
    return _with_replacements(utf8_text, "utf-8", _replacements(utf8_text, data), name)


def undecodable_warning(name: str, count: int, encoding: str) -> str:
    """The warning shown when some bytes could not be decoded and became U+FFFD."""
    label = _LABELS.get(encoding, encoding)
    if count == 1:
        return say("“{name}” is not entirely valid text in a known encoding (read as {label}): 1 "
                   "character could not be decoded and is shown as �; if the text looks wrong, save "
                   "the file as UTF-8 and drop it again.", name=name, label=label)
    return say("“{name}” is not entirely valid text in a known encoding (read as {label}): {count} "
               "characters could not be decoded and are shown as �; if the text looks wrong, save "
               "the file as UTF-8 and drop it again.", name=name, label=label, count=f"{count:,}")


def guessed_warning(name: str, encoding: str) -> str:
    """The warning shown when a legacy code page was chosen on thin evidence."""
    label = _LABELS.get(encoding, encoding.replace("_", "-").upper())
    return say("“{name}” could not be decoded as UTF-8 and was read as {label}, a guess from very few "
               "bytes; if some characters look wrong, save the file as UTF-8 and drop it again.",
               name=name, label=label)


_LABELS = {
    "utf-8": "UTF-8",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "utf-32-le": "UTF-32",
    "utf-32-be": "UTF-32",
    "gb18030": "GB18030",
    "cp1252": "Windows-1252",
    "cp1251": "Windows-1251",
    "cp1250": "Windows-1250",
    "big5": "Big5",
    "cp932": "Shift-JIS",
    "cp949": "EUC-KR",
}


def _decode_as(data: bytes, encoding: str, name: str, budget: TextBudget) -> Extraction:
    """Decode with a known encoding; bad bytes become U+FFFD and earn a warning."""
    strict = _try_strict(data, encoding, budget)
    if strict is not None:
        return strict
    budget.used = 0
    text = _decode_capped(data, encoding, "replace", budget)
    return _with_replacements(text, encoding, _replacements(text, data, encoding), name)


def _try_strict(data: bytes, encoding: str, budget: TextBudget) -> Extraction | None:
    """The text when `data` decodes cleanly with `encoding`, else None (the budget is reset)."""
    try:
        return Extraction(_decode_capped(data, encoding, "strict", budget), encoding=encoding)
    except UnicodeDecodeError:
        budget.used = 0
        return None


def _decode_capped(data: bytes, encoding: str, errors: str, budget: TextBudget) -> str:
    """Decode in chunks, checking cancel and the characters cap after each one."""
    if len(data) <= _DECODE_CHUNK:
        text = data.decode(encoding, errors)
        budget.add(len(text))
        return text
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    parts: list[str] = []
    view = memoryview(data)
    for start in range(0, len(data), _DECODE_CHUNK):
        piece = decoder.decode(view[start : start + _DECODE_CHUNK])
        budget.add(len(piece))
        parts.append(piece)
    tail = decoder.decode(b"", final=True)
    budget.add(len(tail))
    parts.append(tail)
    return "".join(parts)


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


def _utf16_without_bom(data: bytes, budget: TextBudget, nuls: bool = True) -> str | None:
    """'utf-16-le' or 'utf-16-be' for UTF-16 saved without a BOM, else None.

    The byte order: in UTF-16 text the NULs of ASCII characters (spaces, digits, line ends)
    fall on one side of each 16-bit unit. The proof: a sample decoded that way is made almost
    only of letters of real scripts and common punctuation (`_PLAUSIBLE`); bytes of another
    encoding read as UTF-16 give private-use, unassigned or surrogate units instead. Without
    any NUL (one line of Chinese) the text must also be mostly CJK, Hangul or kana.
    """
    if len(data) < 16 or len(data) % 2:
        return None
    sample = data[: SNIFF_BYTES * 2]
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if nuls:  # ASCII characters put their NULs on one side; a stray NUL is not UTF-16
        most, fewest = max(even_nuls, odd_nuls), min(even_nuls, odd_nuls)
        if most < _UTF16_MIN_NUL_SHARE * (len(sample) // 2) or fewest * 4 > most:
            return None
    if not nuls:  # 8-bit text read as UTF-16 pairs printable ASCII bytes ("xx" is 硸)
        marks = sample.translate(_PRINTABLE)
        pairs = sum(1 for low, high in zip(marks[0::2], marks[1::2], strict=False) if low and high)
        if pairs > _UTF16_MAX_ASCII_PAIRS * (len(sample) // 2):
            return None
    order = ("utf-16-le", "utf-16-be") if odd_nuls >= even_nuls else ("utf-16-be", "utf-16-le")
    best, best_score = None, 0.0
    for encoding in order if not nuls else order[:1]:
        text = codecs.getincrementaldecoder(encoding)("replace").decode(sample, final=False)
        if not text or "\ufffd" in text:
            continue
        score = len(_PLAUSIBLE.sub("", text))  # implausible characters left over
        share = 1 - score / len(text)
        if not nuls and len(_WIDE_SCRIPTS.sub("", text)) > len(text) / 2:
            continue
        if share > best_score:
            best, best_score = encoding, share
    if best is None or best_score < _UTF16_MIN_PLAUSIBLE:
        return None
    if _try_strict(data, best, budget) is None:
        return None
    budget.used = 0
    return best


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


def _legacy_codec(data: bytes) -> str | None:
    """A legacy code page charset-normalizer finds in a bounded sample of the file, or None.

    The sample ends at a line break, so no multi-byte character is cut (a line feed is never
    the second byte of a Big5, GBK, Shift-JIS or EUC-KR character).
    """
    from charset_normalizer import from_bytes

    sample = data[:_LEGACY_SAMPLE]
    if len(data) > _LEGACY_SAMPLE:
        cut = sample.rfind(b"\n")
        if cut > _LEGACY_SAMPLE // 2:
            sample = sample[: cut + 1]
    matches = list(from_bytes(sample, cp_exclusion=["utf_16", "utf_32", "utf_7"]))
    if not matches:
        return None
    best = matches[0]
    for preferred in _PREFERRED:  # ties go to the code pages people actually save in
        for match in matches:
            margin = _CP1252_MARGIN if preferred == "cp1252" else _TIE
            if match.encoding == preferred and match.chaos <= best.chaos + margin:
                return _codec_name(preferred) or preferred
    codec = _codec_name(best.encoding)
    return codec or best.encoding
