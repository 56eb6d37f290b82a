"""Sentences the core says to people, kept translatable without Qt in the core.

The core writes `say("Could not reach {where}.", where=endpoint)`: the result is the English
sentence (a `str`, so logs, the command line and tests read it as before) that also remembers its
template and arguments. The window turns it into the user's language with
`app.ui.window.core_text.translated`, which looks the template up in the "Core" context of the Qt
catalogue and fills in the (themselves translated) arguments. `scripts/update_translations.sh`
collects every `say(...)` template of the core into that catalogue.

Joining two sentences keeps both translatable: `join(message, hint)`.
"""

from __future__ import annotations

from typing import Any

CONTEXT = "Core"  # the Qt translation context of every core sentence


class Sentence(str):
    """English text plus the template and arguments it was made from."""

    template: str
    args: dict[str, Any]
    parts: tuple[Sentence | str, ...]

    def __new__(cls, template: str, args: dict[str, Any] | None = None,
                parts: tuple[Sentence | str, ...] = ()) -> Sentence:
        args = dict(args or {})
        if parts:
            text = " ".join(str(p) for p in parts if str(p))
        else:  # a fixed sentence (catalog text) may hold braces: only a template with args is formatted
            text = template.format(**args) if args else template
        self = super().__new__(cls, text)
        self.template, self.args, self.parts = template, args, parts
        return self


def say(template: str, /, **args: Any) -> Sentence:
    """A core sentence: `template` with `{name}` fields (str.format), filled from `args`.
    The template must be a literal string so the catalogue can collect it."""
    return Sentence(template, args)


def fixed(text: str) -> Sentence:
    """A sentence that comes from the app's data files (the catalog's summaries and licence
    notes): translatable as a whole; scripts/core_strings.py collects those too."""
    return Sentence(text)


def join(*parts: str) -> Sentence:
    """Sentences side by side ("What happened. What to do."), each translated on its own."""
    return Sentence("", parts=tuple(p for p in parts if p))


def to_json(text: str) -> Any:
    """A sentence as stored data: {"say": template, "args": {...}} (nested sentences too), so a
    warning kept in the database is still translated after a restart; plain text stays text."""
    if not isinstance(text, Sentence):
        return str(text)
    if text.parts:
        return {"join": [to_json(part) for part in text.parts]}
    args = {key: to_json(value) if isinstance(value, Sentence) else
            (value if isinstance(value, (int, float)) else str(value)) for key, value in text.args.items()}
    return {"say": text.template, "args": args}


def from_json(data: Any) -> str:
    """The reverse of `to_json`; anything unexpected comes back as plain text (never raises)."""
    if isinstance(data, dict):
        try:
            if "join" in data:
                return join(*(from_json(part) for part in data["join"]))
            args = {key: from_json(value) if isinstance(value, dict) else value
                    for key, value in dict(data.get("args") or {}).items()}
            return Sentence(str(data["say"]), args)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            return str(data.get("say", ""))
    return str(data)
