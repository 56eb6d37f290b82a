"""A reply's plugin call: found while it streams (by its special token) and parsed when it ends.

One parser for the window and the local server: `parse_call` reads the reply decoded WITH its
special tokens (chat_format.parse_reply) and keeps a call only when it has a usable name;
`CallWatch` tells a streaming loop when the reply has entered a call, so the call's JSON is
held back instead of being shown as the reply's text. `describe_call` is the stored form.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.internlm2.chat_format import Reply, ToolCall, parse_reply
from app.internlm2.tokenizer import ACTION_START

MAX_NESTING = 32
"""Levels of arrays and objects in a call's arguments: a deeper call is no call (it could not
be stored, shown or sent back without running out of stack)."""


def _nesting(value: Any) -> int:
    """How deeply `value` nests lists and dicts (counted without recursion; stops past the bound)."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_NESTING:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


def parse_call(text_with_specials: str) -> Reply:
    """The reply split into text and a call; a call without a usable name, or with arguments
    nested deeper than MAX_NESTING, is no call."""
    reply = parse_reply(text_with_specials)
    call = reply.tool_call
    if call is None or call.kind != "plugin" or not call.name or _nesting(call.parameters) > MAX_NESTING:
        return Reply(reply.content, None)
    return reply


@dataclass(frozen=True)
class ParsedReply:
    """What the window stores for a finished reply: the visible text and the call, if any.

    `malformed` is the raw markup of a call that could not be read (not JSON, no name, or an
    interpreter call): it is shown as text with a note, and nothing runs."""

    text: str
    call: ToolCall | None = None
    malformed: str = ""


def split_reply(text_with_specials: str, action_start: str = ACTION_START) -> ParsedReply:
    """A finished reply as text plus its call (or the markup of a malformed one)."""
    if action_start not in text_with_specials:
        return ParsedReply(text_with_specials)
    raw = parse_reply(text_with_specials)
    good = parse_call(text_with_specials)
    if good.tool_call is not None:
        return ParsedReply(good.content, good.tool_call)
    body = raw.tool_call.raw if raw.tool_call is not None else ""
    shown = "\n\n".join(p for p in (raw.content, body) if p)
    return ParsedReply(shown, None, body or text_with_specials)


class CallWatch:
    """Tells a streaming loop when the reply's tokens reach `<|action_start|>`.

    The engine's loop streams a token's text before it runs the token into the cache, and a
    call begins with a special token that streams no text, so looking at the tokens that
    entered the cache since the last piece says whether the piece belongs to a call."""

    def __init__(self, action_start_id: int, start: int) -> None:
        self._id = action_start_id
        self._checked = start
        self.in_call = False

    def update(self, cached: Sequence[int]) -> bool:
        """Look at the tokens cached since the last call; True from the call's start on."""
        if not self.in_call and self._id >= 0:
            new = cached[self._checked:]
            self._checked = len(cached)
            self.in_call = self._id in new
        return self.in_call


def call_to_json(call: ToolCall) -> dict[str, Any]:
    """The stored form of a call (messages.tool of an assistant reply)."""
    return {"kind": call.kind, "name": call.name, "parameters": call.parameters, "raw": call.raw}


def call_from_json(data: Any) -> ToolCall | None:
    """A stored or imported call; None when it is not one (a damaged or hostile file)."""
    if not isinstance(data, dict):
        return None
    name, params, raw = data.get("name"), data.get("parameters"), data.get("raw")
    if not (isinstance(name, str) and name and isinstance(params, dict)):
        return None
    if not isinstance(raw, str):
        raw = json.dumps({"name": name, "parameters": params}, ensure_ascii=False)
    return ToolCall("plugin", name[:200], params, raw)
