"""Edge cases of answer versions a reviewer found missing: a branch deleted inside a branch
deleted later, a branch of a conversation in the trash, a generated hostile import (100,000
versions of one answer, random trees with any chosen flags), and `main.py export` on a newer or
locked database."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from app.cli import main
from app.storage import ConversationStore, Role
from app.storage.tree import current_path, version_counts


@pytest.fixture()
def store(tmp_path: Path) -> ConversationStore:
    with ConversationStore(tmp_path / "c.sqlite3") as opened:
        yield opened


def _texts(store: ConversationStore, cid: int) -> list[str]:
    return [m.text for m in store.messages.list_for(cid)]


def test_restoring_a_branch_inside_a_deleted_branch_brings_both_back_and_shows_it(
        store: ConversationStore) -> None:
    cid = store.conversations.create().id
    q1 = store.messages.add(cid, Role.USER, "q1")
    a1 = store.messages.add(cid, Role.ASSISTANT, "a1")
    q2 = store.messages.add(cid, Role.USER, "q2")
    store.messages.add(cid, Role.ASSISTANT, "b1")
    b2 = store.messages.add(cid, Role.ASSISTANT, "b2", parent_id=q2)
    store.messages.add(cid, Role.ASSISTANT, "a1 again", parent_id=q1)
    store.branches.trash(b2)  # the inner one first
    store.branches.show(a1)
    store.branches.trash(a1)  # then the branch that holds it
    assert [t.message.id for t in store.branches.list_trash()] == [a1, b2]
    store.branches.restore(b2)
    assert _texts(store, cid) == ["q1", "a1", "q2", "b2"]  # seen, not left hanging under a trashed turn
    assert store.branches.list_trash() == []
    assert all(m.trashed is None for m in store.messages.tree_for(cid))


def test_a_branch_of_a_trashed_conversation_waits_for_the_conversation_and_goes_with_its_purge(
        store: ConversationStore) -> None:
    cid = store.conversations.create(title="kept").id
    q = store.messages.add(cid, Role.USER, "q")
    store.messages.add(cid, Role.ASSISTANT, "first")
    second = store.messages.add(cid, Role.ASSISTANT, "second", parent_id=q)
    store.branches.trash(second)
    store.conversations.delete(cid)
    assert store.branches.list_trash() == []  # listed with its conversation, not on its own
    assert store.search("second") == []
    store.conversations.restore(cid)
    assert [t.message.id for t in store.branches.list_trash()] == [second]
    store.branches.restore(second)
    assert _texts(store, cid) == ["q", "second"]
    store.branches.trash(second)
    store.conversations.delete(cid)
    store.conversations.purge([cid])
    assert store.branches.list_trash() == [] and store.branches.purge() == 0


_WHEN = "2026-01-02T03:04:05Z"


def _archive(messages: list[dict[str, object]]) -> dict[str, object]:
    return {"format": "internlm2-desktop/conversation", "format_version": 2,
            "conversation": {"title": "generated", "created": _WHEN, "updated": _WHEN},
            "messages": [{"created": _WHEN, **m} for m in messages]}


def test_an_import_of_100000_versions_of_one_answer_is_bounded_and_opens(store: ConversationStore) -> None:
    count = 100_000
    rng = random.Random(14)
    chosen = rng.randrange(count)
    messages: list[dict[str, object]] = [{"role": "user", "text": "q", "parent": None}]
    messages += [{"role": "assistant", "text": f"v{i}", "parent": 0, "chosen": i == chosen}
                 for i in range(count)]
    started = time.process_time()
    cid = store.import_json(json.dumps(_archive(messages)))
    assert _texts(store, cid) == ["q", f"v{chosen}"]
    tree = store.messages.tree_for(cid)
    counts = version_counts(tree)
    assert counts[store.messages.list_for(cid)[-1].id] == (chosen + 1, count)
    assert len(json.loads(store.export_json(cid))["messages"]) == count + 1
    assert ": 99999 " in store.export_markdown(cid).replace(",", "")  # the others, counted
    assert time.process_time() - started < 60, "bounded"


def test_random_imported_trees_with_any_chosen_flags_round_trip_and_show_a_path(
        store: ConversationStore) -> None:
    rng = random.Random(41)
    for _ in range(30):
        size = rng.randrange(1, 40)
        messages = [{"role": rng.choice(["user", "assistant"]), "text": f"m{i}",
                     "parent": rng.choice([None, *range(i)]) if i else None,
                     "chosen": rng.random() < 0.5} for i in range(size)]
        cid = store.import_json(_archive(messages))
        back = json.loads(store.export_json(cid))["messages"]
        assert [(m["text"], m["parent"], m["chosen"]) for m in back] == [
            (m["text"], m["parent"], m["chosen"]) for m in messages]
        path = current_path(store.messages.tree_for(cid))
        assert path and path[0].parent_id is None  # every tree shows a path from a root
        for parent, child in zip(path, path[1:], strict=False):
            assert child.parent_id == parent.id


def _one_chat(db: Path) -> int:
    with ConversationStore(db) as store:
        cid = store.conversations.create(title="t").id
        q = store.messages.add(cid, Role.USER, "First question")
        store.messages.add(cid, Role.ASSISTANT, "one")
        store.messages.add(cid, Role.ASSISTANT, "two", parent_id=q)
    return cid


def test_export_from_a_newer_database_is_one_sentence_and_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.sqlite3"
    cid = _one_chat(db)
    newer = tmp_path / "newer.sqlite3"
    shutil.copyfile(db, newer)
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = newer.read_bytes()
    assert main(["export", str(cid), "--format", "json", "--db", str(newer)]) == 1
    err = capsys.readouterr().err
    assert "newer version" in err and "Traceback" not in err
    assert newer.read_bytes() == before


def test_export_while_another_process_writes_gives_the_committed_tree(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.sqlite3"
    cid = _one_chat(db)
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")  # the window in the middle of a write
        writer.execute("UPDATE messages SET text = 'half-written' WHERE text = 'one'")
        out = tmp_path / "out.json"
        assert main(["export", str(cid), "--format", "json", "--output", str(out), "--db", str(db)]) == 0
        texts = [m["text"] for m in json.loads(out.read_text(encoding="utf-8"))["messages"]]
        assert texts == ["First question", "one", "two"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_export_refuses_to_write_over_the_database_itself(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "c.sqlite3"
    cid = _one_chat(db)
    before = db.read_bytes()
    monkeypatch.chdir(tmp_path)  # a relative --output that names the same file
    assert main(["export", str(cid), "--format", "json", "--output", f"./c.sqlite3{suffix}",
                 "--db", str(db)]) == 1
    assert "is the conversation database itself" in capsys.readouterr().err
    assert db.read_bytes() == before
    with ConversationStore(db) as store:
        assert [m.text for m in store.messages.tree_for(cid)] == ["First question", "one", "two"]
