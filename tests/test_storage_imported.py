"""Schema 6: a conversation imported from an exported file is marked with the time of the import
(`conversations.imported`); one made here, or one from an older file, has no mark. The mark
travels in exports and is set anew by each import, whatever the file says."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from app.storage import ConversationStore, Role, schema
from app.storage.models import format_timestamp

FIXTURE = Path(__file__).parent / "data" / "release-0.1.0-schema4.sqlite3"
_TS = "2026-01-01T00:00:00.000000Z"


def _columns(path: Path, table: str) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}
    finally:
        conn.close()


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _version_5_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    for step in schema.MIGRATIONS[:5]:
        step(conn)
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 5")
    for cid in (1, 2):
        conn.execute("INSERT INTO conversations (id, title, created, updated, drop_turns) "
                     "VALUES (?, ?, ?, ?, ?)", (cid, f"chat {cid}", _TS, _TS, cid))
        conn.execute("INSERT INTO messages (conversation_id, position, role, text, created, "
                     "token_ids, token_vocab) VALUES (?, 0, 'assistant', ?, ?, '[1,2,3]', 'v')",
                     (cid, f"reply {cid}", _TS))
    conn.commit()
    conn.close()


def test_a_version_5_file_gains_the_mark_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "v5.sqlite3"
    _version_5_file(path)
    before = _rows(path, "SELECT * FROM messages ORDER BY id")
    assert "imported" not in _columns(path, "conversations")
    with ConversationStore(path) as store:
        assert store.db.schema_version == schema.LATEST_VERSION >= 6
        chats = store.conversations.list_recent()
        assert sorted((c.id, c.title, c.drop_turns, c.imported) for c in chats) == [
            (1, "chat 1", 1, None), (2, "chat 2", 2, None)]
        (msg,) = store.messages.list_for(2)
        assert (msg.text, msg.token_ids, msg.token_vocab) == ("reply 2", (1, 2, 3), "v")
    assert "imported" in _columns(path, "conversations")
    after = _rows(path, "SELECT * FROM messages ORDER BY id")  # later steps add columns at the end
    assert [tuple(row)[:len(before[0])] for row in after] == [tuple(row) for row in before]


def test_the_0_1_0_fixture_opens_with_no_conversation_marked(tmp_path: Path) -> None:
    copy = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURE, copy)
    chats = _rows(copy, "SELECT * FROM conversations ORDER BY id")
    messages = _rows(copy, "SELECT * FROM messages ORDER BY id")
    documents = _rows(copy, "SELECT * FROM documents ORDER BY id")
    with ConversationStore(copy) as store:
        assert store.db.schema_version == schema.LATEST_VERSION
        shown = store.conversations.list_recent() + store.conversations.list_trash()
        assert len(shown) == len(chats) and all(c.imported is None for c in shown)
    # Every old row is still there, column for column (new columns come after the old ones);
    # schema 6 adds `imported`, NULL for every old conversation.
    assert _prefix(_rows(copy, "SELECT * FROM conversations ORDER BY id"), chats) == chats
    assert {row[0] for row in _rows(copy, "SELECT imported FROM conversations")} == {None}
    assert _prefix(_rows(copy, "SELECT * FROM messages ORDER BY id"), messages) == messages
    assert _prefix(_rows(copy, "SELECT * FROM documents ORDER BY id"), documents) == documents


def _prefix(rows: list[tuple[Any, ...]], old: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    width = len(old[0]) if old else 0
    return [row[:width] for row in rows]


def _chat_here(store: ConversationStore) -> int:
    chat = store.conversations.create("Made here", model="internlm2-chat-1_8b")
    store.messages.add(chat.id, Role.USER, "你好")
    reply = store.messages.begin_reply(chat.id)
    store.messages.finish(reply, "Hello!", None)
    return chat.id


def test_import_sets_the_mark_and_a_conversation_made_here_has_none(tmp_path: Path) -> None:
    with ConversationStore(tmp_path / "a.sqlite3") as store:
        here = _chat_here(store)
        assert store.conversations.get(here).imported is None
        assert "imported" not in store.export_dict(here)["conversation"]
        before = datetime.now(timezone.utc)
        copy = store.import_json(store.export_json(here))
        after = datetime.now(timezone.utc)
        mark = store.conversations.get(copy).imported
        assert mark is not None and before <= mark <= after + timedelta(seconds=1)
        assert store.conversations.get(here).imported is None  # the original is untouched
        assert [c.id for c in store.conversations.list_recent() if c.imported] == [copy]


def test_export_import_export_keeps_the_mark_and_each_import_sets_its_own(tmp_path: Path) -> None:
    with ConversationStore(tmp_path / "a.sqlite3") as first:
        first_copy = first.import_json(first.export_json(_chat_here(first)))
        first_mark = first.conversations.get(first_copy).imported
        assert first_mark is not None
        archive = first.export_json(first_copy)
    assert json.loads(archive)["conversation"]["imported"] == format_timestamp(first_mark)
    with ConversationStore(tmp_path / "b.sqlite3") as second:
        second_copy = second.import_json(archive)
        second_mark = second.conversations.get(second_copy).imported
        assert second_mark is not None and second_mark > first_mark  # the time of this import
        again = second.export_dict(second_copy)
        assert again["conversation"]["imported"] == format_timestamp(second_mark)
        assert [m.text for m in second.messages.list_for(second_copy)] == ["你好", "Hello!"]


def _hostile_marks(rng: random.Random) -> list[Any]:
    junk = "".join(rng.choice("0123456789-:TZ.x 年\x00\ud7ff") for _ in range(rng.randint(1, 40)))
    return [junk, "9" * rng.randint(50, 5000), rng.randint(-(2**63), 2**63), -1.5, True, [],
            {"imported": "2020-01-01"}, "", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]


def test_whatever_a_file_says_about_its_import_the_mark_is_this_import(tmp_path: Path) -> None:
    rng = random.Random(6)
    with ConversationStore(tmp_path / "a.sqlite3") as store:
        data = store.export_dict(_chat_here(store))
        for value in _hostile_marks(rng):
            data["conversation"]["imported"] = value
            before = datetime.now(timezone.utc)
            cid = store.import_json(json.dumps(data))
            mark = store.conversations.get(cid).imported
            assert mark is not None and mark >= before, value


@pytest.mark.parametrize("stored", ["not a date", "", "2026-13-45T99:00:00Z", "x" * 10_000])
def test_a_damaged_mark_in_the_file_reads_as_made_here(tmp_path: Path, stored: str) -> None:
    path = tmp_path / "a.sqlite3"
    with ConversationStore(path) as store:
        cid = _chat_here(store)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE conversations SET imported = ? WHERE id = ?", (stored, cid))
    conn.commit()
    conn.close()
    with ConversationStore(path) as store:
        assert store.conversations.get(cid).imported is None
        assert "imported" not in store.export_dict(cid)["conversation"]


def test_a_file_claiming_schema_6_without_the_column_is_refused_untouched(tmp_path: Path) -> None:
    from app.storage import ForeignDatabaseError

    path = tmp_path / "claims6.sqlite3"
    _version_5_file(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 6")  # says 6, but step 6 never ran
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(ForeignDatabaseError) as caught:
        ConversationStore(path)
    assert "conversations.imported" in caught.value.detail
    assert path.read_bytes() == before


def test_timestamps_read_back_as_strptime_reads_them() -> None:
    """parse_timestamp's fast path (the stored form, by fromisoformat) against the format
    itself, on generated stored timestamps and on near-misses a file could hold."""
    import random
    from datetime import datetime, timedelta, timezone

    from app.storage.models import _TS_FORMAT, parse_timestamp

    rng = random.Random(23)
    start = datetime(1970, 1, 1, tzinfo=timezone.utc)
    for _ in range(2000):
        moment = start + timedelta(microseconds=rng.randrange(0, 200 * 365 * 86400 * 10**6))
        text = format_timestamp(moment)
        assert len(text) == 27
        assert parse_timestamp(text) == moment == datetime.strptime(text, _TS_FORMAT).replace(tzinfo=timezone.utc)
    for odd, expected in [("2026-01-02T03:04:05.0+0100Z", None),  # an offset where the digits belong
                          ("2026-01-02T03:04:05.00000xZ", None),
                          ("2026-W01-2T03:04:05.000000Z", None),
                          ("2026-13-02T03:04:05.000000Z", None),
                          ("2026-01-02T03:04:05.123456Z", datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)),
                          ("2026-01-02T04:04:05+01:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))]:
        if expected is None:
            try:
                got = parse_timestamp(odd)
            except ValueError:
                continue
            # read at all, then as the slow path reads it: never the digits taken for UTC
            assert got == datetime.fromisoformat(odd.replace("Z", "+00:00")).astimezone(timezone.utc), odd
        else:
            assert parse_timestamp(odd) == expected, odd
