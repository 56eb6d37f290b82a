"""The database schema as forward migrations: step N upgrades a file from version N-1 to N.

The version lives in `PRAGMA user_version`; `db.Database` runs the missing steps in one
transaction when it opens an older file. Rules for adding a step: append, never edit a step
that has shipped, no `executescript` (it commits), and move data as well as tables (a step
gets the connection and may rewrite rows, e.g. rename a settings key).

History:
  1. conversations, messages, attached documents.
  2. full-text search: `messages_fts`, an FTS5 external-content index over messages.text
     kept in sync by triggers (rows still `streaming` are left out of the index, so a reply's
     once-a-second checkpoints do not churn it; the row is indexed when it ends).
  3. the trash (`conversations.deleted_at`) and the settings key/value table.
  4. what the long-document pane must remember across restarts: the readers' warnings of a
     document (`documents.warnings`, a JSON list of sentences) and how many of the oldest
     turn pairs a conversation leaves out of its prompt (`conversations.drop_turns`, the
     user's answer to "it does not fit").
  5. a reply's exact token ids (`messages.token_ids`, a JSON list, NULL when unknown) and the
     vocabulary they belong to (`messages.token_vocab`, a fingerprint): the next prompt holds
     the reply exactly as it was generated, so a follow-up re-reads only the new question.
  6. where a conversation came from: `conversations.imported`, the time it was imported from
     an exported file (NULL for one made here, so every older row reads as made here).
  7. answer versions and branches: a conversation is a tree (`parent_id` is the turn a message
     follows; siblings are versions, ordered by `position`, which is now insertion order).
     `messages.chosen` marks the version shown among its siblings (the chosen path is followed
     from the root, so a restart shows the same branch) and `messages.trashed` the time a
     deleted branch went to the trash (set on every message of that branch). Older files were
     one straight line: every row is kept, each parent is set to the row before it by
     position (only where it says otherwise), and every row is chosen, so the linear history
     is the single path.
  8. function calling: `messages.tool` (JSON, NULL for a plain turn): on an assistant reply
     the call it ends with (`{"call": {name, parameters, raw}}`) or the markup of a call that
     could not be read (`{"malformed": raw}`); on an `environment` turn the tool's name and
     what happened (`{"name": ..., "outcome": "ran" | "denied" | "unavailable"}`).
     `conversations.tools` (JSON): the tools it offers and those allowed always
     (`{"enabled": [...], "always": [...]}`, app/engine/tools/registry.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

APPLICATION_ID = 0x494C4D32  # "ILM2" in the SQLite header: marks the file as ours.

# Trigram FTS5 tokenizer (substring search that also works for Chinese) needs SQLite 3.34.
_TRIGRAM_MIN_VERSION = (3, 34, 0)
_sqlite_version_info: tuple[int, int, int] = sqlite3.sqlite_version_info

_Migration = Callable[[sqlite3.Connection], None]

_V1_CONVERSATIONS = """
CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL DEFAULT '',
    created       TEXT NOT NULL,
    updated       TEXT NOT NULL,
    model         TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    sampling      TEXT NOT NULL DEFAULT '{}'
)"""

_V1_MESSAGES = """
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    parent_id       INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    role            TEXT NOT NULL
                    CHECK (role IN ('system', 'user', 'assistant', 'environment')),
    text            TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'complete'
                    CHECK (state IN ('complete', 'streaming', 'interrupted', 'error')),
    stats           TEXT,
    error           TEXT NOT NULL DEFAULT '',
    created         TEXT NOT NULL,
    UNIQUE (conversation_id, position)
)"""

_V1_DOCUMENTS = """
CREATE TABLE documents (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    path            TEXT NOT NULL DEFAULT '',
    sha256          TEXT NOT NULL,
    characters      INTEGER NOT NULL,
    text            TEXT NOT NULL,
    created         TEXT NOT NULL
)"""


def _v1_core(conn: sqlite3.Connection) -> None:
    for statement in (
        _V1_CONVERSATIONS,
        _V1_MESSAGES,
        _V1_DOCUMENTS,
        "CREATE INDEX conversations_updated ON conversations (updated)",
        "CREATE INDEX messages_parent ON messages (parent_id)",
        "CREATE INDEX messages_state ON messages (state) WHERE state = 'streaming'",
        "CREATE INDEX documents_conversation ON documents (conversation_id)",
    ):
        conn.execute(statement)


def fts_tokenizer() -> str:
    """The FTS5 tokenizer a new index gets with the SQLite this process runs on."""
    if _sqlite_version_info >= _TRIGRAM_MIN_VERSION:
        return "trigram"
    return "unicode61 remove_diacritics 2"


def _v2_search(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', "
        f"content_rowid='id', tokenize='{fts_tokenizer()}')"
    )
    for statement in (
        """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
           WHEN new.state != 'streaming' BEGIN
               INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
           END""",
        """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
           WHEN old.state != 'streaming' BEGIN
               INSERT INTO messages_fts (messages_fts, rowid, text)
               VALUES ('delete', old.id, old.text);
           END""",
        """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, state ON messages
           WHEN old.state != 'streaming' OR new.state != 'streaming' BEGIN
               INSERT INTO messages_fts (messages_fts, rowid, text)
               SELECT 'delete', old.id, old.text WHERE old.state != 'streaming';
               INSERT INTO messages_fts (rowid, text)
               SELECT new.id, new.text WHERE new.state != 'streaming';
           END""",
        """INSERT INTO messages_fts (rowid, text)
           SELECT id, text FROM messages WHERE state != 'streaming'""",
    ):
        conn.execute(statement)


def _v3_trash_and_settings(conn: sqlite3.Connection) -> None:
    for statement in (
        "ALTER TABLE conversations ADD COLUMN deleted_at TEXT",
        "CREATE INDEX conversations_deleted ON conversations (deleted_at)",
        """CREATE TABLE settings (
               key     TEXT PRIMARY KEY,
               value   TEXT NOT NULL,
               updated TEXT NOT NULL
           ) WITHOUT ROWID""",
    ):
        conn.execute(statement)


def _v4_document_memory(conn: sqlite3.Connection) -> None:
    for statement in (
        "ALTER TABLE documents ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE conversations ADD COLUMN drop_turns INTEGER NOT NULL DEFAULT 0",
    ):
        conn.execute(statement)


def _v5_reply_token_ids(conn: sqlite3.Connection) -> None:
    for statement in (
        "ALTER TABLE messages ADD COLUMN token_ids TEXT",
        "ALTER TABLE messages ADD COLUMN token_vocab TEXT NOT NULL DEFAULT ''",
    ):
        conn.execute(statement)


def _v6_imported_mark(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE conversations ADD COLUMN imported TEXT")


def _v7_answer_branches(conn: sqlite3.Connection) -> None:
    for statement in (
        "ALTER TABLE messages ADD COLUMN chosen INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE messages ADD COLUMN trashed TEXT",
        """UPDATE messages SET parent_id = (
               SELECT p.id FROM messages AS p WHERE p.conversation_id = messages.conversation_id
               AND p.position < messages.position ORDER BY p.position DESC LIMIT 1)
           WHERE parent_id IS NOT (
               SELECT p.id FROM messages AS p WHERE p.conversation_id = messages.conversation_id
               AND p.position < messages.position ORDER BY p.position DESC LIMIT 1)""",
    ):
        conn.execute(statement)


def _v8_tool_turns(conn: sqlite3.Connection) -> None:
    for statement in (
        "ALTER TABLE messages ADD COLUMN tool TEXT",
        "ALTER TABLE conversations ADD COLUMN tools TEXT NOT NULL DEFAULT '{}'",
    ):
        conn.execute(statement)


MIGRATIONS: Sequence[_Migration] = (
    _v1_core,
    _v2_search,
    _v3_trash_and_settings,
    _v4_document_memory,
    _v5_reply_token_ids,
    _v6_imported_mark,
    _v7_answer_branches,
    _v8_tool_turns,
)
"""Step i (0-based) upgrades version i to i + 1."""

LATEST_VERSION = len(MIGRATIONS)
