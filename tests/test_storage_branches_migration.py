"""Schema 7 (answer branches) on real old files: the release 0.1.0 database (schema 4) and one
the schema-6 code wrote (tests/data/make_schema6_db.py). Every row survives with the same
meaning, the linear history becomes the single path, and nothing is deleted or rewritten
except a parent that disagreed with the order."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from app.storage import ConversationStore, schema
from app.storage.tree import version_counts

DATA = Path(__file__).parent / "data"
FIXTURES = [DATA / "release-0.1.0-schema4.sqlite3", DATA / "schema6.sqlite3"]
_SELECT = {  # every column of every row (opening records which release wrote the file last)
    "conversations": "SELECT * FROM conversations ORDER BY id",
    "documents": "SELECT * FROM documents ORDER BY id",
    "settings": "SELECT * FROM settings WHERE key != 'store.written_by' ORDER BY key",
}


def _rows(path: Path, sql: str) -> list[dict[str, object]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


@pytest.fixture(params=FIXTURES, ids=lambda p: p.name)
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    copy = tmp_path / "conversations.sqlite3"
    shutil.copyfile(request.param, copy)
    return copy


def test_every_row_survives_and_the_history_is_the_single_path(old_db: Path) -> None:
    version = _rows(old_db, "PRAGMA user_version")[0]["user_version"]
    assert version in (4, 6)
    tables = {t: _rows(old_db, _SELECT[t]) for t in _SELECT}
    messages = _rows(old_db, "SELECT * FROM messages ORDER BY conversation_id, position")
    assert messages
    ConversationStore(old_db).close()  # migrates
    assert _rows(old_db, "PRAGMA user_version")[0]["user_version"] == schema.LATEST_VERSION
    for table, before in tables.items():  # every column of every row, unchanged
        after = _rows(old_db, _SELECT[table])
        assert [{k: r[k] for k in old} for r, old in zip(after, before, strict=True)] == before
    after_messages = _rows(old_db, "SELECT * FROM messages ORDER BY conversation_id, position")
    assert len(after_messages) == len(messages)
    for old, new in zip(messages, after_messages, strict=True):
        assert {k: new[k] for k in old} == old  # the parents already were the row before
        assert (new["chosen"], new["trashed"]) == (1, None)
    with ConversationStore(old_db) as store:
        for cid in {m["conversation_id"] for m in messages}:
            linear = [m["id"] for m in messages if m["conversation_id"] == cid]
            assert [m.id for m in store.messages.list_for(cid)] == linear
            tree = store.messages.tree_for(cid)
            assert set(version_counts(tree).values()) == {(1, 1)}  # one version of every turn
            assert [m.id for m in store.messages.list_for(cid)] == [m.id for m in tree]
        assert store.search("NTK scaling")


def test_a_parent_that_disagrees_with_the_order_is_set_to_the_row_before(tmp_path: Path) -> None:
    """A v6 file whose parents were lost (ON DELETE SET NULL, a hand edit): the order is what
    the old code showed, so the migration makes the parents follow it; ids and text stay."""
    path = tmp_path / "c.sqlite3"
    shutil.copyfile(DATA / "schema6.sqlite3", path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE messages SET parent_id = NULL WHERE conversation_id = 2 AND position IN (3, 5)")
    conn.execute("UPDATE messages SET parent_id = 1 WHERE conversation_id = 2 AND position = 6")
    conn.commit()
    conn.close()
    linear = [r["id"] for r in _rows(path, "SELECT id FROM messages WHERE conversation_id = 2 ORDER BY position")]
    with ConversationStore(path) as store:
        path_ids = [m.id for m in store.messages.list_for(2)]
        assert path_ids == linear
        assert [m.parent_id for m in store.messages.list_for(2)] == [None, *linear[:-1]]
