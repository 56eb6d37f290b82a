"""The InternLM2 chat format: ChatML prompts, stop tokens, official defaults, tool-call parsing."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from app.internlm2.tokenizer import (
    ACTION_END,
    ACTION_START,
    IM_END,
    IM_START,
    INTERPRETER,
    PLUGIN,
    TokenizerLike,
)

Role = Literal["system", "user", "assistant", "environment"]

DEFAULT_SYSTEM_PROMPT = (
    "You are an AI assistant whose name is InternLM (书生·浦语).\n"
    "- InternLM (书生·浦语) is a conversational language model that is developed by Shanghai AI "
    "Laboratory (上海人工智能实验室). It is designed to be helpful, honest, and harmless.\n"
    "- InternLM (书生·浦语) can understand and communicate fluently in the language chosen by the "
    "user such as English and 中文."
)

# The Jinja chat template of the official tokenizer_config.json (written into exported GGUFs).
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; temperature 0 means greedy."""

    temperature: float = 0.8
    top_p: float = 0.8
    top_k: int = 0
    repetition_penalty: float = 1.0
    max_new_tokens: int = 1024
    seed: int | None = None


# The official chat() defaults (internlm2.md).
OFFICIAL_SAMPLING = Sampling()


@dataclass(frozen=True)
class ToolCall:
    """A parsed call: `kind` is "plugin" or "interpreter"; `parameters` from the JSON body."""

    kind: Literal["plugin", "interpreter"]
    name: str
    parameters: dict[str, Any]
    raw: str


@dataclass(frozen=True)
class Message:
    """One turn. `name` names the plugin/interpreter for tool system or environment turns."""

    role: Role
    content: str
    name: Literal["plugin", "interpreter"] | None = None
    tool_call: ToolCall | None = None
    token_ids: tuple[int, ...] | None = None  # an assistant reply's exact generated ids


@dataclass(frozen=True)
class Tokens:
    """Exact token ids with their text: a generated reply goes back into the prompt unchanged,
    so the next turn's prompt extends the cached tokens instead of re-tokenizing the reply."""

    ids: tuple[int, ...]
    text: str


@dataclass(frozen=True)
class Special:
    """A special token placed by the template (never produced from text)."""

    name: str


Segment = str | Special | Tokens


@dataclass
class Prompt:
    """A prompt as segments of text and special tokens, rendered to ids or a string."""

    segments: list[Segment] = field(default_factory=list)

    def add(self, *parts: Segment) -> None:
        for part in parts:
            if isinstance(part, str) and self.segments and isinstance(self.segments[-1], str):
                self.segments[-1] += part  # text between two specials is tokenized as one run
            elif part != "":
                self.segments.append(part)

    def ids(self, tok: TokenizerLike, *, bos: bool = True) -> list[int]:
        out = [tok.special.bos] if bos else []
        for seg in self.segments:
            if isinstance(seg, Special):
                out.append(tok.special.id(seg.name))
            elif isinstance(seg, Tokens):
                out.extend(seg.ids)
            else:
                out.extend(tok.encode(seg))
        return out

    def text(self) -> str:
        """The prompt as one string with special-token names (for display and logs)."""
        return "".join(seg.name if isinstance(seg, Special) else seg.text if isinstance(seg, Tokens) else seg
                       for seg in self.segments)


_TOOL_KIND = {"plugin": PLUGIN, "interpreter": INTERPRETER}


def _header(prompt: Prompt, role: str, name: str | None) -> None:
    prompt.add(Special(IM_START), role)
    if name:
        prompt.add(" name=", Special(_TOOL_KIND[name]))
    prompt.add("\n")


def build_chat_prompt(messages: Sequence[Message], *, add_generation_prompt: bool = True,
                      tools: Sequence[dict[str, Any]] | None = None,
                      tools_kind: Literal["plugin", "interpreter"] = "plugin") -> Prompt:
    """ChatML: `<s><|im_start|>role\\ncontent<|im_end|>\\n ... <|im_start|>assistant\\n`.

    `tools` (JSON-able descriptions) become a `system name=<|plugin|>` turn after the first
    system turn, as the official format does.
    """
    prompt = Prompt()
    tools_done = tools is None
    for i, msg in enumerate(messages):
        _header(prompt, msg.role, msg.name)
        prompt.add(Tokens(msg.token_ids, msg.content) if msg.token_ids is not None else msg.content)
        if msg.tool_call is not None:
            prompt.add(Special(ACTION_START), Special(_TOOL_KIND[msg.tool_call.kind]), "\n",
                       msg.tool_call.raw, Special(ACTION_END))
        prompt.add(Special(IM_END), "\n")
        last_system = msg.role == "system" and (i + 1 == len(messages) or messages[i + 1].role != "system")
        if not tools_done and last_system:
            _tools_turn(prompt, tools or [], tools_kind)
            tools_done = True
    if not tools_done:
        _tools_turn(prompt, tools or [], tools_kind)
    if add_generation_prompt:
        prompt.add(Special(IM_START), "assistant\n")
    return prompt


def _tools_turn(prompt: Prompt, tools: Sequence[dict[str, Any]], kind: Literal["plugin", "interpreter"]) -> None:
    _header(prompt, "system", kind)
    prompt.add(json.dumps(list(tools), ensure_ascii=False), Special(IM_END), "\n")


def build_base_prompt(text: str) -> Prompt:
    """The base model has no template: the text is continued as it is (after BOS)."""
    prompt = Prompt()
    prompt.add(text)
    return prompt


def stop_ids(tok: TokenizerLike, *, chat: bool, generation_eos: Sequence[int] = ()) -> set[int]:
    """Ids that end a reply. For chat models `<|im_end|>` is ALWAYS among them (InternLM#615)."""
    ids = {tok.special.eos, *generation_eos}
    if chat:
        ids.add(tok.special.id(IM_END))
    return ids


_CALL_RE = re.compile(
    re.escape(ACTION_START) + r"\s*(" + re.escape(PLUGIN) + "|" + re.escape(INTERPRETER) + r")\s*\n?"
    r"(.*?)(?:" + re.escape(ACTION_END) + r"|$)",
    re.S,
)


@dataclass(frozen=True)
class Reply:
    """An assistant reply split into the visible text and an optional tool call."""

    content: str
    tool_call: ToolCall | None


def parse_reply(text: str) -> Reply:
    """Split a reply decoded WITH special-token names into text and a tool call.

    A call body that is not valid JSON is kept as `raw` with empty parameters and name "".
    """
    text = text.split(IM_END, 1)[0]
    match = _CALL_RE.search(text)
    if not match:
        return Reply(content=text.strip(), tool_call=None)
    kind: Literal["plugin", "interpreter"] = "plugin" if match.group(1) == PLUGIN else "interpreter"
    body = match.group(2).strip()
    name, params = "", cast(dict[str, Any], {})
    try:
        data = json.loads(body)
        if isinstance(data, dict):
            name = str(data.get("name", ""))
            raw_params = data.get("parameters", data.get("arguments", {}))
            params = raw_params if isinstance(raw_params, dict) else {"value": raw_params}
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested beyond the parser's stack
        name, params = "", {}
        if kind == "interpreter":
            params = {"code": body}
    return Reply(content=text[: match.start()].strip(), tool_call=ToolCall(kind, name, params, body))
