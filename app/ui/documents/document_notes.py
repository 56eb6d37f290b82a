"""The transcript's document notes, and which document each answer was about (Qt-free).

When the document of a conversation that already has answers changes, a note is stored in
the transcript as a message of Role.SYSTEM (never sent to the model: prompting.turns_from
keeps only questions and replies). Its text is stable English, also readable in an export:

    Document replaced: OLD → NEW
    Document attached: NEW
    Document removed: OLD

No schema change: which document an answer was about is read back from these notes and the
current document, walking the transcript from its end (an answer after the last note was
about the current document; before a "replaced" note, about its OLD name). A name holding
" → " itself is told apart by the chain (the NEW of a note is the document that followed it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.storage import Message, Role

REPLACED = "Document replaced: "
ATTACHED = "Document attached: "
REMOVED = "Document removed: "
ARROW = " → "


@dataclass(frozen=True)
class Note:
    """One document note: kind "replaced", "attached" or "removed"; old/new names ("" none)."""

    kind: str
    old: str
    new: str


def replaced_text(old: str, new: str) -> str:
    return f"{REPLACED}{_one_line(old)}{ARROW}{_one_line(new)}"


def attached_text(new: str) -> str:
    return f"{ATTACHED}{_one_line(new)}"


def removed_text(old: str) -> str:
    return f"{REMOVED}{_one_line(old)}"


def _one_line(name: str) -> str:
    """A name as it stands in a note: one line, bounded (a hostile name cannot fill the view)."""
    flat = " ".join(name.split())
    return flat if len(flat) <= 200 else flat[:199] + "…"


def is_note(msg: Message) -> bool:
    return msg.role is Role.SYSTEM and msg.text.startswith((REPLACED, ATTACHED, REMOVED))


def _parse(text: str, after: str | None) -> Note | None:
    """The note in `text`; `after`: the document that followed it, if known (splits OLD → NEW)."""
    if text.startswith(ATTACHED):
        return Note("attached", "", text[len(ATTACHED):])
    if text.startswith(REMOVED):
        return Note("removed", text[len(REMOVED):], "")
    if not text.startswith(REPLACED):
        return None
    body = text[len(REPLACED):]
    if after and body.endswith(ARROW + after):
        return Note("replaced", body[:-len(ARROW + after)], after)
    old, sep, new = body.rpartition(ARROW)
    return Note("replaced", old, new) if sep else Note("replaced", "", body)


@dataclass(frozen=True)
class Attribution:
    """Per message id: the document an answer was about, and each note read."""

    answers: dict[int, str]
    notes: dict[int, Note]


def attribute(messages: Sequence[Message], current: str | None) -> Attribution:
    """Which document each answer of `messages` was about; `current`: the attached one's name."""
    doc = _one_line(current) if current else ""
    answers: dict[int, str] = {}
    notes: dict[int, Note] = {}
    for msg in reversed(messages):
        if msg.role is Role.ASSISTANT:
            if doc:
                answers[msg.id] = doc
        elif msg.role is Role.SYSTEM:
            note = _parse(msg.text, doc or None)
            if note is not None:
                notes[msg.id] = note
                doc = note.old  # before the note, the document was the old one (or none)
    return Attribution(answers, notes)


def answer_count(messages: Sequence[Message]) -> int:
    """Answers with text: the ones a change of document would leave about another document."""
    return sum(1 for m in messages if m.role is Role.ASSISTANT and m.text)
