"""A conversation as a tree: versions added by regenerate and edit, the chosen path (kept in
the file), switching, opening the branch of a message, a branch's trash, and the JSON export
carrying the whole tree. Random sequences of these are checked against a plain model."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from app.storage import ConversationStore, ImportFormatError, Role
from app.storage.tree import current_path, version_counts


@pytest.fixture()
def store(tmp_path: Path) -> ConversationStore:
    with ConversationStore(tmp_path / "c.sqlite3") as opened:
        yield opened


def _texts(store: ConversationStore, cid: int) -> list[str]:
    return [m.text for m in store.messages.list_for(cid)]


def _chat(store: ConversationStore) -> tuple[int, list[int]]:
    chat = store.conversations.create()
    ids = [store.messages.add(chat.id, role, text) for role, text in (
        (Role.USER, "q1"), (Role.ASSISTANT, "a1"), (Role.USER, "q2"), (Role.ASSISTANT, "a2"))]
    return chat.id, ids


def test_three_regenerations_switch_and_reopen_show_the_same_three_and_the_chosen(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with ConversationStore(path) as store:
        cid, (q1, a1, q2, a2) = _chat(store)
        again = [store.messages.add(cid, Role.ASSISTANT, f"a2 v{n}", parent_id=q2) for n in (2, 3)]
        assert _texts(store, cid) == ["q1", "a1", "q2", "a2 v3"]
        counts = version_counts(store.messages.tree_for(cid))
        assert [counts[i] for i in (a2, *again)] == [(1, 3), (2, 3), (3, 3)]
        assert store.branches.switch(again[1], -1) == again[0]
        assert store.branches.switch(again[0], -1) == a2
        assert store.branches.switch(a2, -1) is None  # no version before the first
        assert store.branches.switch(a2, +1) == again[0]
    with ConversationStore(path) as store:  # a restart shows the same branch
        assert _texts(store, cid) == ["q1", "a1", "q2", "a2 v2"]
        assert sorted(m.text for m in store.messages.tree_for(cid) if m.parent_id == q2) == [
            "a2", "a2 v2", "a2 v3"]


def test_an_edited_question_keeps_the_old_branch_whole(store: ConversationStore) -> None:
    cid, (q1, a1, q2, a2) = _chat(store)
    edited = store.messages.add_version(q1, "q1 edited")
    store.messages.add(cid, Role.ASSISTANT, "a1 for the edit")
    assert _texts(store, cid) == ["q1 edited", "a1 for the edit"]
    store.branches.switch(edited, -1)
    assert [m.id for m in store.messages.list_for(cid)] == [q1, a1, q2, a2]
    store.branches.show(edited)  # e.g. a search hit in the other branch
    assert _texts(store, cid) == ["q1 edited", "a1 for the edit"]
    store.branches.show(a2)
    assert _texts(store, cid) == ["q1", "a1", "q2", "a2"]


def test_a_deleted_version_goes_to_the_trash_with_what_follows_and_comes_back(
        store: ConversationStore) -> None:
    cid, (q1, a1, q2, a2) = _chat(store)
    with pytest.raises(ValueError):
        store.branches.trash(a1)  # the only version: that is what the conversation trash is for
    edited = store.messages.add_version(q2, "q2 edited")
    answer = store.messages.add(cid, Role.ASSISTANT, "a2 for the edit")
    store.branches.trash(edited)
    assert [m.id for m in store.messages.list_for(cid)] == [q1, a1, q2, a2]  # the other version
    (trashed,) = store.branches.list_trash()
    assert (trashed.message.id, trashed.size, trashed.conversation_title) == (edited, 2, "q1")
    assert store.messages.get(answer).trashed is not None
    store.branches.restore(edited)
    assert [m.id for m in store.messages.list_for(cid)] == [q1, a1, edited, answer]
    assert store.branches.list_trash() == []
    store.branches.trash(q2)
    assert store.branches.purge([q1]) == 0  # not in the trash: never purged
    assert store.branches.purge() == 2
    assert [m.id for m in store.messages.tree_for(cid)] == [q1, a1, edited, answer]
    store.conversations.delete(cid)  # a trashed conversation's branches are its own business
    assert store.branches.list_trash() == []


def _model_path(tree: dict[int | None, list[int]], chosen: dict[int | None, int]) -> list[int]:
    path: list[int] = []
    parent: int | None = None
    while tree.get(parent):
        parent = chosen[parent]
        path.append(parent)
    return path


def test_random_sequences_of_versions_and_switches_match_a_plain_model(store: ConversationStore) -> None:
    rng = random.Random(14)
    for _ in range(4):
        cid = store.conversations.create().id
        tree: dict[int | None, list[int]] = {}
        chosen: dict[int | None, int] = {}
        parent_of: dict[int, int | None] = {}
        for step in range(60):
            path = _model_path(tree, chosen)
            action = rng.choice(["add", "add", "version", "switch", "show"]) if path else "add"
            if action == "add":
                parent = path[-1] if path else None
                new = store.messages.add(cid, rng.choice(list(Role)), f"m{step}")
            elif action == "version":
                target = rng.choice(path)
                parent = parent_of[target]
                new = store.messages.add_version(target, f"m{step} again")
            else:
                target = rng.choice([m for ids in tree.values() for m in ids])
                if action == "switch":
                    versions = tree[parent_of[target]]
                    store.branches.switch(target, 0)
                    chosen[parent_of[target]] = target if target in versions else chosen[parent_of[target]]
                else:
                    store.branches.show(target)
                    node: int | None = target
                    while node is not None:
                        chosen[parent_of[node]] = node
                        node = parent_of[node]
                assert [m.id for m in store.messages.list_for(cid)] == _model_path(tree, chosen)
                continue
            tree.setdefault(parent, []).append(new)
            chosen[parent] = new
            parent_of[new] = parent
            assert [m.id for m in store.messages.list_for(cid)] == _model_path(tree, chosen)
        whole = store.messages.tree_for(cid)
        assert len(whole) == len(parent_of)  # nothing was ever deleted
        copy = store.import_json(store.export_json(cid))  # the export rebuilds the same tree
        again = store.messages.tree_for(copy)
        index = {m.id: i for i, m in enumerate(whole)}
        index_copy = {m.id: i for i, m in enumerate(again)}
        assert [(m.role, m.text, m.chosen, index.get(m.parent_id)) for m in whole] == [
            (m.role, m.text, m.chosen, index_copy.get(m.parent_id)) for m in again]
        assert [m.text for m in current_path(again)] == _texts(store, cid)


def test_markdown_writes_the_current_path_and_counts_the_other_versions(store: ConversationStore) -> None:
    cid, (q1, a1, q2, a2) = _chat(store)
    store.messages.add(cid, Role.ASSISTANT, "a2 second version", parent_id=q2)
    text = store.export_markdown(cid)
    assert "a2 second version" in text and "\na2\n" not in text
    assert "Other versions not shown here: 1" in text
    assert "Other versions" not in store.export_markdown(_chat(store)[0])


def test_a_format_1_file_without_a_tree_imports_as_one_line(store: ConversationStore) -> None:
    cid, ids = _chat(store)
    data = json.loads(store.export_json(cid))
    data["format_version"] = 1
    for message in data["messages"]:
        del message["parent"], message["chosen"]
    copy = store.import_json(data)
    assert _texts(store, copy) == ["q1", "a1", "q2", "a2"]


def test_hostile_parents_in_an_import_are_refused_with_nothing_written(store: ConversationStore) -> None:
    cid, ids = _chat(store)
    rng = random.Random(7)
    good = json.loads(store.export_json(cid))
    count = len(store.conversations.list_recent())
    bad_values: list[object] = [1, 3, 99, -1, "0", 1.0, True, [0], rng.randrange(4, 1 << 40)]
    for value in bad_values:  # itself, a later one, past the end, negative, other types
        data = json.loads(json.dumps(good))
        data["messages"][1]["parent"] = value
        with pytest.raises(ImportFormatError):
            store.import_json(data)
    data = json.loads(json.dumps(good))
    data["messages"][2]["chosen"] = "yes"
    with pytest.raises(ImportFormatError):
        store.import_json(data)
    assert len(store.conversations.list_recent()) == count


def test_a_damaged_file_with_a_cycle_of_parents_still_opens_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with ConversationStore(path) as store:
        cid, (q1, a1, q2, a2) = _chat(store)
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("UPDATE messages SET parent_id = ? WHERE id = ?", (a2, q2))  # q2 <-> a2
    conn.execute("UPDATE messages SET parent_id = ? WHERE id = ?", (a1, a1))  # a1 follows itself
    conn.commit()
    conn.close()
    with ConversationStore(path) as store:
        shown = [m.id for m in store.messages.list_for(cid)]  # bounded: no endless walk
        assert len(set(shown)) == len(shown) and set(shown) <= {q1, a1, q2, a2}
        assert len(store.messages.tree_for(cid)) == 4
        store.branches.show(q2)
        assert len(store.messages.tree_for(cid)) == 4
