"""The "search the attached document" tool: passages of the conversation's document that match a query.

For documents that do not fit whole: the model asks for words, the tool answers with a few
passages and where they are (character positions in the document's text), so the answer can
say where it found something. The search is plain text matching (case-insensitive, the
query's words or, for Chinese, its characters in pairs) with every cost bounded: the query's
length and terms, the hits counted per term, the passages returned and their length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY = 200  # characters
MAX_TERMS = 8
MAX_HITS_PER_TERM = 5_000
MAX_PASSAGES = 5
PASSAGE_CHARS = 400
SNAP_CHARS = 30  # a passage's ends move this far at most to fall between words, not inside one

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class SearchError(ValueError):
    """The query cannot be searched for (empty, or only punctuation)."""


@dataclass(frozen=True)
class Passage:
    """A passage of the document: [start, end) in characters, and how many query terms it holds."""

    start: int
    end: int
    text: str
    terms: int


def query_terms(query: str) -> list[str]:
    """The words of the query (Chinese runs as overlapping character pairs), lower-cased, at
    most MAX_TERMS, longest first."""
    terms: list[str] = []
    for word in _WORD.findall(query[:MAX_QUERY].lower()):
        if _CJK.search(word) and len(word) > 2:
            terms.extend(word[i:i + 2] for i in range(len(word) - 1))
        elif len(word) > 1 or _CJK.match(word):
            terms.append(word)
    unique = list(dict.fromkeys(terms))
    return sorted(unique, key=len, reverse=True)[:MAX_TERMS]


def _hits(haystack: str, term: str) -> list[int]:
    found: list[int] = []
    at = haystack.find(term)
    while at >= 0 and len(found) < MAX_HITS_PER_TERM:
        found.append(at)
        at = haystack.find(term, at + len(term))
    return found


def search(document: str, query: str) -> list[Passage]:
    """The best passages for `query`, in document order (at most MAX_PASSAGES)."""
    terms = query_terms(query) if isinstance(query, str) else []
    if not terms:
        raise SearchError("the query has no words to search for")
    lowered = document.lower()
    # A case mapping that changes lengths (rare letters) would shift the positions: match as typed.
    haystack = lowered if len(lowered) == len(document) else document
    half = PASSAGE_CHARS // 2
    windows: dict[int, set[str]] = {}  # window index -> terms found in it
    for term in terms:
        for at in _hits(haystack, term):
            windows.setdefault(at // half, set()).add(term)
    if not windows:
        return []
    ranked = sorted(windows, key=lambda w: (-len(windows[w]), w))
    chosen: list[int] = []
    for w in ranked:
        if all(abs(w - c) > 1 for c in chosen):  # passages do not overlap
            chosen.append(w)
        if len(chosen) == MAX_PASSAGES:
            break
    out: list[Passage] = []
    for w in sorted(chosen):
        start = max(0, w * half - half // 2)
        end = min(len(document), start + PASSAGE_CHARS)
        floor = out[-1].end if out else 0  # a passage never reaches back into the one before
        start = max(floor, _word_start(document, start))
        end = _word_end(document, end, start)
        out.append(Passage(start, end, document[start:end], len(windows[w])))
    return out


def _inside_word(document: str, at: int) -> bool:
    """Whether position `at` falls between two letters of one word (not in Chinese or Japanese
    text, which has no spaces: any character boundary there is a word boundary enough)."""
    if at <= 0 or at >= len(document):
        return False
    before, after = document[at - 1], document[at]
    return before.isalnum() and after.isalnum() and not _CJK.match(before) and not _CJK.match(after)


def _first_boundary(document: str, positions: range) -> int | None:
    """The first of `positions` that is not inside a word, or None."""
    return next((at for at in positions if not _inside_word(document, at)), None)


def _word_start(document: str, at: int) -> int:
    """`at` moved back to the start of the word it cuts (at most SNAP_CHARS), else forward past
    it; a word longer than that is cut where it was."""
    back = _first_boundary(document, range(at, max(0, at - SNAP_CHARS) - 1, -1))
    ahead = _first_boundary(document, range(at, min(len(document), at + SNAP_CHARS) + 1))
    return back if back is not None else ahead if ahead is not None else at


def _word_end(document: str, at: int, start: int) -> int:
    """`at` moved forward to the end of the word it cuts (at most SNAP_CHARS), else back before
    it, never to `start` or before it."""
    ahead = _first_boundary(document, range(at, min(len(document), at + SNAP_CHARS) + 1))
    back = _first_boundary(document, range(at, max(start + 1, at - SNAP_CHARS) - 1, -1))
    return ahead if ahead is not None else back if back is not None else at


def search_text(document: str | None, name: str, query: str) -> str:
    """The tool's answer: each passage with its character range, or a sentence saying why none."""
    if not document:
        return "No document is attached to this conversation."
    passages = search(document, query)
    if not passages:
        return f"Nothing in {name} matches {query[:MAX_QUERY]!r}."
    parts = [f"{len(passages)} passage(s) of {name} ({len(document):,} characters) matching "
             f"{query[:MAX_QUERY]!r}:"]
    for p in passages:
        parts.append(f"[characters {p.start:,}-{p.end:,}]\n{p.text}")
    return "\n\n".join(parts)
