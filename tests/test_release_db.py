"""A database written by release 0.1.0 (schema 4, tests/data) opens with the current code and
keeps every row and its meaning: conversations, messages and their states and stats,
documents with their warnings, left-out turns, the trash and the settings."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from app.storage import ConversationStore, MessageState, Role

FIXTURE = Path(__file__).parent / "data" / "release-0.1.0-schema4.sqlite3"


def _raw(path: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture()
def old_db(tmp_path: Path) -> Path:
    copy = tmp_path / "conversations.sqlite3"
    shutil.copyfile(FIXTURE, copy)
    return copy


def test_the_fixture_is_what_release_0_1_0_wrote() -> None:
    assert _raw(FIXTURE, "PRAGMA user_version")[0][0] == 4
    assert len(_raw(FIXTURE, "SELECT id FROM messages")) == 17


def test_every_row_of_a_0_1_0_database_survives_with_its_meaning(old_db: Path) -> None:
    before = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    chats = {r["id"]: r for r in _raw(old_db, "SELECT * FROM conversations")}
    messages = _raw(old_db, "SELECT * FROM messages ORDER BY conversation_id, position")
    documents = _raw(old_db, "SELECT * FROM documents")
    settings = {r["key"]: r["value"] for r in _raw(old_db, "SELECT * FROM settings")}
    store = ConversationStore(old_db)
    try:
        recent = {c.id for c in store.conversations.list_recent()}
        trashed = {c.id for c in store.conversations.list_trash()}
        assert recent | trashed == set(chats)
        assert trashed == {cid for cid, r in chats.items() if r["deleted_at"] is not None}
        for cid, row in chats.items():
            chat = store.conversations.get(cid)
            assert (chat.title, chat.model, chat.system_prompt, chat.drop_turns) == (
                row["title"], row["model"], row["system_prompt"], row["drop_turns"])
        for row in messages:
            msg = store.messages.get(row["id"])
            assert (msg.conversation_id, msg.role, msg.text, msg.state) == (
                row["conversation_id"], Role(row["role"]), row["text"], MessageState(row["state"]))
            if row["stats"]:
                assert msg.stats is not None and msg.stats.new_tokens == 12 and msg.stats.cached_tokens == 80
        for cid in chats:  # the order of each conversation's messages is kept
            assert [m.id for m in store.messages.list_for(cid)] == [
                r["id"] for r in messages if r["conversation_id"] == cid]
        for row in documents:
            doc = store.documents.get(row["id"])
            assert (doc.name, doc.text, doc.sha256, list(doc.warnings)) == (
                row["name"], row["text"], row["sha256"],
                ["2 images were left out.", "The table of contents was skipped."])
        for key in settings:
            assert store.settings.get(key) is not None
        assert store.settings.get("ui.theme") == "dark" and store.settings.get("ui.n_ctx") == 8192
        assert store.search("NTK scaling")  # the search index still answers
    finally:
        store.close()
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == before  # the fixture is never written
