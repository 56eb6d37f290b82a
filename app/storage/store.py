"""The conversation store: one SQLite file and the typed API the app uses on it.

    store = ConversationStore()                 # data_dir()/conversations.sqlite3
    chat = store.conversations.create(model="internlm2-chat-1_8b")
    store.messages.add(chat.id, Role.USER, "Hello")
    reply = store.messages.begin_reply(chat.id)
    store.messages.checkpoint(reply, "Hi th")   # at least once a second while streaming
    store.messages.finish(reply, "Hi there!", stats)

Opening runs the checks and migrations of `db.Database` and turns replies a crash left
`streaming` into `interrupted` (how many: `recovered_replies`). A damaged file raises
`DatabaseCorruptError`; `ConversationStore.start_fresh(path)` then sets it aside and opens a
new one. No other refusal (locked, too new, another program's, write-protected) is damage:
those files are never moved. A file this process may not write opens read-only
(`read_only`, `read_only_reason`): reading, search and export work, writes raise
`DatabaseReadOnlyError`. Every write is its own committed transaction unless wrapped in
`store.db.transaction()`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from app.storage.branches import Branches
from app.storage.conversations import Conversations
from app.storage.db import Database, default_path, move_aside
from app.storage.documents import Documents
from app.storage.errors import SearchIndexError
from app.storage.export import Archive, parse_archive, to_dict, to_markdown, write_archive
from app.storage.messages import Messages
from app.storage.models import SearchHit
from app.storage.search import DEFAULT_ELLIPSIS, DEFAULT_MARKERS, search_messages
from app.storage.settings import Settings


class ConversationStore:
    """Conversations, messages, documents, settings and search over one database file."""

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False,
                 lock_wait_s: float | None = None) -> None:
        self.db = Database(default_path() if path is None else path, read_only=read_only,
                           lock_wait_s=lock_wait_s)
        self.conversations = Conversations(self.db)
        self.messages = Messages(self.db, self.conversations)
        self.documents = Documents(self.db, self.conversations)
        self.branches = Branches(self.db, self.conversations, self.messages)
        self.settings = Settings(self.db)
        self.recovered_replies = 0 if self.db.read_only else self._recover()

    def _recover(self) -> int:
        try:
            return self.messages.recover_streaming()
        except SearchIndexError as err:  # its triggers touch the index: rebuilt, once more
            if not err.rebuilt:
                raise
            return self.messages.recover_streaming()

    @classmethod
    def start_fresh(cls, path: Path | str | None = None) -> tuple[ConversationStore, Path | None]:
        """Move a damaged database aside (renamed with a timestamp, never deleted) and open a
        new, empty one at the same path. Returns the store and where the old file went.
        Only for `DatabaseCorruptError`: the caller has seen that the file is damaged."""
        target = Path(default_path() if path is None else path)
        moved = move_aside(target) if target.exists() else None
        return cls(target), moved

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def read_only(self) -> bool:
        """True when nothing can be saved (`read_only_reason` says why, for a sentence)."""
        return self.db.read_only

    @property
    def read_only_reason(self) -> str:
        return self.db.read_only_reason

    def search(
        self,
        query: str,
        *,
        limit: int = 50,
        markers: tuple[str, str] = DEFAULT_MARKERS,
        ellipsis: str = DEFAULT_ELLIPSIS,
    ) -> list[SearchHit]:
        """Messages matching the query (any text is safe), best first, with snippets."""
        return search_messages(self.db, query, limit=limit, markers=markers, ellipsis=ellipsis)

    def export_dict(self, conversation_id: int) -> dict[str, Any]:
        """The JSON archive of a conversation as a Python object: every version (branches in
        the trash left out) and the chosen path."""
        with self.db.read():
            conversation = self.conversations.get(conversation_id)
            messages = self.messages.tree_for(conversation_id)
            documents = self.documents.list_for(conversation_id)
        return to_dict(conversation, messages, documents, self.db.now())

    def export_json(self, conversation_id: int) -> str:
        """The JSON archive of a conversation as text (UTF-8 friendly, indented)."""
        return json.dumps(self.export_dict(conversation_id), ensure_ascii=False, indent=2)

    def export_markdown(
        self, conversation_id: int, labels: Mapping[str, str] | None = None
    ) -> str:
        """A Markdown transcript of the current path (and how many other versions there are);
        `labels` overrides the English words (see MARKDOWN_LABELS)."""
        with self.db.read():
            conversation = self.conversations.get(conversation_id)
            messages = self.messages.tree_for(conversation_id)
            documents = self.documents.list_for(conversation_id)
        return to_markdown(conversation, messages, documents, labels)

    def import_json(self, data: str | bytes | Mapping[str, Any]) -> int:
        """Create a new conversation from an export; ImportFormatError if it cannot be read."""
        return self.import_archive(parse_archive(data))

    def import_archive(self, archive: Archive) -> int:
        """Create a new conversation from a checked export (`export.parse_archive`, which needs
        no database and so can run on another thread), in one transaction."""
        return write_archive(self.db, archive)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
