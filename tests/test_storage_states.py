"""Every state a healthy database file can be in other than damaged: locked by a second
process, write-protected (file or folder), newer, another program's, an old file of ours
without an application id, a damaged search index. None of them is moved aside, and where
nothing may change the files are compared byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import __version__
from app.storage import (
    ConversationStore,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseTooNewError,
    DatabaseUnavailableError,
    ForeignDatabaseError,
    Role,
    SearchIndexError,
    move_aside,
    schema,
)
from app.storage.opening import WRITTEN_BY_KEY
from tests.lock_holder import Holder, lock_holder_fixture, release  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[1]
_NOBODY = 65534


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file in the folder and the sha256 of its bytes (-shm left out: SQLite's shared
    memory index, rewritten by any reader and never part of the data)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file() and not p.name.endswith("-shm")}


def _make_store(path: Path, chats: int = 3) -> None:
    with ConversationStore(path) as store:
        for number in range(chats):
            chat = store.conversations.create(f"chat {number}")
            store.messages.add(chat.id, Role.USER, f"question about volcanoes {number}")
            reply = store.messages.begin_reply(chat.id)
            store.messages.finish(reply, f"an answer about lava {number}")


# -- a second process holding the write lock --------------------------------------------

@pytest.mark.parametrize(("journal", "kind"), [("WAL", "IMMEDIATE"), ("WAL", "EXCLUSIVE"),
                                               ("DELETE", "EXCLUSIVE"), ("DELETE", "IMMEDIATE")])
def test_a_file_another_process_holds_is_waited_for_then_refused_untouched(
        tmp_path: Path, lock_holder: Holder, journal: str, kind: str) -> None:
    path = tmp_path / "conversations.sqlite3"
    _make_store(path)
    child = lock_holder(path, journal, kind)
    before = _snapshot(tmp_path)

    began = time.monotonic()
    with pytest.raises(DatabaseLockedError) as caught:
        ConversationStore(path, lock_wait_s=0.5)
    assert time.monotonic() - began < 10, "the wait for a locked file must be bounded"
    assert "Another program is using" in str(caught.value)
    assert "has not been changed" in caught.value.hint
    assert _snapshot(tmp_path) == before  # nothing written, nothing renamed, nothing new

    release(child)  # "Retry" once the other program let go: everything is there
    with ConversationStore(path) as store:
        assert sorted(c.title for c in store.conversations.list_recent()) == [
            "chat 0", "chat 1", "chat 2"]


def test_a_lock_taken_while_the_app_runs_gives_a_sentence_not_a_traceback(
        tmp_path: Path, lock_holder: Holder) -> None:
    path = tmp_path / "conversations.sqlite3"
    _make_store(path)
    with ConversationStore(path) as store:
        store.db._conn.execute("PRAGMA busy_timeout = 200")
        child = lock_holder(path, "WAL", "IMMEDIATE")
        with pytest.raises(DatabaseLockedError):
            store.conversations.create("while locked")
        release(child)
        store.conversations.create("after the lock")
        assert "after the lock" in [c.title for c in store.conversations.list_recent()]


# -- write-protected file or folder --------------------------------------------------------

_READER = """
import json, sys
from app.storage import ConversationStore, StorageError
out = {}
try:
    store = ConversationStore(sys.argv[1])
except StorageError as exc:
    out["open_error"] = type(exc).__name__ + ": " + str(exc)
else:
    out["read_only"] = store.read_only
    out["titles"] = sorted(c.title for c in store.conversations.list_recent())
    out["search"] = len(store.search("volcanoes"))
    out["export"] = len(store.export_markdown(store.conversations.list_recent()[0].id))
    try:
        store.conversations.create("never saved")
    except StorageError as exc:
        out["write_error"] = type(exc).__name__ + ": " + str(exc)
    store.close()
print(json.dumps(out))
"""


def _without_root_powers(script: str, *args: str) -> dict[str, object]:
    """Run `script` in a child to which file modes apply: as root (who ignores them) the
    child loses CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (setpriv), otherwise modes apply."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search",
                  "--"]
    done = subprocess.run([*prefix, sys.executable, "-c", script, *args], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


def _write_protect(path: Path) -> None:
    os.chmod(path, 0o555 if path.is_dir() else 0o444)


@pytest.fixture()
def restore_modes(tmp_path: Path) -> Iterator[None]:
    yield
    for path in (tmp_path, *tmp_path.rglob("*")):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


@pytest.mark.parametrize("protected", ["file", "folder"])
def test_a_write_protected_database_opens_read_only_and_says_why(
        tmp_path: Path, restore_modes: None, protected: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "conversations.sqlite3"
    _make_store(path)
    _write_protect(path if protected == "file" else data)
    before = _snapshot(data)

    out = _without_root_powers(_READER, str(path))
    assert out.get("read_only") is True, out
    assert out["titles"] == ["chat 0", "chat 1", "chat 2"]  # browse
    assert out["search"] == 3 and int(str(out["export"])) > 0  # search, export
    error = str(out["write_error"])
    assert error.startswith("DatabaseReadOnlyError") and "cannot be saved" in error
    assert ("write-protected" in error) and (protected in error)
    assert _snapshot(data) == before
    assert sorted(p.name for p in data.iterdir()) == ["conversations.sqlite3"]


def test_a_write_protected_data_folder_without_a_database_is_one_sentence(
        tmp_path: Path, restore_modes: None) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _write_protect(data)
    for target in (data / "conversations.sqlite3", data / "new" / "conversations.sqlite3"):
        out = _without_root_powers(_READER, str(target))
        error = str(out["open_error"])
        assert error.startswith("DatabaseUnavailableError"), error
        assert "cannot be" in error and "Traceback" not in error
    assert list(data.iterdir()) == []


def test_read_only_on_request_browses_searches_exports_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    _make_store(path)
    before = _snapshot(tmp_path)
    with ConversationStore(path, read_only=True) as store:
        assert store.read_only and store.read_only_reason
        chats = store.conversations.list_recent()
        assert len(chats) == 3 and len(store.search("lava")) == 3
        assert "volcanoes" in store.export_json(chats[0].id)
        for write in (lambda: store.conversations.create("x"),
                      lambda: store.messages.add(chats[0].id, Role.USER, "x"),
                      lambda: store.settings.set("ui.theme", "dark"),
                      lambda: store.conversations.delete(chats[0].id)):
            with pytest.raises(DatabaseReadOnlyError) as caught:
                write()
            assert "cannot be saved" in str(caught.value)
    assert _snapshot(tmp_path) == before


def test_a_read_only_file_that_needs_an_upgrade_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    schema.MIGRATIONS[0](conn)
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    before = _snapshot(tmp_path)
    with pytest.raises(DatabaseUnavailableError) as caught:
        ConversationStore(path, read_only=True)
    assert "upgrade" in str(caught.value)
    assert _snapshot(tmp_path) == before


# -- newer, foreign, not a file ----------------------------------------------------------

def _future(path: Path, written_by: object) -> None:
    _make_store(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("UPDATE settings SET value = ? WHERE key = ?",
                 (json.dumps(written_by), WRITTEN_BY_KEY))
    conn.execute(f"PRAGMA user_version = {schema.LATEST_VERSION + 3}")
    conn.commit()
    conn.close()


def test_a_newer_file_names_the_version_that_wrote_it_and_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    _future(path, "9.1.0")
    before = _snapshot(tmp_path)
    with pytest.raises(DatabaseTooNewError) as caught:
        ConversationStore(path)
    assert caught.value.written_by == "9.1.0"
    assert "InternLM2 Desktop 9.1.0" in str(caught.value)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("hostile", ["1.0\n\x1b[31mred", "x" * 100_000, 42, ["9"], "", "a b"])
def test_a_newer_files_recorded_version_is_only_used_when_it_looks_like_one(
        tmp_path: Path, hostile: object) -> None:
    path = tmp_path / "conversations.sqlite3"
    _future(path, hostile)
    with pytest.raises(DatabaseTooNewError) as caught:
        ConversationStore(path)
    assert caught.value.written_by == ""
    assert "a newer InternLM2 Desktop" in str(caught.value) and len(str(caught.value)) < 400


def test_every_open_records_this_version_as_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    with ConversationStore(path) as store:
        assert store.settings.get(WRITTEN_BY_KEY) == __version__
        assert WRITTEN_BY_KEY not in store.settings.as_dict()  # not one of the user's settings


def _foreign_files() -> dict[str, str]:
    """SQL that makes SQLite files some other program could have written."""
    ours = f"PRAGMA application_id = {schema.APPLICATION_ID};"
    return {
        "tables, no version": "CREATE TABLE visits (url TEXT);",
        "a version, other tables": "CREATE TABLE visits (url TEXT); PRAGMA user_version = 3;",
        "a newer version, other tables": "CREATE TABLE t (x); PRAGMA user_version = 99;",
        "another application id": "PRAGMA application_id = 1179796034;",
        "another id and our tables": schema._V1_CONVERSATIONS + ";"
                                     "PRAGMA application_id = 7; PRAGMA user_version = 1;",
        "our names, other columns": "CREATE TABLE conversations (a); CREATE TABLE messages (b);"
                                    "CREATE TABLE documents (c); PRAGMA user_version = 1;",
        "our id, tables of a later schema missing": ours + schema._V1_CONVERSATIONS + ";"
                                    + schema._V1_MESSAGES + ";" + schema._V1_DOCUMENTS + ";"
                                    "PRAGMA user_version = 3;",
    }


@pytest.mark.parametrize("kind", sorted(_foreign_files()))
def test_another_programs_database_is_refused_and_unchanged(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "their.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(_foreign_files()[kind])
    conn.close()
    before = _snapshot(tmp_path)
    with pytest.raises(ForeignDatabaseError) as caught:
        ConversationStore(path)
    assert "not an InternLM2 Desktop conversation database" in str(caught.value)
    assert _snapshot(tmp_path) == before


def test_what_is_not_a_regular_file_is_never_read_or_moved(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    dangling = tmp_path / "link"
    dangling.symlink_to(tmp_path / "nowhere")
    for path in (fifo, folder, dangling, Path(os.devnull)):
        began = time.monotonic()
        with pytest.raises(ForeignDatabaseError):
            ConversationStore(path)  # a FIFO would block a plain open(): bounded instead
        assert time.monotonic() - began < 10
        with pytest.raises(ForeignDatabaseError):
            move_aside(path)
    assert stat.S_ISFIFO(fifo.stat().st_mode) and folder.is_dir() and dangling.is_symlink()
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "link", "pipe"]


# -- an old file of ours without an application id ------------------------------------

@pytest.mark.parametrize("version", [1, schema.LATEST_VERSION])
def test_a_file_of_ours_without_an_application_id_is_recognised_by_its_tables(
        tmp_path: Path, version: int) -> None:
    path = tmp_path / "conversations.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in schema.MIGRATIONS[:version]:
        step(conn)
    conn.execute("INSERT INTO conversations (title, created, updated) VALUES "
                 "('kept', '2024-01-02T03:04:05.000000Z', '2024-01-02T03:04:05.000000Z')")
    conn.execute(f"PRAGMA user_version = {version}")
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0
    conn.close()
    with ConversationStore(path) as store:
        assert [c.title for c in store.conversations.list_recent()] == ["kept"]
        assert store.db.schema_version == schema.LATEST_VERSION  # no version of its own
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
    conn.close()


# -- a damaged full-text index ------------------------------------------------------------

_DAMAGE = {  # what part of the FTS5 shadow data is broken (both pass quick_check)
    "structure record": "id = 10",  # FTS5 cannot even load the index
    "segment pages": "id > 10",  # a query over them fails
}


def _damage_index(path: Path, part: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE messages_fts_data SET block = substr(block, 1, length(block) / 2) "
                 f"WHERE {_DAMAGE[part]}")
    conn.commit()
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"  # the file is healthy
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT * FROM messages_fts WHERE messages_fts MATCH 'volcanoes'").fetchall()
    conn.close()


def _index_is_sound(store: ConversationStore) -> None:
    with store.db.read() as conn:  # FTS5's own check of the index against the messages
        conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")


@pytest.mark.parametrize("part", sorted(_DAMAGE))
def test_a_damaged_search_index_is_rebuilt_when_searching(tmp_path: Path, part: str) -> None:
    path = tmp_path / "conversations.sqlite3"
    _make_store(path, chats=30)
    _damage_index(path, part)
    with ConversationStore(path) as store:
        assert len(store.search("volcanoes", limit=100)) == 30  # no error: rebuilt, asked again
        assert len(store.search('"lava 7"')) == 1
        chat = store.conversations.create("after the repair")
        store.messages.add(chat.id, Role.USER, "a question about geysers")
        assert len(store.search("geysers")) == 1
        _index_is_sound(store)


@pytest.mark.parametrize("part", sorted(_DAMAGE))
def test_a_damaged_search_index_met_by_a_write_is_rebuilt_and_said(
        tmp_path: Path, part: str) -> None:
    path = tmp_path / "conversations.sqlite3"
    _make_store(path, chats=4)
    _damage_index(path, part)
    with ConversationStore(path) as store:  # opening writes too (crash recovery): no refusal
        chat = store.conversations.list_recent()[0]
        try:
            store.messages.add(chat.id, Role.USER, "a question about geysers")
        except SearchIndexError as caught:  # the write met the damage: said, then rebuilt
            assert caught.rebuilt and "rebuilt" in str(caught) and "again" in caught.hint
            store.messages.add(chat.id, Role.USER, "a question about geysers")
        assert len(store.search("geysers")) == 1 and len(store.search("volcanoes")) == 4
        _index_is_sound(store)
    assert sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name) == []


def test_a_damaged_index_in_a_read_only_file_is_searched_by_scanning(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    _make_store(path, chats=5)
    _damage_index(path, "segment pages")
    before = _snapshot(tmp_path)
    with ConversationStore(path, read_only=True) as store:
        hits = store.search("volcanoes")
        assert len(hits) == 5 and all("«volcanoes»" in hit.snippet for hit in hits)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("name", ["a?b#c%20d e.sqlite3", "会话 ü.db", "x%3Fy&mode=rwc.db"])
def test_file_names_that_mean_something_in_a_uri_open_the_file_they_name(
        tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _make_store(path, chats=1)
    for read_only in (False, True):
        with ConversationStore(path, read_only=read_only) as store:
            assert [c.title for c in store.conversations.list_recent()] == ["chat 0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_file_upgraded_past_us_while_we_open_it_keeps_its_newer_version(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.storage.db import Database

    path = tmp_path / "conversations.sqlite3"
    _make_store(path)
    configure = Database._configure

    def newer_version_writes_meanwhile(self: Database, conn: sqlite3.Connection) -> None:
        configure(self, conn)  # after our checks, before our write lock: the other one upgrades
        other = sqlite3.connect(path, isolation_level=None)
        other.execute(f"PRAGMA user_version = {schema.LATEST_VERSION + 1}")
        other.close()

    monkeypatch.setattr(Database, "_configure", newer_version_writes_meanwhile)
    with pytest.raises(DatabaseTooNewError):
        ConversationStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST_VERSION + 1
    conn.close()
