"""Export to Markdown and JSON, and JSON import as a new conversation."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.errors import UserError
from app.storage import ConversationStore, ImportFormatError, MessageState, ReplyStats, Role
from app.storage.export import FORMAT_NAME, FORMAT_VERSION

_STATS = ReplyStats(
    prompt_tokens=120, cached_tokens=100, new_tokens=42, ttft_s=0.31, tokens_per_s=55.25,
    stop_reason="eos", backend="llama.cpp", device="CUDA", model="internlm2-chat-1_8b-q8_0",
)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    opened = ConversationStore(tmp_path / "export.sqlite3")
    yield opened
    opened.close()


def _full_conversation(store: ConversationStore) -> int:
    chat = store.conversations.create(
        "Reading a paper",
        model="internlm2-chat-1_8b",
        system_prompt="你是一个乐于助人的助手。",
        sampling={"temperature": 0.7, "top_p": 0.8, "max_new_tokens": 1024},
    )
    store.documents.attach(
        chat.id, "paper.md", "# Title\nBody of the paper. 正文。", path="/tmp/paper.md",
        warnings=["1 character of “paper.md” could not be decoded and was replaced."],
    )
    store.messages.add(chat.id, Role.USER, "Summarise the paper.\nIn three points.")
    reply = store.messages.begin_reply(chat.id)
    store.messages.finish(reply, "1. A\n2. B\n3. C", _STATS)
    store.messages.add(chat.id, Role.USER, "More detail on B?")
    stopped = store.messages.begin_reply(chat.id)
    store.messages.interrupt(stopped, "B is about")
    failed = store.messages.begin_reply(chat.id)
    store.messages.fail(failed, "The model stopped responding.", "")
    store.messages.add(chat.id, Role.ENVIRONMENT, '{"result": 42}')
    return chat.id


def _without_ids(value: Any) -> dict[str, Any]:
    data = dataclasses.asdict(value)
    for key in ("id", "conversation_id", "parent_id"):
        data.pop(key, None)
    return data


def test_markdown_transcript(store: ConversationStore) -> None:
    chat_id = _full_conversation(store)
    text = store.export_markdown(chat_id)
    assert text.startswith("# Reading a paper\n")
    assert "- Model: internlm2-chat-1_8b" in text
    assert "- Attached documents: paper.md (" in text
    assert "## System prompt\n\n你是一个乐于助人的助手。" in text
    assert "## User\n\nSummarise the paper.\nIn three points." in text
    assert "## Assistant\n\n1. A\n2. B\n3. C" in text
    assert "*42 tokens · 55.2 tok/s · first token 0.31 s · llama.cpp CUDA" in text
    assert "B is about\n\n*(stopped before the end)*" in text
    assert "*Error: The model stopped responding.*" in text
    assert "## Tool output\n\n" in text
    order = [text.index(f"## {role}") for role in ("System prompt", "User", "Assistant")]
    assert order == sorted(order)

    translated = store.export_markdown(chat_id, labels={"user": "用户", "assistant": "助手"})
    assert "## 用户\n\nSummarise" in translated and "## 助手\n\n1. A" in translated


def test_json_round_trip_is_equal_apart_from_ids(store: ConversationStore) -> None:
    original_id = _full_conversation(store)
    exported = store.export_json(original_id)
    data = json.loads(exported)
    assert (data["format"], data["format_version"]) == (FORMAT_NAME, FORMAT_VERSION)
    assert "你是一个乐于助人的助手" in exported  # readable UTF-8, not \u escapes

    copy_id = store.import_json(exported)
    assert copy_id != original_id

    original = store.conversations.get(original_id)
    copy = store.conversations.get(copy_id)
    assert original.imported is None and copy.imported is not None  # the copy says where it came from
    assert _without_ids(dataclasses.replace(copy, imported=None)) == _without_ids(original)
    original_messages = store.messages.list_for(original_id)
    copy_messages = store.messages.list_for(copy_id)
    assert len(copy_messages) == 6
    assert [_without_ids(m) for m in copy_messages] == [_without_ids(m) for m in original_messages]
    assert copy_messages[1].stats == _STATS
    assert [m.parent_id for m in copy_messages[1:]] == [m.id for m in copy_messages[:-1]]
    assert store.documents.list_for(copy_id)[0].warnings  # the reader's warnings travel too
    assert [_without_ids(d) for d in store.documents.list_for(copy_id)] == [
        _without_ids(d) for d in store.documents.list_for(original_id)
    ]

    again = store.export_dict(copy_id)
    again.pop("exported")
    data.pop("exported")
    assert "imported" not in data["conversation"]
    assert again["conversation"].pop("imported") == copy.imported.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert again == data


def test_import_into_another_database(store: ConversationStore, tmp_path: Path) -> None:
    chat_id = _full_conversation(store)
    exported = store.export_json(chat_id).encode("utf-8")
    with ConversationStore(tmp_path / "other.sqlite3") as other:
        new_id = other.import_json(exported)
        assert [c.id for c in other.conversations.list_recent()] == [new_id]
        assert other.conversations.get(new_id).title == "Reading a paper"
        assert [h.conversation_id for h in other.search("three points")] == [new_id]


def test_import_turns_a_streaming_reply_into_interrupted(store: ConversationStore) -> None:
    chat = store.conversations.create()
    store.messages.add(chat.id, Role.USER, "question")
    reply = store.messages.begin_reply(chat.id)
    store.messages.checkpoint(reply, "partial answer")
    data = store.export_dict(chat.id)
    assert data["messages"][1]["state"] == "streaming"
    copy = store.import_json(data)
    imported = store.messages.list_for(copy)[1]
    assert (imported.state, imported.text) == (MessageState.INTERRUPTED, "partial answer")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("this is not json {", "not valid JSON"),
        ('{"format": "something-else", "format_version": 1}', "not an InternLM2 Desktop"),
        ("[1, 2, 3]", "not an InternLM2 Desktop"),
        (
            json.dumps({"format": FORMAT_NAME, "format_version": FORMAT_VERSION + 1}),
            "newer version",
        ),
        (json.dumps({"format": FORMAT_NAME, "format_version": 1}), "'conversation' is missing"),
        (
            json.dumps(
                {
                    "format": FORMAT_NAME,
                    "format_version": 1,
                    "conversation": {"created": "2024-01-01T00:00:00Z", "updated": "yesterday"},
                }
            ),
            "'updated' is not a date",
        ),
        (
            json.dumps(
                {
                    "format": FORMAT_NAME,
                    "format_version": 1,
                    "conversation": {
                        "created": "2024-01-01T00:00:00Z",
                        "updated": "2024-01-01T00:00:00Z",
                    },
                    "messages": [
                        {"role": "wizard", "text": "hi", "created": "2024-01-01T00:00:00Z"}
                    ],
                }
            ),
            "unknown role",
        ),
    ],
)
def test_bad_imports_are_refused_with_a_sentence(
    store: ConversationStore, payload: str, reason: str
) -> None:
    with pytest.raises(ImportFormatError) as caught:
        store.import_json(payload)
    assert isinstance(caught.value, UserError)
    assert reason in str(caught.value)
    assert str(caught.value).endswith("Choose a JSON file exported by InternLM2 Desktop.")
    assert store.conversations.list_recent() == []  # nothing half-imported
