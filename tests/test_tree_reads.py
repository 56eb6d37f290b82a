"""How much of a conversation's tree the window builds: the path's messages, not every version.
A conversation of 100,000 versions took about a second to build, and the window built it four
times on every open (the path, the version numbers, a waiting tool call, the Regenerate
button) and at every step of a send (the prompt, the question, the reply, the transcript, the
buttons). The path and the version numbers now come from five columns of every row and the
full rows of the path alone. The real store, the real window offscreen, the tiny llama.cpp stop
model; the messages built are counted by wrapping the store's own row reader."""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

import app.storage.messages as messages_module
from app.storage import ConversationStore, Role
from app.storage.tree import current_path, version_counts
from app.ui.window.main_window import MainWindow
from tests.conftest import STOP_PROMPT
from tests.ui_helpers import send, wait_until

_WHEN = "2026-01-02T03:04:05Z"
_VERSIONS = 3_000


def _archive(messages: list[dict[str, object]]) -> dict[str, object]:
    return {"format": "internlm2-desktop/conversation", "format_version": 2,
            "conversation": {"title": "generated", "created": _WHEN, "updated": _WHEN},
            "messages": [{"created": _WHEN, **m} for m in messages]}


def _random_tree(rng: random.Random, size: int) -> list[dict[str, object]]:
    return [{"role": rng.choice(["user", "assistant", "system"]), "text": f"m{i} " * rng.randrange(1, 5),
             "parent": rng.choice([None, *range(i)]) if i else None,
             "chosen": rng.random() < 0.5} for i in range(size)]


def test_the_path_and_version_numbers_are_those_of_the_whole_tree(store: ConversationStore) -> None:
    rng = random.Random(73)
    for _ in range(40):
        cid = store.import_json(_archive(_random_tree(rng, rng.randrange(1, 60))))
        if rng.random() < 0.3:  # a branch in the trash is left out of both
            with contextlib.suppress(ValueError):  # the only version of its turn stays
                store.branches.trash(rng.choice(store.messages.tree_for(cid)).id)
        tree = store.messages.tree_for(cid)
        shown, versions = store.messages.shown_for(cid)
        assert shown == current_path(tree)
        assert store.messages.list_for(cid) == shown
        assert versions == version_counts(tree) == store.messages.version_counts_for(cid)


# What a hand-edited or damaged file can hold in the columns the tree is read from: SQLite
# keeps any type in any column (text in an INTEGER column, bytes, a real, a time that is not one).
_DAMAGE: dict[str, list[object]] = {
    "chosen": [2, -1, "yes", "", b"\x00", 0.5],
    "trashed": ["garbage", "", 5, 1.5, b"\x01\x02", "2026-13-45T99:00:00Z", _WHEN],
    "parent_id": ["abc", b"\xff", 10**9, -3, 1.5],
    "position": ["abc", "", b"\x00", 1.5, -7.25, float("inf"), -(2**40)],
}


def test_damaged_tree_columns_neither_break_nor_split_the_reads(store: ConversationStore) -> None:
    """Random trees whose rows are damaged in place (not through an import, which checks):
    the path and the version numbers still equal the whole tree's, and a new message can be
    added at the end of what is shown."""
    rng = random.Random(97)
    for _ in range(30):
        cid = store.import_json(_archive(_random_tree(rng, rng.randrange(2, 40))))
        ids = [m.id for m in store.messages.tree_for(cid)]
        with sqlite3.connect(store.path) as conn:
            for _ in range(rng.randrange(1, 6)):
                column = rng.choice(list(_DAMAGE))
                value = rng.choice([*_DAMAGE[column], rng.choice(ids)])
                conn.execute(f"UPDATE messages SET {column} = ? WHERE id = ?", (value, rng.choice(ids)))
        tree = store.messages.tree_for(cid)
        shown, versions = store.messages.shown_for(cid)
        assert shown == current_path(tree)
        assert versions == version_counts(tree) == store.messages.version_counts_for(cid)
        added = store.messages.add(cid, Role.USER, "after the damage")
        assert store.messages.list_for(cid)[-1].id == added
        assert len(store.messages.tree_for(cid)) == len(ids) + 1


class _Built:
    """Counts the messages the store builds from rows (message_from_row)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = messages_module.message_from_row

        def counted(row: Any) -> Any:
            self.count += 1
            return real(row)

        monkeypatch.setattr(messages_module, "message_from_row", counted)



def _many_versions(store: ConversationStore) -> tuple[int, int]:
    chosen = random.Random(5).randrange(_VERSIONS)
    messages: list[dict[str, object]] = [{"role": "user", "text": STOP_PROMPT, "parent": None}]
    messages += [{"role": "assistant", "text": f"version {i}", "parent": 0, "chosen": i == chosen}
                 for i in range(_VERSIONS)]
    return store.import_json(json.dumps(_archive(messages))), chosen


def test_opening_and_answering_in_a_conversation_of_many_versions_builds_its_path_only(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, monkeypatch: pytest.MonkeyPatch) -> None:
    cid, chosen = _many_versions(store)
    built = _Built(monkeypatch)
    window.open_conversation(cid)
    wait_until(qtbot, lambda: window.view.pending == 0 and f"version {chosen}" in window.view.toPlainText(),
               "the chosen version to be shown")
    label = f"{chosen + 1} / {_VERSIONS}"
    text = window.view.toPlainText().replace(",", "")
    assert label in text, f"the version links ({label}) in {text[-200:]!r}"
    assert window.composer.regenerate_button.isEnabled()
    assert built.count < 50, f"{built.count} messages built to open a path of 2"
    opened = built.count
    reply = send(qtbot, window, STOP_PROMPT)
    wait_until(qtbot, window.composer.regenerate_button.isEnabled, "Regenerate to be offered again")
    assert built.count - opened < 100, f"{built.count - opened} messages built for one send"
    assert store.messages.get(reply).role is Role.ASSISTANT
    assert store.messages.list_for(cid)[-1].id == reply
    assert len(store.messages.tree_for(cid)) == _VERSIONS + 3  # every version kept
