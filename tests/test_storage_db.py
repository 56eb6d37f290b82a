"""Conversation database file: migrations, refusals, corruption handling, transactions."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from app.errors import UserError
from app.storage import (
    ConversationStore,
    DatabaseCorruptError,
    DatabaseTooNewError,
    ForeignDatabaseError,
    MessageState,
    MigrationError,
    Role,
    default_path,
    schema,
)

# The version-1 schema exactly as that release wrote it (kept here, not imported, because an
# old file on a user's disk does not change when the code does).
_V1_SCRIPT = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '', created TEXT NOT NULL,
    updated TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '', sampling TEXT NOT NULL DEFAULT '{}');
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, parent_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'environment')),
    text TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'complete'
        CHECK (state IN ('complete', 'streaming', 'interrupted', 'error')),
    stats TEXT, error TEXT NOT NULL DEFAULT '', created TEXT NOT NULL,
    UNIQUE (conversation_id, position));
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    name TEXT NOT NULL, path TEXT NOT NULL DEFAULT '', sha256 TEXT NOT NULL,
    characters INTEGER NOT NULL, text TEXT NOT NULL, created TEXT NOT NULL);
CREATE INDEX conversations_updated ON conversations (updated);
CREATE INDEX messages_parent ON messages (parent_id);
CREATE INDEX messages_state ON messages (state) WHERE state = 'streaming';
CREATE INDEX documents_conversation ON documents (conversation_id);
INSERT INTO conversations VALUES
    (7, 'Old chat', '2024-01-02T03:04:05.000000Z', '2024-01-02T03:05:00.000000Z',
     'internlm2-chat-1_8b', 'Be kind.', '{"temperature": 0.5}');
INSERT INTO messages VALUES
    (21, 7, 0, NULL, 'user', 'How tall is Mount Everest?', 'complete', NULL, '',
     '2024-01-02T03:04:06.000000Z'),
    (22, 7, 1, 21, 'assistant', 'About 8849 metres above sea level', 'streaming', NULL, '',
     '2024-01-02T03:04:07.000000Z');
INSERT INTO documents VALUES
    (3, 7, 'peaks.txt', '', 'ff', 5, 'peaks', '2024-01-02T03:04:05.500000Z');
PRAGMA application_id = 1229737266;
PRAGMA user_version = 1;
"""


def _make_v1(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(_V1_SCRIPT)
    conn.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pragma(path: Path, name: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        conn.close()


def test_new_file_is_wal_with_foreign_keys_and_latest_schema(tmp_path: Path) -> None:
    with ConversationStore(tmp_path / "new.sqlite3") as store:
        conn = store.db._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.schema_version == schema.LATEST_VERSION == 8
        with pytest.raises(sqlite3.IntegrityError):  # foreign keys are enforced
            conn.execute(
                "INSERT INTO messages (conversation_id, position, role, created) "
                "VALUES (999, 0, 'user', 'x')"
            )


def test_default_path_follows_the_data_folder_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERNLM2_DESKTOP_DATA", str(tmp_path / "portable" / "data"))
    expected = tmp_path / "portable" / "data" / "conversations.sqlite3"
    assert default_path() == expected
    with ConversationStore() as store:
        assert store.path == expected
    assert expected.is_file()


def test_version_1_file_is_upgraded_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _make_v1(path)
    with ConversationStore(path) as store:
        assert store.db.schema_version == schema.LATEST_VERSION
        chat = store.conversations.get(7)
        assert (chat.title, chat.system_prompt, chat.sampling) == (
            "Old chat",
            "Be kind.",
            {"temperature": 0.5},
        )
        assert not chat.in_trash
        assert [d.name for d in store.documents.list_for(7)] == ["peaks.txt"]
        # Version 4: nothing left out, no reader warnings recorded for old documents.
        assert chat.drop_turns == 0 and store.documents.list_for(7)[0].warnings == ()
        # The v1 file had a reply left streaming by a crash: recovered, text kept.
        assert store.recovered_replies == 1
        reply = store.messages.get(22)
        assert reply.state is MessageState.INTERRUPTED
        assert reply.text == "About 8849 metres above sea level"
        # Features of versions 2 and 3 work on the upgraded data.
        assert [h.message_id for h in store.search("Everest")] == [21]
        assert [h.message_id for h in store.search("metres")] == [22]
        store.settings.set("language", "zh_CN")
        store.conversations.delete(7)
        assert store.conversations.list_recent() == []
    with ConversationStore(path) as store:
        assert store.settings.get("language") == "zh_CN"
        assert [c.id for c in store.conversations.list_trash()] == [7]


def test_failed_migration_rolls_back_and_leaves_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    _make_v1(path)

    def broken_step(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("simulated failure")

    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, broken_step))
    with pytest.raises(MigrationError) as caught:
        ConversationStore(path)
    assert f"from schema 1 to {schema.LATEST_VERSION + 1}" in str(caught.value)
    assert _pragma(path, "user_version") == 1
    conn = sqlite3.connect(path)
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "half_done" not in names and "messages_fts" not in names and "settings" not in names

    monkeypatch.undo()
    with ConversationStore(path) as store:  # the untouched file upgrades fine later
        assert store.db.schema_version == schema.LATEST_VERSION


def test_file_from_a_newer_version_is_refused_and_not_modified(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with ConversationStore(path) as store:
        store.conversations.create("from the future")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(f"PRAGMA user_version = {schema.LATEST_VERSION + 5}")
    conn.close()
    before = _sha(path)

    with pytest.raises(DatabaseTooNewError) as caught:
        ConversationStore(path)
    error = caught.value
    assert isinstance(error, UserError)
    assert "newer version" in str(error) and "Update the app" in str(error)
    assert (error.found, error.supported) == (schema.LATEST_VERSION + 5, schema.LATEST_VERSION)
    assert _sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["future.sqlite3"]


def test_another_programs_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "browser-history.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE visits (url TEXT)")
    conn.commit()
    conn.close()
    before = _sha(path)
    with pytest.raises(ForeignDatabaseError):
        ConversationStore(path)
    assert _sha(path) == before


def test_a_file_that_is_not_sqlite_is_set_aside_never_deleted(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    junk = b"these are not the bytes of an SQLite database\n" * 100
    path.write_bytes(junk)

    with pytest.raises(DatabaseCorruptError) as caught:
        ConversationStore(path)
    assert isinstance(caught.value, UserError)
    assert caught.value.path == path
    assert "damaged" in str(caught.value) and "fresh" in str(caught.value)
    assert path.read_bytes() == junk

    store, moved = ConversationStore.start_fresh(path)
    with store:
        assert moved is not None and moved != path
        assert moved.name.startswith("conversations.sqlite3.corrupt-")
        assert moved.read_bytes() == junk
        assert store.conversations.list_recent() == []
        store.conversations.create("a fresh start")
    with ConversationStore(path) as reopened:
        assert [c.title for c in reopened.conversations.list_recent()] == ["a fresh start"]


@pytest.mark.parametrize(
    "pages",
    [(3,), (30,)],  # quick_check reports page 4 broken; page 31 makes it raise "malformed"
)
def test_damaged_pages_fail_the_integrity_check(tmp_path: Path, pages: tuple[int, ...]) -> None:
    path = tmp_path / "conversations.sqlite3"
    with ConversationStore(path) as store:
        for number in range(40):
            chat = store.conversations.create(f"chat {number}")
            store.messages.add(chat.id, Role.USER, f"message {number} " * 300)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 40 * page
    for index in pages:
        data[index * page : (index + 1) * page] = bytes([0xA5]) * page
    path.write_bytes(bytes(data))

    with pytest.raises(DatabaseCorruptError) as caught:
        ConversationStore(path)
    assert caught.value.detail  # SQLite's own words, for the log

    first, moved_first = ConversationStore.start_fresh(path)
    first.close()
    # Twice in the same second: the second copy gets its own name, nothing is overwritten.
    path.write_bytes(bytes(data))
    second, moved_second = ConversationStore.start_fresh(path)
    second.close()
    assert moved_first is not None and moved_second is not None
    assert moved_first != moved_second
    assert moved_first.read_bytes() == moved_second.read_bytes() == bytes(data)


def test_transaction_rolls_back_everything_on_error(tmp_path: Path) -> None:
    with ConversationStore(tmp_path / "tx.sqlite3") as store:
        with pytest.raises(RuntimeError), store.db.transaction():
            chat = store.conversations.create("never saved")
            store.messages.add(chat.id, Role.USER, "also never saved")
            raise RuntimeError("boom")
        assert store.conversations.list_recent() == []
        assert store.search("never saved") == []

        with store.db.transaction():
            kept = store.conversations.create("kept")
            with pytest.raises(RuntimeError), store.db.transaction():
                store.conversations.create("inner, undone")
                raise RuntimeError("inner boom")
        assert [c.id for c in store.conversations.list_recent()] == [kept.id]
