"""Messages: add turns, stream a reply into the store, answer versions, crash recovery.

A streaming reply's life: `begin_reply` inserts an empty `streaming` row; `checkpoint`
overwrites its text (one cheap UPDATE, no search indexing: call it every second or so);
it ends with `finish` (complete, with stats), `interrupt` (the user pressed Stop) or `fail`
(an error message). If the app dies in between, the next open turns the row into
`interrupted` with the text of its last checkpoint (`recover_streaming`).

A conversation is a tree (app/storage/tree.py): `add` appends after the last message of the
current path, or after the message `parent_id` names; the new message becomes the chosen
version among its siblings. Regenerate is a new reply under the same question, editing a
question a new sibling question (`add_version`): nothing already written is changed or
deleted. `list_for` is the current path, `tree_for` every message, `shown_for` the path
with its version numbers (read without building every version); switching versions, and
a branch's trash, are in app/storage/branches.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any, NamedTuple

from app.storage.conversations import Conversations
from app.storage.db import Database
from app.storage.errors import NotFoundError
from app.storage.models import (
    Message,
    MessageState,
    ReplyStats,
    Role,
    message_from_row,
    optional_timestamp,
    stored_position,
    token_ids_json,
    tool_json,
)
from app.storage.tree import current_path, version_counts

COLUMNS = ("id, conversation_id, position, parent_id, role, text, state, stats, error, created, "
           "token_ids, token_vocab, chosen, trashed, tool")
_COLUMNS = COLUMNS
_PATH_CHUNK = 500  # ids per `IN (...)` when the path's rows are read


class _Node(NamedTuple):
    """The columns the tree's shape is found from (tree.Node): a long tree's path and version
    numbers without building a Message for every version (100,000 took about a second)."""

    id: int
    position: int
    parent_id: int | None
    chosen: bool
    trashed: object  # as Message.trashed: None unless a readable time

def _nodes(conn: sqlite3.Connection, conversation_id: int) -> list[_Node]:
    """The tree's shape (tree.Node) from five columns of every row, by position."""
    return [_Node(i, stored_position(position), parent, bool(chosen),
                  None if trashed is None else optional_timestamp(trashed))
            for i, position, parent, chosen, trashed in conn.execute(
                "SELECT id, position, parent_id, chosen, trashed FROM messages "
                "WHERE conversation_id = ? ORDER BY position", (conversation_id,))]


AT_END: object = object()
"""`add(parent_id=AT_END)`: after the last message of the current path (the default)."""


def _stats_json(stats: ReplyStats | None) -> str | None:
    if stats is None:
        return None
    return json.dumps(stats.to_dict(), ensure_ascii=False, allow_nan=False)


class Messages:
    """The messages table of one database."""

    def __init__(self, db: Database, conversations: Conversations) -> None:
        self._db = db
        self._conversations = conversations

    def add(
        self,
        conversation_id: int,
        role: Role,
        text: str,
        *,
        state: MessageState = MessageState.COMPLETE,
        stats: ReplyStats | None = None,
        error: str = "",
        parent_id: int | None | object = AT_END,
        tool: dict[str, Any] | None = None,
    ) -> int:
        """Add a message after the current path's last one (or after `parent_id`; None: a
        first message), committed before this returns. It becomes the chosen version among
        its siblings. `tool`: a tool turn's field (an `environment` turn's tool and outcome).
        The first user message titles an untitled conversation.
        """
        role = Role(role)
        with self._db.transaction() as conn:
            last = conn.execute(
                # numbers only (a damaged file's text is greater than every number), whole
                "SELECT max(CASE typeof(position) WHEN 'integer' THEN position WHEN 'real' "
                "THEN CASE WHEN abs(position) < 4503599627370496.0 THEN CAST(position AS INTEGER) "
                "END END) AS position FROM messages WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
            if parent_id is AT_END:
                path = current_path(_nodes(conn, conversation_id))  # its shape: no message built
                parent = path[-1].id if path else None
            else:
                parent = parent_id if isinstance(parent_id, int) else None
                if parent is not None and self.get(parent).conversation_id != conversation_id:
                    raise NotFoundError(f"no message {parent} in conversation {conversation_id}")
            now = self._db.now()
            self._conversations.touch(conversation_id)  # raises NotFoundError first
            conn.execute(
                "UPDATE messages SET chosen = 0 WHERE conversation_id = ? AND parent_id IS ?",
                (conversation_id, parent),
            )
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, position, parent_id, role, text, "
                "state, stats, error, created, tool) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    0 if last["position"] is None else last["position"] + 1,
                    parent,
                    role.value,
                    text,
                    MessageState(state).value,
                    _stats_json(stats),
                    error,
                    now,
                    tool_json(tool),
                ),
            )
            if role is Role.USER:
                self._conversations.fill_title(conversation_id)
            return int(cursor.lastrowid or 0)

    def get(self, message_id: int) -> Message:
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no message {message_id}")
        return message_from_row(row)

    def list_for(self, conversation_id: int) -> list[Message]:
        """The conversation's current path in order: the chosen version of every turn."""
        return self.shown_for(conversation_id)[0]

    def shown_for(self, conversation_id: int) -> tuple[list[Message], dict[int, tuple[int, int]]]:
        """What the window shows of a conversation: the current path, and for every live
        message (its number among its versions, how many there are). The tree's shape is read
        from five columns and only the path's rows become messages: a conversation of 100,000
        versions built every one of them (about a second) at each of these reads."""
        with self._db.read() as conn:
            nodes = _nodes(conn, conversation_id)
            ids = [node.id for node in current_path(nodes)]
            rows = []
            for start in range(0, len(ids), _PATH_CHUNK):
                chunk = ids[start:start + _PATH_CHUNK]
                rows += conn.execute(f"SELECT {_COLUMNS} FROM messages WHERE id IN "
                                     f"({', '.join('?' * len(chunk))})", chunk).fetchall()
        by_id = {row["id"]: message_from_row(row) for row in rows}
        return [by_id[i] for i in ids if i in by_id], version_counts(nodes)

    def version_counts_for(self, conversation_id: int) -> dict[int, tuple[int, int]]:
        """shown_for's version numbers alone (no message is built)."""
        with self._db.read() as conn:
            return version_counts(_nodes(conn, conversation_id))

    def tree_for(self, conversation_id: int) -> list[Message]:
        """Every message of the conversation (every version, branches in the trash too) by
        position, i.e. in the order they were written."""
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        return [message_from_row(row) for row in rows]

    def add_version(self, message_id: int, text: str) -> int:
        """A new version of a message beside it (an edited question): same role, same parent,
        chosen; the old one and everything after it stay as they are. Returns the new id."""
        message = self.get(message_id)
        return self.add(message.conversation_id, message.role, text, parent_id=message.parent_id)

    # -- a streaming reply ------------------------------------------------------------------

    def begin_reply(self, conversation_id: int, role: Role = Role.ASSISTANT,
                    *, parent_id: int | None | object = AT_END) -> int:
        """Insert an empty reply in state `streaming` (after `parent_id`: a regenerated answer
        is a new version under the same question); returns its id."""
        return self.add(conversation_id, role, "", state=MessageState.STREAMING,
                        parent_id=parent_id)

    def checkpoint(self, message_id: int, text: str) -> bool:
        """Save the reply's text so far. False when the row is gone or no longer streaming
        (the user deleted or edited the conversation meanwhile): stop saving then."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE messages SET text = ? WHERE id = ? AND state = 'streaming'",
                (text, message_id),
            )
            return cursor.rowcount == 1

    def finish(
        self,
        message_id: int,
        text: str,
        stats: ReplyStats | None = None,
        token_ids: Sequence[int] | None = None,
        vocab: str = "",
        tool: dict[str, Any] | None = None,
    ) -> bool:
        """The reply ended normally: final text, figures and exact ids, state `complete`;
        `tool` is the call it ends with (or the markup of one that could not be read)."""
        return self._end(message_id, MessageState.COMPLETE, text, stats, "", token_ids, vocab, tool)

    def interrupt(
        self,
        message_id: int,
        text: str | None = None,
        stats: ReplyStats | None = None,
        token_ids: Sequence[int] | None = None,
        vocab: str = "",
    ) -> bool:
        """The user stopped the reply: keep the text (the last checkpoint when None)."""
        return self._end(message_id, MessageState.INTERRUPTED, text, stats, "", token_ids, vocab)

    def fail(
        self, message_id: int, error: str, text: str | None = None, stats: ReplyStats | None = None
    ) -> bool:
        """Generation failed: keep the partial text and the error sentence (ids unknown)."""
        return self._end(message_id, MessageState.ERROR, text, stats, error)

    def set_token_ids(self, message_id: int, text: str, token_ids: Sequence[int], vocab: str) -> bool:
        """Store the ids a reply without them was tokenized to (once): only while its text is
        still `text` and it is not streaming; False when it changed or is gone."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE messages SET token_ids = ?, token_vocab = ? "
                "WHERE id = ? AND text = ? AND state != 'streaming'",
                (token_ids_json(token_ids), vocab, message_id, text),
            )
            return cursor.rowcount == 1

    def _end(
        self,
        message_id: int,
        state: MessageState,
        text: str | None,
        stats: ReplyStats | None,
        error: str,
        token_ids: Sequence[int] | None = None,
        vocab: str = "",
        tool: dict[str, Any] | None = None,
    ) -> bool:
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT conversation_id FROM messages WHERE id = ? AND state = 'streaming'",
                (message_id,),
            ).fetchone()
            if row is None:
                return False
            conn.execute(
                "UPDATE messages SET text = coalesce(?, text), state = ?, stats = ?, error = ?, "
                "token_ids = ?, token_vocab = ?, tool = ? WHERE id = ?",
                (text, state.value, _stats_json(stats), error, token_ids_json(token_ids),
                 vocab if token_ids is not None else "", tool_json(tool), message_id),
            )
            self._conversations.touch(row["conversation_id"])
            return True

    def recover_streaming(self) -> int:
        """Turn replies left `streaming` by a crash into `interrupted`, text kept; how many."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE messages SET state = 'interrupted' WHERE state = 'streaming'"
            )
            return cursor.rowcount
