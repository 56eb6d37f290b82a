"""Row types of the conversation store (frozen dataclasses) and the timestamp format."""

from __future__ import annotations

import json
import math
import sqlite3
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from app.sentences import from_json

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_timestamp(moment: datetime) -> str:
    """UTC, fixed width, microseconds: sorts as text and round-trips exactly."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(timezone.utc).strftime(_TS_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Read a stored (or imported ISO 8601) timestamp back as an aware UTC datetime.

    The stored form (format_timestamp's, 27 characters) is read by `fromisoformat`, in C: a
    conversation of 100,000 versions opened in 1.25 s, 0.7 of them in `strptime`."""
    if len(text) == 27 and text[-1] == "Z" and text[10] == "T" and text[19] == "." and text[20:26].isdigit():
        try:
            moment = datetime.fromisoformat(text[:26])
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is None:  # an offset inside is not the stored form
            return moment.replace(tzinfo=timezone.utc)
    try:
        return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)


class Role(str, Enum):
    """Who wrote a message; the names are InternLM2's chat roles."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    ENVIRONMENT = "environment"


class MessageState(str, Enum):
    """Life of a message: replies are `streaming` until finished, stopped or failed."""

    COMPLETE = "complete"
    STREAMING = "streaming"
    INTERRUPTED = "interrupted"
    ERROR = "error"


@dataclass(frozen=True)
class ReplyStats:
    """Figures about one generated reply, shown under it and kept with it."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    new_tokens: int = 0
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    stop_reason: str = ""
    backend: str = ""
    device: str = ""
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplyStats:
        """Tolerant reader: unknown keys are ignored, missing ones take their defaults."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in ("prompt_tokens", "cached_tokens", "new_tokens"):
            if key in values:
                values[key] = int(values[key])
        for key in ("ttft_s", "tokens_per_s"):
            if values.get(key) is not None:
                number = float(values[key])
                values[key] = number if math.isfinite(number) else None
        for key in ("stop_reason", "backend", "device", "model"):
            if key in values:
                values[key] = str(values[key])
        return cls(**values)


@dataclass(frozen=True)
class Conversation:
    """One chat: its title, model, system prompt and sampling settings."""

    id: int
    title: str
    created: datetime
    updated: datetime
    model: str
    system_prompt: str
    sampling: dict[str, Any] = field(default_factory=dict)
    deleted_at: datetime | None = None
    drop_turns: int = 0  # oldest user/assistant pairs left out of the prompt (the user chose so)
    imported: datetime | None = None  # when it was imported from an exported file (schema 6)
    tools: dict[str, Any] = field(default_factory=dict)  # tools offered and allowed (schema 7)

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class Message:
    """One turn; `parent_id` is the turn it follows (siblings are versions, ordered by
    `position`), `chosen` marks the version shown, `trashed` a branch in the trash."""

    id: int
    conversation_id: int
    position: int
    parent_id: int | None
    role: Role
    text: str
    state: MessageState
    stats: ReplyStats | None
    error: str
    created: datetime
    token_ids: tuple[int, ...] | None = None  # a reply's exact ids (schema 5); None: tokenize the text
    token_vocab: str = ""  # the vocabulary fingerprint of token_ids
    chosen: bool = True  # the version shown among its siblings (schema 7)
    trashed: datetime | None = None  # when its branch was moved to the trash (schema 7)
    tool: dict[str, Any] | None = None  # a call, its markup or a tool's outcome (schema 7)


MAX_TOOL_JSON = 200_000
"""Characters of a message's tool field: a longer one (damaged or hostile) is ignored."""


def parse_tool(value: Any) -> dict[str, Any] | None:
    """A stored or imported tool field (JSON text or object); None when absent or malformed."""
    if isinstance(value, str):
        if len(value) > MAX_TOOL_JSON:
            return None
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def tool_json(value: Mapping[str, Any] | None) -> str | None:
    """The column's form of a tool field (None stays NULL)."""
    return None if value is None else json.dumps(dict(value), ensure_ascii=False, allow_nan=False)


MAX_TOKEN_IDS = 1_000_000
"""More ids than any context holds: a longer list (a damaged file or import) is ignored."""


def parse_token_ids(value: Any) -> tuple[int, ...] | None:
    """Stored or imported ids (a JSON text or list) as a tuple; None when absent or malformed."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        if len(value) > 12 * MAX_TOKEN_IDS:
            return None
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list) or len(value) > MAX_TOKEN_IDS:
        return None
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 1 << 31 for i in value):
        return None
    return tuple(value)


def token_ids_json(ids: Any) -> str | None:
    """The column's form of a reply's ids (None stays NULL)."""
    return None if ids is None else json.dumps([int(i) for i in ids], separators=(",", ":"))


@dataclass(frozen=True)
class Document:
    """A file's text attached to a conversation (read whole into the prompt)."""

    id: int
    conversation_id: int
    name: str
    path: str
    sha256: str
    characters: int
    text: str
    created: datetime
    warnings: tuple[str, ...] = ()  # what the reader noticed (replaced bytes, pages without text)


@dataclass(frozen=True)
class SearchHit:
    """One message matching a search; `snippet` carries the highlight markers."""

    conversation_id: int
    message_id: int
    conversation_title: str
    role: Role
    snippet: str
    score: float


def conversation_from_row(row: sqlite3.Row) -> Conversation:
    deleted = row["deleted_at"]
    return Conversation(
        id=row["id"],
        title=row["title"],
        created=parse_timestamp(row["created"]),
        updated=parse_timestamp(row["updated"]),
        model=row["model"],
        system_prompt=row["system_prompt"],
        sampling=json.loads(row["sampling"]),
        deleted_at=parse_timestamp(deleted) if deleted else None,
        drop_turns=int(row["drop_turns"]),
        imported=optional_timestamp(row["imported"]),
        tools=parse_tool(row["tools"]) or {},
    )


def optional_timestamp(value: Any) -> datetime | None:
    """A nullable stored timestamp; an unreadable one (a damaged or hand-edited file) is None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def stored_position(value: Any) -> int:
    """A message's stored order. The column is an integer unless the file was hand-edited or
    damaged: a real number keeps its place (rounded down), text or bytes sort after every
    number as SQLite orders them (they compared with int in Python raised TypeError, so one
    such row made the conversation impossible to open or add to)."""
    if type(value) is int:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return math.floor(value)
    return sys.maxsize


# Enum(value) walks Python code for every row; a conversation holds up to 100,000 of them.
_ROLES = {r.value: r for r in Role}
_STATES = {s.value: s for s in MessageState}


def message_from_row(row: sqlite3.Row) -> Message:
    stats = row["stats"]
    role, state = row["role"], row["state"]
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        position=stored_position(row["position"]),
        parent_id=row["parent_id"],
        role=_ROLES.get(role) or Role(role),  # an unknown value raises as before
        text=row["text"],
        state=_STATES.get(state) or MessageState(state),
        stats=ReplyStats.from_dict(json.loads(stats)) if stats else None,
        error=row["error"],
        created=parse_timestamp(row["created"]),
        token_ids=parse_token_ids(row["token_ids"]),
        token_vocab=str(row["token_vocab"] or ""),
        chosen=bool(row["chosen"]),
        trashed=optional_timestamp(row["trashed"]),
        tool=parse_tool(row["tool"]),
    )


def document_from_row(row: sqlite3.Row) -> Document:
    return Document(
        id=row["id"],
        conversation_id=row["conversation_id"],
        name=row["name"],
        path=row["path"],
        sha256=row["sha256"],
        characters=row["characters"],
        text=row["text"],
        created=parse_timestamp(row["created"]),
        warnings=_warnings(row["warnings"]),
    )


def _warnings(raw: str) -> tuple[str, ...]:
    try:
        items = json.loads(raw)
    except ValueError:
        return ()
    return tuple(from_json(item) for item in items) if isinstance(items, list) else ()
