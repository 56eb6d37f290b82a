"""Typed errors a user can meet: each carries a sentence that says what happened and what to do."""

from __future__ import annotations


class UserError(Exception):
    """An error a person can act on. str(err) is one sentence for a dialog or a CLI line.

    Subclasses live next to the code that raises them; the command line shows `str(err)`, the
    window shows message and hint in the user's language with the detail behind a toggle
    (`app.ui.window.core_text.error_text`), never a traceback.
    """

    def __init__(self, message: str, hint: str = "", detail: str = "") -> None:
        self.message = message  # what happened (an app.sentences.Sentence where translated)
        self.hint = hint  # what to do
        self.detail = detail  # the technical cause (an OS or HTTP error), behind a Details toggle
        text = f"{message} {hint}".strip()
        super().__init__(f"{text} (details: {detail})" if detail else text)
