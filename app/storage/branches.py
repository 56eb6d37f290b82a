"""Answer versions: choose the version shown, open the branch that holds a message, and the
trash of a branch (delete, restore, purge), all without touching what was written.

`choose` marks one version chosen among its siblings; `show` chooses every ancestor of a
message too, so the path runs through it (a search hit opens its branch this way). Deleting a
version moves it and every message after it to the trash (`messages.trashed`, the same time on
each): it leaves the path and search, the path shows a neighbouring version instead, and
`restore` brings the branch back as the chosen one. `purge` removes a trashed branch for good.
Only a message that has another version can be deleted this way: the conversation itself is
what the conversation trash is for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.storage.conversations import Conversations
from app.storage.db import Database
from app.storage.errors import NotFoundError
from app.storage.messages import COLUMNS, Messages
from app.storage.models import Message, MessageState, message_from_row
from app.storage.tree import subtree_ids, versions_of


@dataclass(frozen=True)
class TrashedBranch:
    """A branch in the trash: its first message, the conversation and how many messages."""

    message: Message
    conversation_title: str
    size: int


class Branches:
    """The version choices and the branch trash of one database."""

    def __init__(self, db: Database, conversations: Conversations, messages: Messages) -> None:
        self._db = db
        self._conversations = conversations
        self._messages = messages

    def choose(self, message_id: int) -> None:
        """Show this version of its turn (its siblings stay, unchosen)."""
        with self._db.transaction() as conn:
            message = self._messages.get(message_id)
            conn.execute(
                "UPDATE messages SET chosen = (id = ?) WHERE conversation_id = ? AND parent_id IS ?",
                (message_id, message.conversation_id, message.parent_id),
            )

    def show(self, message_id: int) -> None:
        """Make the current path run through this message (choose it and its ancestors)."""
        with self._db.transaction():
            message = self._messages.get(message_id)
            by_id = {m.id: m for m in self._messages.tree_for(message.conversation_id)}
            current: Message | None = message
            seen: set[int] = set()
            while current is not None and current.id not in seen:
                seen.add(current.id)
                if not current.chosen:
                    self.choose(current.id)
                current = by_id.get(current.parent_id) if current.parent_id is not None else None

    def switch(self, message_id: int, step: int) -> int | None:
        """Choose the version `step` places from this one (-1: previous, +1: next); the id
        chosen, or None when there is none that way."""
        with self._db.transaction():
            message = self._messages.get(message_id)
            versions = versions_of(self._messages.tree_for(message.conversation_id), message_id)
            ids = [m.id for m in versions]
            if message_id not in ids:
                return None
            index = ids.index(message_id) + step
            if not 0 <= index < len(ids):
                return None
            self.choose(ids[index])
            return ids[index]

    def trash(self, message_id: int) -> None:
        """Move this version and everything after it to the trash; a neighbouring version is
        shown instead. ValueError when it is the only version of its turn, or still streaming."""
        with self._db.transaction() as conn:
            message = self._messages.get(message_id)
            tree = self._messages.tree_for(message.conversation_id)
            versions = versions_of(tree, message_id)
            if len(versions) < 2:
                raise ValueError("the only version of a turn cannot be deleted on its own")
            ids = subtree_ids(tree, message_id)
            below = set(ids)
            if any(m.state is MessageState.STREAMING for m in tree if m.id in below):
                raise ValueError("stop the streaming reply before deleting its branch")
            now = self._db.now()
            conn.executemany(
                "UPDATE messages SET trashed = ? WHERE id = ? AND trashed IS NULL",
                [(now, i) for i in ids],
            )
            if message.chosen:
                others = [m for m in versions if m.id != message_id]
                before = [m for m in others if m.position < message.position]
                self.choose((before or others)[-1 if before else 0].id)
            self._conversations.touch(message.conversation_id)

    def restore(self, message_id: int) -> None:
        """Bring a trashed branch back (the messages trashed with it) and show it. A branch
        inside one deleted later (a version of an answer in a deleted branch) brings that
        outer branch back too: otherwise it would leave the trash and still not be seen."""
        with self._db.transaction() as conn:
            message = self._messages.get(message_id)
            if message.trashed is None:
                return
            tree = self._messages.tree_for(message.conversation_id)
            parents = {m.id: m.parent_id for m in tree}
            stamps = {int(row["id"]): row["trashed"] for row in conn.execute(
                "SELECT id, trashed FROM messages WHERE conversation_id = ?", (message.conversation_id,))}
            roots: list[int] = []
            current: int | None = message_id
            seen: set[int] = set()
            while current is not None and current not in seen:  # bounded on a cycle
                seen.add(current)
                parent = parents.get(current)
                above = stamps.get(parent) if parent is not None else None
                if stamps.get(current) is not None and stamps.get(current) != above:
                    roots.append(current)  # the first message of a trashed branch on the way up
                current = parent
            for root in roots:
                conn.executemany(
                    "UPDATE messages SET trashed = NULL WHERE id = ? AND trashed = ?",
                    [(i, stamps[root]) for i in subtree_ids(tree, root)],
                )
            self.show(message_id)
            self._conversations.touch(message.conversation_id)

    def purge(self, message_ids: Sequence[int] | None = None) -> int:
        """Delete trashed branches for good (all, or those named by their first message);
        how many messages went. A message not in the trash is never deleted."""
        with self._db.transaction() as conn:
            roots = [b.message.id for b in self.list_trash()] if message_ids is None else list(message_ids)
            removed = 0
            for root in roots:
                try:
                    message = self._messages.get(root)
                except NotFoundError:
                    continue
                if message.trashed is None:
                    continue
                ids = subtree_ids(self._messages.tree_for(message.conversation_id), root)
                for i in reversed(ids):
                    removed += conn.execute(
                        "DELETE FROM messages WHERE id = ? AND trashed IS NOT NULL", (i,)
                    ).rowcount
            return removed

    def list_trash(self) -> list[TrashedBranch]:
        """Trashed branches of conversations not in the trash, most recently deleted first."""
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {', '.join('m.' + c.strip() for c in COLUMNS.split(','))}, "
                "c.title AS conversation_title, "
                "(SELECT count(*) FROM messages AS o WHERE o.conversation_id = m.conversation_id "
                " AND o.trashed = m.trashed) AS size "
                "FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id "
                "LEFT JOIN messages AS p ON p.id = m.parent_id "
                "WHERE m.trashed IS NOT NULL AND c.deleted_at IS NULL "
                "AND (p.id IS NULL OR p.trashed IS NOT m.trashed) "
                "ORDER BY m.trashed DESC, m.id DESC"
            ).fetchall()
        return [TrashedBranch(message_from_row(row), row["conversation_title"], int(row["size"]))
                for row in rows]
