"""Full-text search over all messages: FTS5 with bm25 ranking and highlighted snippets.

The search box text is never handed to FTS5 as query syntax. It is split into terms (runs of
non-space characters, or "a quoted phrase"), and each term becomes a quoted FTS5 string, so
quotes, brackets, `*`, `-`, `:`, AND/OR/NOT/NEAR are plain text to match.

Chinese: the index uses the trigram tokenizer (SQLite >= 3.34), which matches any substring
of three or more characters, so a query like 公园散步 works without word segmentation.
Trigram cannot match shorter terms (two-character Chinese words like 天气, or "AI"); those
terms are matched with LIKE over the message text instead (all terms must match). A query of
short terms only is ranked by how often they occur, shorter messages first. On an SQLite too
old for trigram the index falls back to unicode61 and every term with CJK text takes the LIKE
path.

Messages in the trash (a trashed conversation or branch) and replies still streaming are never
returned. Every version of every branch is searched; opening a hit shows its branch
(`Branches.show`).

A damaged index (the file passes its integrity check, the FTS5 query raises) is rebuilt from
the messages and the query asked again; where that cannot be done (a read-only file) every
term takes the LIKE path: slower, never an error dialog.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable

from app.storage.db import Database
from app.storage.models import Role, SearchHit
from app.storage.opening import error_name

_TERM = re.compile(r'"([^"]*)"|([^\s"]+)')
_CJK = re.compile(
    "[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)
_TRIGRAM_MIN_CHARS = 3
_SNIPPET_TOKENS = {"trigram": 48, "unicode61": 12}
_EXCERPT_CHARS = 48
DEFAULT_MARKERS = ("«", "»")
DEFAULT_ELLIPSIS = "…"
_log = logging.getLogger(__name__)


def parse_terms(query: str) -> list[str]:
    """The search terms in a query: "quoted phrases" and runs of non-space characters.

    Unbalanced quotes are dropped; duplicates (ignoring case) are removed.
    """
    cleaned = "".join(" " if ord(char) < 32 else char for char in query)
    terms: list[str] = []
    seen: set[str] = set()
    for match in _TERM.finditer(cleaned):
        term = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
        key = term.casefold()
        if term and key not in seen:
            seen.add(key)
            terms.append(term)
    return terms


def _uses_index(term: str, tokenizer: str) -> bool:
    if tokenizer == "trigram":
        return len(term) >= _TRIGRAM_MIN_CHARS
    return not _CJK.search(term) and any(char.isalnum() for char in term)


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _terms_regex(terms: list[str]) -> re.Pattern[str]:
    ordered = sorted(terms, key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in ordered), re.IGNORECASE)


def _mark(text: str, pattern: re.Pattern[str], start: str, end: str) -> str:
    return pattern.sub(lambda match: f"{start}{match.group(0)}{end}", text)


def _mark_outside(snippet: str, pattern: re.Pattern[str], start: str, end: str) -> str:
    """Highlight `pattern` in a snippet FTS5 already marked, leaving marked spans alone."""
    marked = re.compile(f"({re.escape(start)}.*?{re.escape(end)})", re.DOTALL)
    parts = marked.split(snippet)
    return "".join(
        part if index % 2 else _mark(part, pattern, start, end)
        for index, part in enumerate(parts)
    )


def _excerpt(text: str, pattern: re.Pattern[str], start: str, end: str, ellipsis: str) -> str:
    """A window of the text around the first match, every match in it highlighted."""
    found = pattern.search(text)
    first = found.start() if found else 0
    begin = max(0, first - _EXCERPT_CHARS // 3)
    stop = min(len(text), max(begin + _EXCERPT_CHARS, found.end() if found else 0))
    if stop - begin < _EXCERPT_CHARS:
        begin = max(0, stop - _EXCERPT_CHARS)
    head = ellipsis if begin > 0 else ""
    tail = ellipsis if stop < len(text) else ""
    return head + _mark(text[begin:stop], pattern, start, end) + tail


def search_messages(
    db: Database,
    query: str,
    *,
    limit: int = 50,
    markers: tuple[str, str] = DEFAULT_MARKERS,
    ellipsis: str = DEFAULT_ELLIPSIS,
) -> list[SearchHit]:
    """Messages matching every term of `query`, best first; snippets wrap matches in
    `markers`. Any text is a valid query; an empty one finds nothing."""
    terms = parse_terms(query)
    if not terms or limit <= 0:
        return []
    tokenizer = db.fts_tokenizer
    indexed = [term for term in terms if _uses_index(term, tokenizer)]
    scanned = [term for term in terms if not _uses_index(term, tokenizer)]
    start, end = markers
    like_sql = "".join(" AND m.text LIKE ? ESCAPE '\\'" for _ in scanned)
    like_args = [_like_pattern(term) for term in scanned]
    rows: list[sqlite3.Row] | None = None
    with db.read() as conn:
        if indexed:
            rows = _indexed_or_repaired(db, lambda reading, fts_tokenizer: _indexed_rows(
                reading, indexed, like_sql, like_args, fts_tokenizer, markers, ellipsis, limit))
            if rows is None:  # the index cannot be used: scan for every term
                indexed, scanned = [], terms
                like_sql = "".join(" AND m.text LIKE ? ESCAPE '\\'" for _ in scanned)
                like_args = [_like_pattern(term) for term in scanned]
        if rows is None:
            rows = _scanned_rows(conn, scanned, like_sql, like_args, limit)
    hits: list[SearchHit] = []
    pattern = _terms_regex(scanned) if scanned else None
    for row in rows:
        if indexed:
            snippet = row["snippet"]
            if pattern is not None:
                snippet = _mark_outside(snippet, pattern, start, end)
        else:
            assert pattern is not None
            snippet = _excerpt(row["text"], pattern, start, end, ellipsis)
        hits.append(
            SearchHit(
                conversation_id=row["conversation_id"],
                message_id=row["id"],
                conversation_title=row["title"],
                role=Role(row["role"]),
                snippet=snippet,
                score=float(row["score"]),
            )
        )
    return hits


def _is_index_damage(err: sqlite3.DatabaseError) -> bool:
    return error_name(err).startswith("SQLITE_CORRUPT") or "fts5" in str(err).lower()


def _indexed_or_repaired(
    db: Database, ask: Callable[[sqlite3.Connection, str], list[sqlite3.Row]]
) -> list[sqlite3.Row] | None:
    """`ask`'s FTS5 rows (given a connection and the index's tokenizer); after damage, rebuild
    the index and ask once more. None: scan instead."""
    tokenizer = db.fts_tokenizer
    for attempt in range(2):
        try:
            with db.read() as conn:
                return ask(conn, tokenizer)
        except sqlite3.DatabaseError as err:
            if not _is_index_damage(err):
                raise
            _log.warning("%s: search index unusable (%s)", db.path, err)
            if attempt or db.read_only:
                return None
            try:
                db.rebuild_search_index()
            except Exception as rebuild_err:  # noqa: BLE001 - searching must still answer
                _log.warning("%s: search index not rebuilt (%s)", db.path, rebuild_err)
                return None
            tokenizer = db.fts_tokenizer
    return None


def _indexed_rows(
    conn: sqlite3.Connection,
    indexed: list[str],
    like_sql: str,
    like_args: list[str],
    tokenizer: str,
    markers: tuple[str, str],
    ellipsis: str,
    limit: int,
) -> list[sqlite3.Row]:
    match = " AND ".join(_fts_string(term) for term in indexed)
    return conn.execute(
        "SELECT m.id, m.conversation_id, m.role, c.title, "
        "snippet(messages_fts, 0, ?, ?, ?, ?) AS snippet, -bm25(messages_fts) AS score "
        "FROM messages_fts "
        "JOIN messages AS m ON m.id = messages_fts.rowid "
        "JOIN conversations AS c ON c.id = m.conversation_id "
        f"WHERE messages_fts MATCH ? AND c.deleted_at IS NULL AND m.trashed IS NULL{like_sql} "
        "ORDER BY bm25(messages_fts), m.id DESC LIMIT ?",
        (*markers, ellipsis, _SNIPPET_TOKENS[tokenizer], match, *like_args, limit),
    ).fetchall()


def _scanned_rows(
    conn: sqlite3.Connection,
    scanned: list[str],
    like_sql: str,
    like_args: list[str],
    limit: int,
) -> list[sqlite3.Row]:
    # Occurrences of each term (ASCII case folded, as LIKE does), summed: the score.
    counts = " + ".join(
        "(length(m.text) - length(replace(lower(m.text), lower(?), ''))) / length(?)"
        for _ in scanned
    )
    count_args = [arg for term in scanned for arg in (term, term)]
    return conn.execute(
        f"SELECT m.id, m.conversation_id, m.role, c.title, m.text, ({counts}) AS score "
        "FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id "
        f"WHERE c.deleted_at IS NULL AND m.trashed IS NULL AND m.state != 'streaming'{like_sql} "
        "ORDER BY score DESC, length(m.text), m.id DESC LIMIT ?",
        (*count_args, *like_args, limit),
    ).fetchall()
