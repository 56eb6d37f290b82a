"""Conversation store: conversations, titles, messages, streaming replies, edits, trash."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.storage import (
    ConversationStore,
    MessageState,
    NotFoundError,
    ReplyStats,
    Role,
    suggest_title,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    opened = ConversationStore(tmp_path / "conversations.sqlite3")
    yield opened
    opened.close()


def _raw(path: Path) -> sqlite3.Connection:
    """A second, independent connection: sees only what the store committed."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


# -- conversations --------------------------------------------------------------------------


def test_list_is_most_recently_updated_first(store: ConversationStore) -> None:
    first = store.conversations.create("first")
    second = store.conversations.create("second")
    third = store.conversations.create("third")
    assert [c.id for c in store.conversations.list_recent()] == [third.id, second.id, first.id]

    store.messages.add(first.id, Role.USER, "back to the first one")
    assert [c.id for c in store.conversations.list_recent()] == [first.id, third.id, second.id]

    store.conversations.rename(second.id, "second, renamed")
    assert [c.title for c in store.conversations.list_recent(limit=2)] == [
        "second, renamed",
        "first",
    ]


def test_create_get_update_and_missing_ids(store: ConversationStore) -> None:
    chat = store.conversations.create(
        model="internlm2-chat-1_8b", system_prompt="Be brief.", sampling={"temperature": 0.7}
    )
    assert chat.title == "" and chat.created == chat.updated and not chat.in_trash
    store.conversations.update(chat.id, sampling={"temperature": 0.2, "top_p": 0.9})
    again = store.conversations.get(chat.id)
    assert again.sampling == {"temperature": 0.2, "top_p": 0.9}
    assert again.system_prompt == "Be brief." and again.model == "internlm2-chat-1_8b"
    assert again.updated > chat.updated

    with pytest.raises(NotFoundError):
        store.conversations.get(chat.id + 100)
    with pytest.raises(NotFoundError):
        store.conversations.rename(chat.id + 100, "x")
    with pytest.raises(NotFoundError):
        store.messages.add(chat.id + 100, Role.USER, "orphan")


def test_suggest_title_cuts_at_a_word_boundary() -> None:
    question = (
        "\n   How do I convert an InternLM2 checkpoint to GGUF for llama.cpp on Windows?\n"
        "More details follow here."
    )
    title = suggest_title(question)
    assert title == "How do I convert an InternLM2 checkpoint to GGUF…"
    assert len(title) <= 51
    assert suggest_title("Short question?\nsecond line") == "Short question?"
    chinese = "请帮我总结这篇关于大型语言模型长上下文推理的论文的主要贡献和实验结论以及它与之前方法相比有哪些改进之处谢谢"
    assert suggest_title(chinese) == chinese[:50] + "…"


def test_first_user_message_titles_an_untitled_conversation(store: ConversationStore) -> None:
    chat = store.conversations.create(system_prompt="You are helpful.")
    store.messages.add(chat.id, Role.SYSTEM, "System words are not a title.")
    store.messages.add(chat.id, Role.USER, "What is dynamic NTK scaling?\nExplain briefly.")
    store.messages.add(chat.id, Role.USER, "And why does it help long documents?")
    assert store.conversations.get(chat.id).title == "What is dynamic NTK scaling?"

    store.conversations.rename(chat.id, "  NTK notes ")
    store.messages.add(chat.id, Role.USER, "One more question")
    assert store.conversations.get(chat.id).title == "NTK notes"

    store.conversations.rename(chat.id, "")  # cleared: the first question suggests it again
    store.messages.add(chat.id, Role.USER, "Yet another question")
    assert store.conversations.get(chat.id).title == "What is dynamic NTK scaling?"

    named = store.conversations.create("My own title")
    store.messages.add(named.id, Role.USER, "A question that must not replace the title")
    assert store.conversations.get(named.id).title == "My own title"


def test_trash_hides_restores_and_purges(store: ConversationStore) -> None:
    keep = store.conversations.create("keep")
    gone = store.conversations.create("gone")
    message = store.messages.add(gone.id, Role.USER, "text in a deleted chat")
    store.documents.attach(gone.id, "notes.txt", "document text")

    store.conversations.delete(gone.id)
    assert [c.id for c in store.conversations.list_recent()] == [keep.id]
    assert [c.id for c in store.conversations.list_trash()] == [gone.id]
    assert store.conversations.get(gone.id).in_trash
    with pytest.raises(NotFoundError):
        store.conversations.get(gone.id, include_trashed=False)

    store.conversations.restore(gone.id)  # undo
    assert {c.id for c in store.conversations.list_recent()} == {keep.id, gone.id}
    assert store.messages.get(message).text == "text in a deleted chat"

    store.conversations.delete(gone.id)
    assert store.conversations.purge([keep.id]) == 0  # not in the trash: never purged
    assert store.conversations.purge() == 1
    assert store.conversations.list_trash() == []
    assert [c.id for c in store.conversations.list_recent()] == [keep.id]
    with pytest.raises(NotFoundError):
        store.messages.get(message)
    with _raw(store.path) as raw:
        assert raw.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
        assert raw.execute("SELECT count(*) FROM documents").fetchone()[0] == 0


# -- messages and streaming -----------------------------------------------------------------


def test_add_message_is_committed_at_once(store: ConversationStore) -> None:
    chat = store.conversations.create()
    first = store.messages.add(chat.id, Role.USER, "hello")
    second = store.messages.add(chat.id, Role.ASSISTANT, "hi")
    raw = _raw(store.path)
    rows = raw.execute(
        "SELECT id, position, parent_id, role, text FROM messages ORDER BY position"
    ).fetchall()
    raw.close()
    assert [tuple(row) for row in rows] == [
        (first, 0, None, "user", "hello"),
        (second, 1, first, "assistant", "hi"),
    ]
    listed = store.messages.list_for(chat.id)
    assert [(m.role, m.state, m.parent_id) for m in listed] == [
        (Role.USER, MessageState.COMPLETE, None),
        (Role.ASSISTANT, MessageState.COMPLETE, first),
    ]


def test_streaming_reply_checkpoints_and_finishes(store: ConversationStore) -> None:
    chat = store.conversations.create()
    store.messages.add(chat.id, Role.USER, "Count to three")
    reply = store.messages.begin_reply(chat.id)
    assert store.messages.get(reply).state is MessageState.STREAMING

    assert store.messages.checkpoint(reply, "one, two")
    raw = _raw(store.path)
    row = raw.execute("SELECT text, state FROM messages WHERE id = ?", (reply,)).fetchone()
    assert tuple(row) == ("one, two", "streaming")
    raw.close()

    stats = ReplyStats(
        prompt_tokens=12, cached_tokens=8, new_tokens=5, ttft_s=0.25, tokens_per_s=41.5,
        stop_reason="eos", backend="llama.cpp", device="cuda", model="internlm2-chat-1_8b",
    )
    assert store.messages.finish(reply, "one, two, three", stats)
    done = store.messages.get(reply)
    assert (done.text, done.state, done.stats) == ("one, two, three", MessageState.COMPLETE, stats)
    assert not store.messages.checkpoint(reply, "late tokens")  # no longer streaming
    assert not store.messages.finish(reply, "again")
    assert store.messages.get(reply).text == "one, two, three"


def test_interrupt_keeps_checkpoint_and_fail_keeps_error(store: ConversationStore) -> None:
    chat = store.conversations.create()
    stopped = store.messages.begin_reply(chat.id)
    store.messages.checkpoint(stopped, "half an ans")
    assert store.messages.interrupt(stopped)
    message = store.messages.get(stopped)
    assert (message.text, message.state) == ("half an ans", MessageState.INTERRUPTED)

    failed = store.messages.begin_reply(chat.id)
    store.messages.checkpoint(failed, "partial")
    assert store.messages.fail(failed, "The GPU ran out of memory.")
    message = store.messages.get(failed)
    assert (message.text, message.state, message.error) == (
        "partial",
        MessageState.ERROR,
        "The GPU ran out of memory.",
    )


def test_crash_while_streaming_leaves_an_interrupted_reply(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    script = textwrap.dedent(
        f"""
        import os
        from app.storage import ConversationStore, Role
        store = ConversationStore({str(path)!r})
        chat = store.conversations.create()
        store.messages.add(chat.id, Role.USER, "Tell me a long story")
        reply = store.messages.begin_reply(chat.id)
        store.messages.checkpoint(reply, "Once upon a time")
        store.messages.checkpoint(reply, "Once upon a time, in a small village")
        print(reply, flush=True)
        os._exit(3)  # a crash: no close, no cleanup, the WAL is left behind
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert child.returncode == 3, child.stderr
    reply = int(child.stdout.split()[0])

    with ConversationStore(path) as store:
        assert store.recovered_replies == 1
        message = store.messages.get(reply)
        assert message.state is MessageState.INTERRUPTED
        assert message.text == "Once upon a time, in a small village"
        assert [h.message_id for h in store.search("small village")] == [reply]
    with ConversationStore(path) as store:
        assert store.recovered_replies == 0


def test_checkpoints_from_a_worker_thread_while_the_gui_reads(store: ConversationStore) -> None:
    chat = store.conversations.create()
    reply = store.messages.begin_reply(chat.id)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for count in range(1, 201):
                store.messages.checkpoint(reply, "tok " * count)
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    thread = threading.Thread(target=worker)
    thread.start()
    while thread.is_alive():
        store.messages.list_for(chat.id)
        store.conversations.list_recent()
    thread.join()
    assert errors == []
    assert store.messages.get(reply).text == "tok " * 200


# -- editing --------------------------------------------------------------------------------


def test_editing_an_earlier_user_message_starts_a_branch_and_keeps_the_old_one(
        store: ConversationStore) -> None:
    chat = store.conversations.create()
    ids = [
        store.messages.add(chat.id, Role.USER, "What is 2+2?"),
        store.messages.add(chat.id, Role.ASSISTANT, "4"),
        store.messages.add(chat.id, Role.USER, "And 3+3?"),
        store.messages.add(chat.id, Role.ASSISTANT, "6"),
    ]
    other = store.conversations.create()
    untouched = store.messages.add(other.id, Role.USER, "Unrelated chat")

    edited = store.messages.add_version(ids[0], "What is 5+5?")
    assert [(m.id, m.text) for m in store.messages.list_for(chat.id)] == [(edited, "What is 5+5?")]
    assert store.messages.get(untouched).text == "Unrelated chat"
    new_reply = store.messages.add(chat.id, Role.ASSISTANT, "10")
    added = store.messages.get(new_reply)
    assert added.parent_id == edited
    assert [m.id for m in store.messages.list_for(chat.id)] == [edited, new_reply]
    store.branches.choose(ids[0])  # back to the old branch: every old turn is there
    assert [m.id for m in store.messages.list_for(chat.id)] == ids
    assert [h.message_id for h in store.search("2+2")] == [ids[0]]
    assert [h.message_id for h in store.search("5+5")] == [edited]


def test_regenerate_is_a_sibling_reply_and_nothing_is_deleted(store: ConversationStore) -> None:
    chat = store.conversations.create()
    question = store.messages.add(chat.id, Role.USER, "Hello")
    first = store.messages.add(chat.id, Role.ASSISTANT, "A reply to regenerate")
    again = store.messages.begin_reply(chat.id, parent_id=question)
    assert [m.id for m in store.messages.list_for(chat.id)] == [question, again]
    assert store.messages.get(first).text == "A reply to regenerate"
    assert store.messages.get(again).state is MessageState.STREAMING
    with pytest.raises(ValueError):  # a streaming reply's branch cannot go to the trash
        store.branches.trash(again)


# -- documents and settings -----------------------------------------------------------------


def test_documents_attach_list_remove(store: ConversationStore) -> None:
    chat = store.conversations.create()
    text = "第一章\nA long document." * 10
    doc = store.documents.attach(chat.id, "book.txt", text, path="/home/u/book.txt")
    assert doc.characters == len(text)
    assert doc.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    second = store.documents.attach(chat.id, "b.md", "# B", sha256="ab" * 32)
    assert [d.name for d in store.documents.list_for(chat.id)] == ["book.txt", "b.md"]
    assert store.documents.get(second.id).sha256 == "ab" * 32
    store.documents.remove(doc.id)
    assert [d.id for d in store.documents.list_for(chat.id)] == [second.id]
    with pytest.raises(NotFoundError):
        store.documents.get(doc.id)


def test_settings_are_json_and_persist(tmp_path: Path) -> None:
    path = tmp_path / "settings.sqlite3"
    with ConversationStore(path) as store:
        assert store.settings.get("theme", "light") == "light"
        store.settings.set("theme", "dark")
        store.settings.set("sampling", {"temperature": 0.8, "stop": ["<|im_end|>"]})
        store.settings.set("theme", "system")
        with pytest.raises(TypeError):
            store.settings.set("bad", float("nan"))
        with pytest.raises(TypeError):
            store.settings.set("bad", object())
    with ConversationStore(path) as store:
        assert store.settings.as_dict() == {
            "sampling": {"stop": ["<|im_end|>"], "temperature": 0.8},
            "theme": "system",
        }
        assert store.settings.delete("theme")
        assert not store.settings.delete("theme")
        assert store.settings.get("theme") is None
