"""Export a conversation to Markdown or versioned JSON, and import that JSON back.

The JSON is the archive format: `{"format": FORMAT_NAME, "format_version": N, "exported":
…, "conversation": {…}, "messages": […], "documents": […]}`. Format 2 carries the whole tree:
messages in the order they were written, each with `parent` (the index in the list of the
message it follows, always an earlier one; null for a first message) and `chosen` (the version
shown), so an import rebuilds the same tree and chosen path (branches in the trash are not
exported). Format 1 files have neither: each message follows the one before it. No ids are
written, so an import creates a new conversation equal to the exported one apart from its ids. A reply's exact token ids travel with it
(`token_ids`, `token_vocab`; absent when unknown, and older files have none: such a reply is
tokenized from its text once, when a prompt first needs it). A conversation that was itself
imported records when (`conversation.imported`, absent for one made here); importing a file
marks the new conversation with the time of this import, whatever the file says. A file with a
newer `format_version` than this code reads is refused with `ImportFormatError`. Tool turns travel
as they are stored (a reply's `tool`: its call; an `environment` turn's `tool`: the tool and
what happened; the conversation's `tools`: what it offers), so they re-enter the prompt the
same way after an import. Markdown is for reading only: the current path, and how many other
versions exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.sentences import say
from app.storage.db import Database
from app.storage.errors import ImportFormatError
from app.storage.models import (
    Conversation,
    Document,
    Message,
    MessageState,
    ReplyStats,
    Role,
    format_timestamp,
    parse_timestamp,
    parse_token_ids,
    parse_tool,
    token_ids_json,
    tool_json,
)
from app.storage.tree import current_path, other_versions

FORMAT_NAME = "internlm2-desktop/conversation"
FORMAT_VERSION = 2

MARKDOWN_LABELS: Mapping[str, str] = {
    "untitled": "Untitled conversation",
    "model": "Model",
    "created": "Created",
    "system_prompt": "System prompt",
    "documents": "Attached documents",
    "characters": "characters",
    "interrupted": "(stopped before the end)",
    "error": "Error",
    "tokens": "tokens",
    "first_token": "first token",
    "other_versions": "Other versions not shown here: %1 (the JSON export keeps them all).",
    Role.SYSTEM.value: "System",
    Role.USER.value: "User",
    Role.ASSISTANT.value: "Assistant",
    Role.ENVIRONMENT.value: "Tool output",
}
"""English defaults; the UI passes translated labels (tr()) for any of these keys."""


@dataclass(frozen=True)
class Archive:
    """A parsed export: plain dicts, validated, ready to be written as a new conversation."""

    conversation: dict[str, Any]
    messages: list[dict[str, Any]]
    documents: list[dict[str, Any]]


def to_dict(
    conversation: Conversation,
    messages: Sequence[Message],
    documents: Sequence[Document],
    exported: str,
) -> dict[str, Any]:
    """The JSON archive of one conversation (`exported` is a stored timestamp); `messages`
    are all of its messages (`Messages.tree_for`), those in the trash are left out."""
    live = [m for m in sorted(messages, key=lambda m: m.position) if m.trashed is None]
    index = {m.id: i for i, m in enumerate(live)}
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "exported": exported,
        "conversation": {
            "title": conversation.title,
            "created": format_timestamp(conversation.created),
            "updated": format_timestamp(conversation.updated),
            "model": conversation.model,
            "system_prompt": conversation.system_prompt,
            "sampling": conversation.sampling,
            **_imported_field(conversation),
            **({"tools": conversation.tools} if conversation.tools else {}),
        },
        "messages": [
            {
                "role": message.role.value,
                "text": message.text,
                "state": message.state.value,
                "stats": None if message.stats is None else message.stats.to_dict(),
                "error": message.error,
                "created": format_timestamp(message.created),
                **_ids_fields(message),
                "parent": index.get(message.parent_id) if message.parent_id is not None else None,
                "chosen": message.chosen,
                **({"tool": message.tool} if message.tool is not None else {}),
            }
            for message in live
        ],
        "documents": [
            {
                "name": document.name,
                "path": document.path,
                "sha256": document.sha256,
                "characters": document.characters,
                "text": document.text,
                "created": format_timestamp(document.created),
                "warnings": list(document.warnings),
            }
            for document in documents
        ],
    }


def _imported_field(conversation: Conversation) -> dict[str, Any]:
    if conversation.imported is None:
        return {}
    return {"imported": format_timestamp(conversation.imported)}


def _ids_fields(message: Message) -> dict[str, Any]:
    if message.token_ids is None:
        return {}
    return {"token_ids": list(message.token_ids), "token_vocab": message.token_vocab}


def to_markdown(
    conversation: Conversation,
    messages: Sequence[Message],
    documents: Sequence[Document],
    labels: Mapping[str, str] | None = None,
) -> str:
    """A readable transcript: title, model, documents, then one section per message of the
    current path (`messages` may be the whole tree: `Messages.tree_for`)."""
    words = {**MARKDOWN_LABELS, **(labels or {})}
    hidden = other_versions(messages)
    messages = current_path(messages)
    title = " ".join(conversation.title.split()) or words["untitled"]
    lines = [f"# {title}", ""]
    if conversation.model:
        lines.append(f"- {words['model']}: {conversation.model}")
    lines.append(f"- {words['created']}: {conversation.created:%Y-%m-%d %H:%M} UTC")
    if documents:
        names = ", ".join(
            f"{document.name} ({document.characters:,} {words['characters']})"
            for document in documents
        )
        lines.append(f"- {words['documents']}: {names}")
    if hidden:
        lines.append("- " + words["other_versions"].replace("%1", str(hidden)))
    lines.append("")
    if conversation.system_prompt:
        lines += [f"## {words['system_prompt']}", "", conversation.system_prompt, ""]
    for message in messages:
        lines += [f"## {words[message.role.value]}", "", message.text, ""]
        call = (message.tool or {}).get("call")
        if isinstance(call, Mapping):  # the tool call a reply ends with
            body = json.dumps({"name": call.get("name"), "parameters": call.get("parameters")},
                              ensure_ascii=False)
            lines += ["```json", body, "```", ""]
        if message.state is MessageState.INTERRUPTED:
            lines += [f"*{words['interrupted']}*", ""]
        elif message.state is MessageState.ERROR:
            lines += [f"*{words['error']}: {message.error}*", ""]
        if message.stats is not None:
            lines += [f"*{_stats_line(message.stats, words)}*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _stats_line(stats: ReplyStats, words: Mapping[str, str]) -> str:
    parts = [f"{stats.new_tokens} {words['tokens']}"]
    if stats.tokens_per_s is not None:
        parts.append(f"{stats.tokens_per_s:.1f} tok/s")
    if stats.ttft_s is not None:
        parts.append(f"{words['first_token']} {stats.ttft_s:.2f} s")
    where = " ".join(part for part in (stats.backend, stats.device) if part)
    if where:
        parts.append(where)
    if stats.model:
        parts.append(stats.model)
    return " · ".join(parts)


# -- import ----------------------------------------------------------------------------------


_MISSING: Any = object()


def _get(obj: Mapping[str, Any], key: str, kind: type, default: Any = _MISSING) -> Any:
    value = obj.get(key)
    if value is None:
        if default is _MISSING:
            raise ImportFormatError(say("the field '{key}' is missing", key=key))
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ImportFormatError(say("the field '{key}' has the wrong type", key=key))
    return value


def _timestamp(obj: Mapping[str, Any], key: str) -> str:
    try:
        return format_timestamp(parse_timestamp(_get(obj, key, str)))
    except ValueError as err:
        raise ImportFormatError(say("the field '{key}' is not a date", key=key)) from err


def parse_archive(data: str | bytes | Mapping[str, Any]) -> Archive:
    """Validate an export (JSON text or the decoded object); ImportFormatError if unusable."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as err:
            raise ImportFormatError(say("it is not valid JSON")) from err
    if not isinstance(data, Mapping) or data.get("format") != FORMAT_NAME:
        raise ImportFormatError(say("it is not an InternLM2 Desktop conversation export"))
    version = _get(data, "format_version", int)
    if version > FORMAT_VERSION:
        raise ImportFormatError(
            say("it was exported by a newer version of the app (format {version}); update the app to import it",
                version=version)
        )
    head = _get(data, "conversation", dict)
    conversation = {
        "title": _get(head, "title", str, ""),
        "created": _timestamp(head, "created"),
        "updated": _timestamp(head, "updated"),
        "model": _get(head, "model", str, ""),
        "system_prompt": _get(head, "system_prompt", str, ""),
        "sampling": _get(head, "sampling", dict, {}),
        "tools": _tool_text(head, "tools") or "{}",
    }
    items = _get(data, "messages", list, [])
    messages = [_parse_message(item, index) for index, item in enumerate(items)]
    documents = [_parse_document(item) for item in _get(data, "documents", list, [])]
    return Archive(conversation, messages, documents)


def _parent(item: Mapping[str, Any], index: int) -> int | None:
    """The index of the message this one follows: an earlier one, so the messages form a
    tree; without the field (format 1) the one before it."""
    if "parent" not in item:
        return index - 1 if index else None
    parent = item["parent"]
    if parent is None:
        return None
    if not isinstance(parent, int) or isinstance(parent, bool) or not 0 <= parent < index:
        raise ImportFormatError(say("the field '{key}' does not name an earlier message", key="parent"))
    return parent


def _parse_message(item: Any, index: int) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ImportFormatError(say("a message is not an object"))
    chosen = item.get("chosen", True)
    if not isinstance(chosen, bool):
        raise ImportFormatError(say("the field '{key}' has the wrong type", key="chosen"))
    try:
        role = Role(_get(item, "role", str))
        state = MessageState(_get(item, "state", str, MessageState.COMPLETE.value))
    except ValueError as err:
        raise ImportFormatError(say("a message has an unknown role or state")) from err
    stats = item.get("stats")
    if stats is not None and not isinstance(stats, Mapping):
        raise ImportFormatError(say("the field '{key}' has the wrong type", key="stats"))
    ids: tuple[int, ...] | None = None
    if item.get("token_ids") is not None:
        ids = parse_token_ids(_get(item, "token_ids", list))
        if ids is None:
            raise ImportFormatError(say("the field '{key}' is not a list of token numbers", key="token_ids"))
    return {
        "tool": _tool_text(item, "tool"),
        "token_ids": token_ids_json(ids),
        "token_vocab": _get(item, "token_vocab", str, "") if ids is not None else "",
        "role": role.value,
        "text": _get(item, "text", str),
        # A reply cannot still be streaming in a file: it was stopped where it stands.
        "state": (MessageState.INTERRUPTED if state is MessageState.STREAMING else state).value,
        "stats": None if stats is None else json.dumps(ReplyStats.from_dict(stats).to_dict()),
        "error": _get(item, "error", str, ""),
        "created": _timestamp(item, "created"),
        "parent": _parent(item, index),
        "chosen": int(chosen),
    }


def _tool_text(obj: Mapping[str, Any], key: str) -> str | None:
    """A tool field (an object) as the column stores it; None when absent."""
    if obj.get(key) is None:
        return None
    try:
        text = tool_json(_get(obj, key, dict))
    except ValueError:
        raise ImportFormatError(say("the field '{key}' holds a number JSON cannot store", key=key)) from None
    if text is None or parse_tool(text) is None:
        raise ImportFormatError(say("the field '{key}' is too large", key=key))
    return text


def _parse_document(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ImportFormatError(say("a document is not an object"))
    text = _get(item, "text", str)
    return {
        "name": _get(item, "name", str),
        "path": _get(item, "path", str, ""),
        "sha256": _get(item, "sha256", str),
        "characters": len(text),
        "text": text,
        "created": _timestamp(item, "created"),
        "warnings": json.dumps([str(w) for w in _get(item, "warnings", list, [])], ensure_ascii=False),
    }


def write_archive(db: Database, archive: Archive) -> int:
    """Create a new conversation from an archive, all in one transaction; returns its id.

    The conversation is marked as imported now (`conversations.imported`)."""
    head = archive.conversation
    imported = db.now()
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO conversations (title, created, updated, model, system_prompt, sampling, "
            "imported, tools) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                head["title"],
                head["created"],
                head["updated"],
                head["model"],
                head["system_prompt"],
                json.dumps(head["sampling"], ensure_ascii=False, sort_keys=True),
                imported,
                head["tools"],
            ),
        )
        conversation_id = int(cursor.lastrowid or 0)
        ids: list[int] = []
        for position, message in enumerate(archive.messages):
            parent = message["parent"]
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, position, parent_id, role, text, state, "
                "stats, error, created, token_ids, token_vocab, chosen, tool) VALUES (:cid, "
                ":position, :parent_id, :role, :text, :state, :stats, :error, :created, "
                ":token_ids, :token_vocab, :chosen, :tool)",
                {**message, "cid": conversation_id, "position": position,
                 "parent_id": None if parent is None else ids[parent]},
            )
            ids.append(int(cursor.lastrowid or 0))
        for document in archive.documents:
            conn.execute(
                "INSERT INTO documents (conversation_id, name, path, sha256, characters, text, "
                "created, warnings) VALUES (:cid, :name, :path, :sha256, :characters, :text, "
                ":created, :warnings)",
                {"cid": conversation_id, **document},
            )
    return conversation_id
