"""The core's sentences in the user's language (the core itself never imports Qt)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from app.sentences import CONTEXT, Sentence


def translated(text: Any) -> str:
    """`text` in the installed language: a core `Sentence` through the "Core" catalogue (its
    arguments translated too), anything else unchanged."""
    if not isinstance(text, Sentence):
        return str(text)
    if text.parts:
        return " ".join(translated(part) for part in text.parts)
    template = QCoreApplication.translate(CONTEXT, text.template)
    if not text.args:
        return template
    args = {key: translated(value) if isinstance(value, Sentence) else value for key, value in text.args.items()}
    try:
        return template.format(**args)
    except (KeyError, IndexError, ValueError):  # a broken translation never hides the sentence
        return str(text)


def error_text(error: BaseException) -> str:
    """A user error's sentence (message, then hint) in the user's language."""
    message, hint = getattr(error, "message", None), getattr(error, "hint", None)
    if message is None:
        return translated(str(error))
    return " ".join(part for part in (translated(message), translated(hint or "")) if part)
