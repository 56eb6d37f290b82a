"""A conversation as a tree of messages: the chosen path and each message's versions.

Pure functions over the messages of one conversation (as `Messages.tree_for` returns them,
in `position` order). A message's siblings (same `parent_id`) are its versions: a regenerated
answer is a sibling of the answer before it, an edited question a sibling of the question.
The path shown starts at the chosen root and follows the chosen child of each message; a
level where no sibling is marked chosen (a damaged or hand-edited file) shows the newest one.
A branch in the trash (`trashed`) and everything under it is not part of the tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from app.storage.models import Message


class Node(Protocol):
    """What the tree is made of: a Message, or the few columns of one (Messages reads those
    alone to find the path of a long tree without building every message)."""

    @property
    def id(self) -> int: ...
    @property
    def position(self) -> int: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def chosen(self) -> bool: ...
    @property
    def trashed(self) -> object: ...


N = TypeVar("N", bound=Node)


def children_of(messages: Sequence[N]) -> dict[int | None, list[N]]:
    """Each parent id (None: the conversation's start) with its live children by position."""
    known = {m.id for m in messages}
    children: dict[int | None, list[N]] = {}
    for message in sorted(messages, key=lambda m: m.position):
        if message.trashed is not None:
            continue
        parent = message.parent_id if message.parent_id in known else None
        if parent == message.id:
            parent = None
        children.setdefault(parent, []).append(message)
    return children


def _pick(versions: Sequence[N]) -> N:
    chosen = [m for m in versions if m.chosen]
    return (chosen or list(versions))[-1]


def current_path(messages: Sequence[N]) -> list[N]:
    """The messages shown, first to last: the chosen version at each level."""
    children = children_of(messages)
    path: list[N] = []
    seen: set[int] = set()
    parent: int | None = None
    while children.get(parent):
        message = _pick(children[parent])
        if message.id in seen:  # a cycle in a damaged file: stop rather than loop
            break
        seen.add(message.id)
        path.append(message)
        parent = message.id
    return path


def path_to(messages: Sequence[Message], message_id: int) -> list[Message]:
    """The messages from the conversation's start down to this one (itself last), whichever
    branch is shown; [] if unknown. Bounded on a damaged file's parent cycle."""
    by_id = {m.id: m for m in messages}
    found: list[Message] = []
    seen: set[int] = set()
    current = by_id.get(message_id)
    while current is not None and current.id not in seen:
        seen.add(current.id)
        found.append(current)
        current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return found[::-1]


def versions_of(messages: Sequence[Message], message_id: int) -> list[Message]:
    """The versions of a message (itself and its live siblings) by position; [] if unknown."""
    children = children_of(messages)
    for versions in children.values():
        if any(m.id == message_id for m in versions):
            return versions
    return []


def version_counts(messages: Sequence[Node]) -> dict[int, tuple[int, int]]:
    """For every live message: (its 1-based number among its versions, how many there are)."""
    counts: dict[int, tuple[int, int]] = {}
    for versions in children_of(messages).values():
        for index, message in enumerate(versions):
            counts[message.id] = (index + 1, len(versions))
    return counts


def subtree_ids(messages: Sequence[Message], root_id: int) -> list[int]:
    """The message and every message under it (trashed or not), root first."""
    below: dict[int | None, list[int]] = {}
    for message in messages:
        below.setdefault(message.parent_id, []).append(message.id)
    found: list[int] = []
    seen: set[int] = set()
    stack = [root_id]
    while stack:
        current = stack.pop()
        if current in seen:  # a cycle in a damaged file
            continue
        seen.add(current)
        found.append(current)
        stack.extend(below.get(current, []))
    return found


def other_versions(messages: Sequence[Message]) -> int:
    """How many live messages are not on the current path (the versions not shown)."""
    live = sum(1 for _ in _live(messages))
    return live - len(current_path(messages))


def _live(messages: Sequence[Message]) -> list[Message]:
    children = children_of(messages)
    reached: list[Message] = []
    stack: list[int | None] = [None]
    seen: set[int] = set()
    while stack:
        for child in children.get(stack.pop(), []):
            if child.id not in seen:
                seen.add(child.id)
                reached.append(child)
                stack.append(child.id)
    return reached
