"""`main.py export ID --format json|md [--output FILE]` and `main.py conversations`: the files the
window's export writes (the same store functions), read-only on the database, with a sentence
and exit status 1 for what a user can meet and usage with status 2 for bad arguments."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.storage import ConversationStore, Role

ROOT = Path(__file__).resolve().parents[1]


def _branched(path: Path) -> int:
    """A conversation with two answers to its last question and an edited first question."""
    with ConversationStore(path) as store:
        chat = store.conversations.create(model="internlm2-chat-1_8b")
        q1 = store.messages.add(chat.id, Role.USER, "First question, 第一")
        store.messages.add(chat.id, Role.ASSISTANT, "First answer")
        q2 = store.messages.add(chat.id, Role.USER, "Second question")
        store.messages.add(chat.id, Role.ASSISTANT, "Second answer")
        reply = store.messages.begin_reply(chat.id, parent_id=q2)
        store.messages.finish(reply, "Second answer, again", None, [5, 6, 7], "vocab")
        store.messages.add_version(q1, "First question, edited")
        store.messages.add(chat.id, Role.ASSISTANT, "Answer to the edit")
        store.branches.choose(q1)
        return chat.id


def _without_time(text: str) -> dict[str, object]:
    data = json.loads(text)
    data.pop("exported")
    return data


def test_export_writes_what_the_store_exports_and_imports_back_to_the_same_tree(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.sqlite3"
    cid = _branched(db)
    out = tmp_path / "chat.json"
    assert main(["export", str(cid), "--format", "json", "--output", str(out), "--db", str(db)]) == 0
    assert main(["export", str(cid), "--format", "md", "--db", str(db)]) == 0
    markdown = capsys.readouterr().out
    with ConversationStore(db) as store:
        assert _without_time(out.read_text(encoding="utf-8")) == _without_time(store.export_json(cid))
        assert markdown == store.export_markdown(cid)
        assert "Second answer, again" in markdown and "Answer to the edit" not in markdown
        assert "Other versions not shown here: 3" in markdown
        copy = store.import_json(out.read_bytes())
        key = [(m.role, m.text, m.chosen, m.token_ids) for m in store.messages.tree_for(cid)]
        assert [(m.role, m.text, m.chosen, m.token_ids) for m in store.messages.tree_for(copy)] == key
        assert [m.text for m in store.messages.list_for(copy)] == [m.text for m in store.messages.list_for(cid)]


def test_conversations_lists_the_ids_and_the_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.sqlite3"
    cid = _branched(db)
    assert main(["conversations", "--db", str(db), "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["id"], row["messages"], row["other_versions"]) == (cid, 4, 3)
    assert main(["conversations", "--db", str(db)]) == 0
    assert "+3 other versions" in capsys.readouterr().out


def test_the_database_is_only_read(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    cid = _branched(db)
    with ConversationStore(db) as store:  # a reply the window is still writing stays so
        reply = store.messages.begin_reply(cid)
        before = sqlite3.connect(db).execute("SELECT * FROM messages ORDER BY id").fetchall()
        assert main(["export", str(cid), "--format", "json", "--output", str(tmp_path / "x.json"),
                     "--db", str(db)]) == 0
        assert sqlite3.connect(db).execute("SELECT * FROM messages ORDER BY id").fetchall() == before
        assert store.messages.get(reply).state.value == "streaming"


def test_what_a_user_can_meet_is_one_sentence_and_status_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.sqlite3"
    cid = _branched(db)
    assert main(["export", str(cid + 99), "--format", "md", "--db", str(db)]) == 1
    assert "There is no conversation" in capsys.readouterr().err
    assert main(["export", str(cid), "--format", "md", "--db", str(tmp_path / "none.sqlite3")]) == 1
    assert "--db PATH" in capsys.readouterr().err
    old = tmp_path / "old.sqlite3"
    shutil.copyfile(ROOT / "tests" / "data" / "schema6.sqlite3", old)
    assert main(["conversations", "--db", str(old)]) == 1
    assert "older version" in capsys.readouterr().err
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == 6  # not upgraded here
    blocked = tmp_path / "no-such-folder" / "out.md"
    assert main(["export", str(cid), "--format", "md", "--output", str(blocked), "--db", str(db)]) == 1
    assert "Could not write" in capsys.readouterr().err and not blocked.exists()


@pytest.mark.parametrize("args", [
    ["export"], ["export", "1"], ["export", "one", "--format", "md"], ["export", "1", "--format", "pdf"],
    ["export", "1", "--format", "md", "--bogus"], ["conversations", "extra"],
])
def test_bad_arguments_print_the_usage_and_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_main_py_export_runs_without_the_window(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    cid = _branched(db)
    env = {**os.environ, "QT_QPA_PLATFORM": "no-such-platform"}  # the window would abort
    result = subprocess.run([sys.executable, "main.py", "export", str(cid), "--format", "md", "--db", str(db)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# First question")
