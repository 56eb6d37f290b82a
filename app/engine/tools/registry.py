"""The built-in tools: their descriptions for the `<|plugin|>` system turn, the per-conversation
switches and permissions, and running one call.

A conversation's tool settings are stored as JSON (`conversations.tools`, schema 7):
`{"enabled": [names], "always": [names]}`; every tool is off until the user switches it on,
and runs only after the user allowed it (once, or always for this conversation). What a tool
returns is bounded (MAX_RESULT characters, and `fit_to_context`: the room the context has left)
and becomes the `environment` turn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.engine.conversation import Conversation, Turn
from app.engine.tools.calculator import CalculatorError, calculate
from app.engine.tools.clock import now_text
from app.engine.tools.doc_search import SearchError, search_text
from app.internlm2.chat_format import ToolCall

CALCULATOR = "calculator"
DATE_TIME = "current_date_time"
SEARCH_DOCUMENT = "search_document"
TOOL_NAMES = (CALCULATOR, DATE_TIME, SEARCH_DOCUMENT)
MAX_RESULT = 4_000  # characters of a result that go back to the model
MAX_TOOL_ROUNDS = 4  # calls run for one answer (one question); a further call is not run

_SPECS: dict[str, dict[str, Any]] = {
    CALCULATOR: {
        "name": CALCULATOR,
        "description": "Exact arithmetic: + - * / // % ** and parentheses on numbers.",
        "parameters": {"type": "object", "required": ["expression"],
                       "properties": {"expression": {"type": "string",
                                                     "description": "for example (17 + 5) * 3 / 4"}}},
    },
    DATE_TIME: {
        "name": DATE_TIME,
        "description": "The current local date, time, weekday and time zone.",
        "parameters": {"type": "object", "properties": {}},
    },
    SEARCH_DOCUMENT: {
        "name": SEARCH_DOCUMENT,
        "description": "Search the document attached to this conversation; returns matching passages "
                       "with their character positions.",
        "parameters": {"type": "object", "required": ["query"],
                       "properties": {"query": {"type": "string", "description": "words to look for"}}},
    },
}


@dataclass(frozen=True)
class ToolSettings:
    """Which tools a conversation offers, and which of them run without asking."""

    enabled: frozenset[str] = frozenset()
    always: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, data: Any) -> ToolSettings:
        """Tolerant reader: unknown names and malformed values are dropped."""
        if not isinstance(data, Mapping):
            return cls()

        def names(value: Any) -> frozenset[str]:
            items = value if isinstance(value, list) else []
            return frozenset(n for n in items if isinstance(n, str) and n in TOOL_NAMES)

        enabled = names(data.get("enabled"))
        return cls(enabled, names(data.get("always")) & enabled)

    def to_json(self) -> dict[str, list[str]]:
        return {"enabled": sorted(self.enabled), "always": sorted(self.always & self.enabled)}

    def switched(self, name: str, on: bool) -> ToolSettings:
        enabled = self.enabled | {name} if on else self.enabled - {name}
        return ToolSettings(frozenset(enabled), self.always & enabled)

    def allowed_always(self, name: str) -> ToolSettings:
        return ToolSettings(self.enabled, self.always | ({name} & self.enabled))

    @property
    def sends_document_whole(self) -> bool:
        """Whether the prompt carries the attached document whole. With the search tool on it
        does not: the model searches it, so a document that does not fit whole can be asked
        about (and one that would fit is still only read in passages)."""
        return SEARCH_DOCUMENT not in self.enabled

    def specs(self, document_name: str | None = None, document_chars: int = 0) -> list[dict[str, Any]] | None:
        """The plugin descriptions of the enabled tools (None: no `<|plugin|>` turn at all); the
        search tool's names the attached document, which is then not in the prompt."""
        chosen = [_SPECS[n] for n in TOOL_NAMES if n in self.enabled]
        if document_name is not None and SEARCH_DOCUMENT in self.enabled:
            search = dict(_SPECS[SEARCH_DOCUMENT])
            search["description"] += (f" The attached document is {document_name[:200]!r} "
                                      f"({document_chars:,} characters); it is not in this prompt, so "
                                      "search it for what the question needs.")
            chosen = [search if spec["name"] == SEARCH_DOCUMENT else spec for spec in chosen]
        return chosen or None


def specs_for(names: Iterable[str]) -> list[dict[str, Any]]:
    return [_SPECS[n] for n in TOOL_NAMES if n in set(names)]


@dataclass(frozen=True)
class ToolResult:
    """What a call gave: the text of the `environment` turn, and whether the tool ran."""

    name: str
    text: str
    ran: bool


def _bounded(text: str) -> str:
    if len(text) <= MAX_RESULT:
        return text
    return text[:MAX_RESULT] + f"\n[… {len(text) - MAX_RESULT:,} more characters left out]"


def _string(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"the parameter {key!r} must be a string")
    return value


def run_call(call: ToolCall, *, document: str | None = None, document_name: str = "") -> ToolResult:
    """Run a call the user allowed; a bad argument is the result's sentence, never an exception."""
    try:
        if call.name == CALCULATOR:
            text = calculate(_string(call.parameters, "expression"))
        elif call.name == DATE_TIME:
            text = now_text()
        elif call.name == SEARCH_DOCUMENT:
            text = search_text(document, document_name or "the document", _string(call.parameters, "query"))
        else:
            return ToolResult(call.name, f"Error: there is no tool named {call.name[:80]!r}.", False)
    except (CalculatorError, SearchError, ValueError) as exc:
        return ToolResult(call.name, f"Error: {exc}.", True)
    return ToolResult(call.name, _bounded(text), True)


def fit_to_context(result: ToolResult, convo: Conversation, n_ctx: int) -> ToolResult:
    """The result cut (with a note saying so) to the room the context has left after the
    conversation `convo` and the answer's room, so the answer can go on after it."""
    spare = n_ctx - convo.build([*convo.turns, Turn("environment", "")]).needed
    count = convo.tokenizer.encode
    if len(count(result.text)) <= spare:
        return result

    def cut(n: int) -> str:
        note = f"[… {len(result.text) - n:,} more characters left out: the model's context is full]"
        return f"{result.text[:n]}\n{note}" if n else note

    low, high = 0, len(result.text)  # the longest cut that fits: low fits (or is the bare note)
    while low < high:
        mid = (low + high + 1) // 2
        if len(count(cut(mid))) <= spare:
            low = mid
        else:
            high = mid - 1
    return replace(result, text=cut(low))


def not_offered(call: ToolCall) -> ToolResult:
    """The answer to a call of a tool this conversation does not offer (nothing runs)."""
    return ToolResult(call.name, f"Error: the tool {call.name[:80]!r} is not available in this "
                                 "conversation.", False)


def denied(call: ToolCall) -> ToolResult:
    """The answer when the user did not allow the call."""
    return ToolResult(call.name, "The user did not allow this call; answer without it.", False)
