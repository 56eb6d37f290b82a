"""PDF to text with pypdf: one '--- Page N ---' marker per page, typed errors otherwise.

The PDFs that cannot give text each get their own error saying what to do: a password,
a damaged or truncated file, or a scan without a text layer.

Bounded: pypdf's own limits (`pypdf.Configuration`) are set lower for the read (streams
inflate to at most 32 MB each, arrays and dictionaries hold at most 100,000 entries, the
page tree is flat enough); at most `MAX_PAGES` pages are read; every content-stream operator
goes through a visitor that checks cancel and counts them against `MAX_OPERATORS` for the
whole file; the text stops at the characters cap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from io import BytesIO
from typing import Any

from pypdf import PasswordType, PdfReader, apply_configuration, get_configuration
from pypdf.errors import DependencyError, LimitReachedError

from app.documents.errors import (
    DocumentError,
    PdfBrokenError,
    PdfEncryptedError,
    PdfNoTextError,
    PdfTooLargeError,
)
from app.documents.limits import Cancel, TextBudget
from app.documents.result import Extraction
from app.sentences import say

_log = logging.getLogger(__name__)

#: The line put before each page's text; the prompt builder and the user see it.
PAGE_MARKER = "--- Page {number} ---"
# A PDF's header may follow a little junk; its end-of-file marker must be near the end.
_HEADER_WINDOW = 1024
_TRAILER_WINDOW = 2048
# Page lists in warnings name at most this many pages, then say how many more.
_LISTED_PAGES = 10
#: Most pages read from one PDF.
MAX_PAGES = 10_000
#: Most content-stream operators interpreted in one PDF: about 10 s of pypdf's work (several
#: hundred pages of dense text, more than a context holds). A page whose stream passes pypdf's
#: own parsing limit counts as that many.
MAX_OPERATORS = 2_000_000
_STREAM_OPERATORS = 400_000
_STREAM_BYTES = 32 * 1024 * 1024
# pypdf's limits for the read (pypdf >= 7.1; its defaults allow 75 MB per stream).
_PYPDF_LIMITS: dict[str, int] = {
    "maximum_declared_stream_length": _STREAM_BYTES,
    "array_based_stream_maximum_output_length": _STREAM_BYTES,
    "jbig2_maximum_output_length": _STREAM_BYTES,
    "lzw_maximum_output_length": _STREAM_BYTES,
    "run_length_maximum_output_length": _STREAM_BYTES,
    "zlib_maximum_output_length": _STREAM_BYTES,
    "brotli_maximum_output_length": _STREAM_BYTES,
    "zlib_maximum_recovery_input_length": 4 * 1024 * 1024,
    "stream_decoding_work_maximum_length": 2 * _STREAM_BYTES,
    "stream_parsing_work_maximum_count": _STREAM_OPERATORS,
    "image_maximum_buffer_size": _STREAM_BYTES,
    "xform_maximum_invocations_per_extraction": 1_000,
    "page_tree_maximum_entries": 4 * MAX_PAGES,
    "page_tree_maximum_page_entries": 8 * MAX_PAGES,
}
_CANCEL_EVERY = 4096  # operators between two cancel checks


class _Operators:
    """The visitor pypdf calls before each operator: counts them and checks cancel."""

    def __init__(self, budget: TextBudget) -> None:
        self.budget = budget
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1
        if self.count % _CANCEL_EVERY == 0:
            self.check()

    def charge(self, operators: int) -> None:
        """Count a page pypdf gave up on (its parsing limit) as that many operators."""
        self.count += operators
        self.check()

    def check(self) -> None:
        self.budget.check()
        if self.count > MAX_OPERATORS:
            raise PdfTooLargeError.operators(self.budget.name, MAX_OPERATORS)


def read_pdf(data: bytes, name: str, cancel: Cancel = None) -> Extraction:
    """The text of every page, each under a page marker.

    Raises PdfEncryptedError, PdfBrokenError, PdfNoTextError or PdfTooLargeError, each saying
    what to do, DocumentTextTooLongError past the characters cap.
    """
    with apply_configuration(get_configuration().with_overwrites(**_PYPDF_LIMITS)):
        return _read_pdf(data, name, TextBudget(name, cancel))


def _read_pdf(data: bytes, name: str, budget: TextBudget) -> Extraction:
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        raise PdfBrokenError(name, say("is not a PDF file (it has no PDF header)"))
    cut_short = b"%%EOF" not in data[-_TRAILER_WINDOW:]

    reader = _open(data, name)
    try:
        count = len(reader.pages)
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        _log.info("cannot list the pages of %s: %r", name, exc)
        raise PdfBrokenError(name) from exc
    if count == 0:
        raise PdfBrokenError(name, say("has no pages"))
    if count > MAX_PAGES:
        raise PdfTooLargeError.pages(name, count, MAX_PAGES)
    operators = _Operators(budget)

    texts: list[str] = []
    unreadable: list[int] = []
    blank: list[int] = []
    for number in range(1, count + 1):
        budget.check()
        try:
            page_text = reader.pages[number - 1].extract_text(visitor_operand_before=operators)
        except DocumentError:
            raise
        except LimitReachedError as exc:  # a bomb on this page: it is left out, and it costs
            _log.info("page %d of %s is over pypdf's limits: %r", number, name, exc)
            unreadable.append(number)
            page_text = ""
            operators.charge(_STREAM_OPERATORS)
        except Exception as exc:  # one damaged page must not lose the others
            _log.info("cannot read page %d of %s: %r", number, name, exc)
            unreadable.append(number)
            page_text = ""
        page_text = page_text.strip("\n").rstrip()
        if not page_text.strip() and number not in unreadable:
            blank.append(number)
        budget.add(len(page_text) + 20)
        texts.append(page_text)

    if len(unreadable) == count:
        raise PdfBrokenError(name)
    if len(blank) + len(unreadable) == count:
        if unreadable:
            raise PdfBrokenError(name)
        raise PdfNoTextError(name, count)

    warnings = _warnings(name, cut_short, unreadable, blank)
    text = "\n\n".join(
        PAGE_MARKER.format(number=number) + ("\n" + page if page else "")
        for number, page in enumerate(texts, start=1)
    )
    return Extraction(text, warnings=warnings, pages=count)


def _open(data: bytes, name: str) -> PdfReader:
    """A reader for the PDF, decrypted when it only has an owner password."""
    try:
        reader = PdfReader(BytesIO(data), strict=False)
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        _log.info("cannot open %s: %r", name, exc)
        raise PdfBrokenError(name) from exc
    if not reader.is_encrypted:
        return reader
    # Many "protected" PDFs only restrict printing or copying: their user password is empty.
    try:
        result = reader.decrypt("")
    except DependencyError as exc:
        raise PdfEncryptedError(name, "is encrypted with a method this app cannot open") from exc
    except Exception as exc:  # a damaged encryption dictionary
        _log.info("cannot decrypt %s: %r", name, exc)
        raise PdfBrokenError(name, "has damaged encryption settings") from exc
    if result == PasswordType.NOT_DECRYPTED:
        raise PdfEncryptedError(name)
    return reader


def _warnings(name: str, cut_short: bool, unreadable: list[int], blank: list[int]) -> list[str]:
    """Sentences telling the user which parts of the PDF the model will not see."""
    warnings: list[str] = []
    if cut_short:
        warnings.append(say(
            "“{name}” seems to be cut short (it has no end-of-file marker), so some pages may be "
            "missing; download or copy it again if they are.", name=name))
    if unreadable:
        if len(unreadable) == 1:
            warnings.append(say(
                "{pages} of “{name}” could not be read (the file is damaged there) and is left out; "
                "open the PDF in a viewer and save a fresh copy to include it.",
                pages=_pages(unreadable), name=name))
        else:
            warnings.append(say(
                "{pages} of “{name}” could not be read (the file is damaged there) and are left "
                "out; open the PDF in a viewer and save a fresh copy to include them.",
                pages=_pages(unreadable), name=name))
    if blank:
        if len(blank) == 1:
            warnings.append(say(
                "{pages} of “{name}” has no text layer (probably scanned images), so the model "
                "will not see it; run OCR on the PDF to include it.", pages=_pages(blank), name=name))
        else:
            warnings.append(say(
                "{pages} of “{name}” have no text layer (probably scanned images), so the model "
                "will not see them; run OCR on the PDF to include them.", pages=_pages(blank), name=name))
    return warnings


def _pages(numbers: Sequence[int]) -> str:
    """'Page 4', 'Pages 2 and 7', 'Pages 1, 2 and 9', or the first ten and how many more."""
    if len(numbers) == 1:
        return say("Page {number}", number=numbers[0])
    shown = [str(number) for number in numbers[:_LISTED_PAGES]]
    rest = len(numbers) - len(shown)
    if rest:
        return say("Pages {numbers} and {rest} more", numbers=", ".join(shown), rest=rest)
    return say("Pages {numbers} and {last}", numbers=", ".join(shown[:-1]), last=shown[-1])
