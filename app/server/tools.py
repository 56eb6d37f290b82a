"""OpenAI tools <-> the InternLM2 plugin protocol (the shape LMDeploy's api_server uses).

- `tools` become the `<|im_start|>system name=<|plugin|>` turn: a JSON list of the functions'
  {name, description, parameters}, right after the system prompt (chat_format.build_chat_prompt).
- `tool_choice` "auto" (the default) lets the model decide; "none" leaves the tools out of the
  prompt; "required" and a named function start the reply with the call markup
  (`<|action_start|><|plugin|>\\n`, then `{"name": "NAME", "parameters": ` for a named one), so
  the model can only continue a call.
- A reply's `<|action_start|><|plugin|>\\n{"name": ..., "parameters": {...}}<|action_end|>`
  becomes `tool_calls` (parsed by app/engine/tools/calls.py, the window's parser too) [{id, type "function", function {name, arguments (a JSON string)}}] with
  finish_reason "tool_calls"; a call that is not valid JSON stays text, nothing is lost.
- Messages going back: an assistant message's `tool_calls` re-enter as the same markup, and a
  `tool` message is the `<|im_start|>environment name=<|plugin|>` turn.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.internlm2.chat_format import DEFAULT_SYSTEM_PROMPT, Message, ToolCall
from app.server.errors import BadRequest
from app.server.protocol import ChatMessageIn, NamedToolChoice, ToolDef


@dataclass(frozen=True)
class ToolPlan:
    """What the tools of a request do to the prompt: the plugin list and the forced call start."""

    functions: list[dict[str, Any]] | None  # None: no plugin turn
    force: bool = False  # the reply starts inside a call
    force_name: str | None = None  # ... of this function

    @property
    def forced_text(self) -> str:
        """The text after `<|action_start|><|plugin|>` that the prompt already holds."""
        if not self.force:
            return ""
        if self.force_name is None:
            return "\n"
        return "\n" + '{"name": ' + json.dumps(self.force_name, ensure_ascii=False) + ', "parameters": '


def plan_tools(tools: Sequence[ToolDef] | None, choice: str | NamedToolChoice | None) -> ToolPlan:
    """The ToolPlan of a request; a choice that names no offered tool is refused."""
    functions = [t.function.model_dump(exclude_none=True) for t in tools or []]
    if not functions:
        if choice not in (None, "none", "auto"):
            raise BadRequest("tool_choice asks for a tool call, but the request offers no tools.")
        return ToolPlan(None)
    if choice == "none":
        return ToolPlan(None)
    if isinstance(choice, NamedToolChoice):
        name = choice.function.name
        if name not in {f["name"] for f in functions}:
            raise BadRequest(f"tool_choice names the function {name!r}, which is not among the tools.")
        return ToolPlan(functions, force=True, force_name=name)
    return ToolPlan(functions, force=choice == "required")


def _arguments(raw: str, index: int) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        raise BadRequest(f"The arguments of tool call {index + 1} are not valid JSON.") from None
    if not isinstance(value, dict):
        raise BadRequest(f"The arguments of tool call {index + 1} must be a JSON object.")
    return value


def call_markup(name: str, parameters: dict[str, Any]) -> str:
    """The JSON body of a plugin call, as the model writes it."""
    return json.dumps({"name": name, "parameters": parameters}, ensure_ascii=False)


def to_messages(messages: Sequence[ChatMessageIn]) -> list[Message]:
    """The chat_format messages of a request; the official system prompt when none leads."""
    out: list[Message] = []
    if messages[0].role not in ("system", "developer"):
        out.append(Message("system", DEFAULT_SYSTEM_PROMPT))
    for msg in messages:
        try:
            text = msg.text()
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        if msg.role in ("system", "developer"):
            out.append(Message("system", text))
        elif msg.role == "user":
            out.append(Message("user", text))
        elif msg.role in ("tool", "function"):
            out.append(Message("environment", text, name="plugin"))
        else:
            calls = [ToolCall("plugin", c.function.name, params, call_markup(c.function.name, params))
                     for i, c in enumerate(msg.tool_calls or [])
                     for params in (_arguments(c.function.arguments, i),)]
            out.append(Message("assistant", text, tool_call=calls[0] if calls else None))
            # InternLM2 makes one call per turn: further calls follow as turns of their own.
            out.extend(Message("assistant", "", tool_call=c) for c in calls[1:])
    return out


def tool_calls_json(call: ToolCall) -> list[dict[str, Any]]:
    """OpenAI's `tool_calls` for one parsed call (a fresh id, arguments as a JSON string)."""
    return [{"id": f"call_{secrets.token_hex(12)}", "type": "function",
             "function": {"name": call.name, "arguments": json.dumps(call.parameters, ensure_ascii=False)}}]
