"""The core's sentences in the user's language (the core itself never imports Qt)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from app.errors import UserError
from app.sentences import CONTEXT, Sentence, say


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
    """The one place an exception becomes a sentence for the window: a user error's message
    and hint in the user's language (its technical detail is shown apart, `error.detail`); an
    OS error's own description; anything else a sentence that points at the log."""
    if isinstance(error, UserError):
        return " ".join(part for part in (translated(error.message), translated(error.hint)) if part)
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return translated(say("The file could not be used: {reason}{where}.", reason=error.strerror, where=where))
    return translated(say("Something went wrong ({what}). The details are in the log file.",
                          what=f"{type(error).__name__}: {error}"))
