"""Documents attached to a conversation: the file's name, path, hash and its text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from app.sentences import to_json
from app.storage.conversations import Conversations
from app.storage.db import Database
from app.storage.errors import NotFoundError
from app.storage.models import Document, document_from_row

_COLUMNS = "id, conversation_id, name, path, sha256, characters, text, created, warnings"


def text_sha256(text: str) -> str:
    """The hash recorded when the caller has no hash of the file's bytes: UTF-8 of the text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Documents:
    """The documents table of one database."""

    def __init__(self, db: Database, conversations: Conversations) -> None:
        self._db = db
        self._conversations = conversations

    def attach(
        self,
        conversation_id: int,
        name: str,
        text: str,
        *,
        path: str = "",
        sha256: str | None = None,
        warnings: Sequence[str] = (),
    ) -> Document:
        """Store a document's text with a conversation (committed); `sha256` is the file's
        hash if the reader has it, else the text's; `warnings` are the reader's sentences."""
        with self._db.transaction() as conn:
            self._conversations.touch(conversation_id)
            cursor = conn.execute(
                "INSERT INTO documents (conversation_id, name, path, sha256, characters, text, "
                "created, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    name,
                    path,
                    sha256 or text_sha256(text),
                    len(text),
                    text,
                    self._db.now(),
                    json.dumps([to_json(w) for w in warnings], ensure_ascii=False),
                ),
            )
            return self.get(int(cursor.lastrowid or 0))

    def get(self, document_id: int) -> Document:
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE id = ?", (document_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no document {document_id}")
        return document_from_row(row)

    def list_for(self, conversation_id: int) -> list[Document]:
        """The conversation's documents in the order they were attached."""
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [document_from_row(row) for row in rows]

    def remove(self, document_id: int) -> None:
        """Detach a document from its conversation (its text is deleted)."""
        with self._db.transaction() as conn:
            document = self.get(document_id)
            conn.execute("DELETE FROM documents WHERE id = ?", (document_id,))
            self._conversations.touch(document.conversation_id)
