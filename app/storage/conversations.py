"""Conversations: create, list, rename, settings, the trash (delete, restore, purge), titles.

Deleting a conversation moves it to the trash (`deleted_at` is set): it disappears from the
list and from search but keeps every message, so the UI can offer Undo (`restore`). Only
`purge` removes rows for good; its messages and documents go with it (ON DELETE CASCADE,
and the search index follows through its triggers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from app.storage.db import Database
from app.storage.errors import NotFoundError
from app.storage.models import Conversation, conversation_from_row

TITLE_MAX_CHARS = 50
_ELLIPSIS = "…"
_COLUMNS = ("id, title, created, updated, model, system_prompt, sampling, deleted_at, drop_turns, "
            "imported, tools")


def suggest_title(text: str, max_chars: int = TITLE_MAX_CHARS) -> str:
    """A title from a first question: its first non-blank line, cut at a word boundary.

    Text without spaces near the limit (Chinese, a long URL) is cut at `max_chars`.
    """
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"\s+", " ", line).strip()
    if len(line) <= max_chars:
        return line
    head = line[: max_chars + 1]
    cut = head.rfind(" ")
    if cut < max_chars // 2:
        cut = max_chars
    return head[:cut].rstrip(" ,.;:-—–，。；：、") + _ELLIPSIS


def _sampling_json(sampling: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(sampling or {}), ensure_ascii=False, sort_keys=True, allow_nan=False)


class Conversations:
    """The conversations table of one database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        title: str = "",
        *,
        model: str = "",
        system_prompt: str = "",
        sampling: Mapping[str, Any] | None = None,
    ) -> Conversation:
        """A new, empty conversation (committed). An empty title is filled from the first
        user message."""
        sampling_json = _sampling_json(sampling)
        with self._db.transaction() as conn:
            now = self._db.now()
            cursor = conn.execute(
                "INSERT INTO conversations (title, created, updated, model, system_prompt, "
                "sampling) VALUES (?, ?, ?, ?, ?, ?)",
                (title.strip(), now, now, model, system_prompt, sampling_json),
            )
            conversation_id = int(cursor.lastrowid or 0)
            return self.get(conversation_id, include_trashed=True)

    def get(self, conversation_id: int, *, include_trashed: bool = True) -> Conversation:
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        if row is None or (not include_trashed and row["deleted_at"] is not None):
            raise NotFoundError(f"no conversation {conversation_id}")
        return conversation_from_row(row)

    def list_recent(self, limit: int | None = None) -> list[Conversation]:
        """Conversations not in the trash, most recently updated first."""
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM conversations WHERE deleted_at IS NULL "
                "ORDER BY updated DESC, id DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [conversation_from_row(row) for row in rows]

    def latest_empty(self) -> Conversation | None:
        """The most recent conversation with no title, no message and no document (a "New
        chat" that was never used), so New chat can reuse it instead of piling up empties."""
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM conversations c WHERE deleted_at IS NULL AND title = '' "
                "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id) "
                "AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.conversation_id = c.id) "
                "ORDER BY updated DESC, id DESC LIMIT 1"
            ).fetchone()
        return conversation_from_row(row) if row is not None else None

    def matching_title(self, query: str, limit: int = 50) -> list[Conversation]:
        """Conversations (not in the trash) whose title holds every word of `query`, in any
        case, most recent first. Any text is a valid query (LIKE wildcards are escaped)."""
        words = [w for w in query.split() if w]
        if not words:
            return []
        clauses = " AND ".join("title LIKE ? ESCAPE '\\'" for _ in words)
        params = ["%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                  for w in words]
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM conversations WHERE deleted_at IS NULL AND {clauses} "
                "ORDER BY updated DESC, id DESC LIMIT ?", (*params, limit),
            ).fetchall()
        return [conversation_from_row(row) for row in rows]

    def list_trash(self) -> list[Conversation]:
        """Conversations in the trash, most recently deleted first."""
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM conversations WHERE deleted_at IS NOT NULL "
                "ORDER BY deleted_at DESC, id DESC"
            ).fetchall()
        return [conversation_from_row(row) for row in rows]

    def rename(self, conversation_id: int, title: str) -> None:
        """Set the title; an empty one lets the next user message suggest it again."""
        self._update(conversation_id, "title = ?", (title.strip(),))

    def update(
        self,
        conversation_id: int,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        sampling: Mapping[str, Any] | None = None,
        drop_turns: int | None = None,
        tools: Mapping[str, Any] | None = None,
    ) -> None:
        """Change the model, system prompt, sampling, left-out turns or tools (those given)."""
        sets: list[str] = []
        values: list[Any] = []
        if model is not None:
            sets.append("model = ?")
            values.append(model)
        if system_prompt is not None:
            sets.append("system_prompt = ?")
            values.append(system_prompt)
        if sampling is not None:
            sets.append("sampling = ?")
            values.append(_sampling_json(sampling))
        if drop_turns is not None:
            sets.append("drop_turns = ?")
            values.append(max(0, int(drop_turns)))
        if tools is not None:
            sets.append("tools = ?")
            values.append(_sampling_json(tools))
        if sets:
            self._update(conversation_id, ", ".join(sets), tuple(values))

    def touch(self, conversation_id: int) -> None:
        """Mark the conversation as just updated (moves it to the top of the list)."""
        self._update(conversation_id, "", ())

    def _update(self, conversation_id: int, sets: str, values: tuple[Any, ...]) -> None:
        assignments = f"{sets}, updated = ?" if sets else "updated = ?"
        with self._db.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE conversations SET {assignments} WHERE id = ?",
                (*values, self._db.now(), conversation_id),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"no conversation {conversation_id}")

    def delete(self, conversation_id: int) -> None:
        """Move to the trash (undo with `restore`)."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE conversations SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                (self._db.now(), conversation_id),
            )
            if cursor.rowcount == 0:
                self.get(conversation_id)  # raises NotFoundError; already trashed is fine

    def restore(self, conversation_id: int) -> None:
        """Take a conversation out of the trash, back where it was in the list."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE conversations SET deleted_at = NULL WHERE id = ?", (conversation_id,)
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"no conversation {conversation_id}")

    def purge(self, conversation_ids: Iterable[int] | None = None) -> int:
        """Delete trashed conversations for good (all of them, or those named); returns how
        many. A conversation not in the trash is never purged."""
        with self._db.transaction() as conn:
            if conversation_ids is None:
                cursor = conn.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL")
                return cursor.rowcount
            removed = 0
            for conversation_id in conversation_ids:
                cursor = conn.execute(
                    "DELETE FROM conversations WHERE id = ? AND deleted_at IS NOT NULL",
                    (conversation_id,),
                )
                removed += cursor.rowcount
            return removed

    def fill_title(self, conversation_id: int) -> str:
        """Give an untitled conversation the title suggested by its first user message.

        Returns the title it has afterwards (unchanged when it had one).
        """
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT title, (SELECT text FROM messages WHERE conversation_id = c.id "
                "AND role = 'user' ORDER BY position LIMIT 1) AS first "
                "FROM conversations AS c WHERE id = ?",
                (conversation_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no conversation {conversation_id}")
            if row["title"] or not row["first"]:
                return str(row["title"])
            title = suggest_title(row["first"])
            conn.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id)
            )
            return title
