"""Typed errors a user can meet: each carries a sentence that says what happened and what to do."""

from __future__ import annotations


class UserError(Exception):
    """An error a person can act on. str(err) is one sentence for a dialog or a CLI line.

    Subclasses live next to the code that raises them; the UI and the CLI show
    `str(err)` and never a traceback.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}".strip())
