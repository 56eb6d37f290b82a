"""The conversation view: messages rendered once, a streaming reply appended in batches.

While a reply streams its text is appended as plain text to the end of the document (only
the last block is laid out again); when it ends, just that reply is replaced by its Markdown
rendering. The view follows the end unless the user scrolled up.

Rendering is cut into steps (render_budget.py): what fits one step is done at once, the rest
runs on a zero timer, in order, so no step holds the GUI thread long whatever a reply holds.
The view loads nothing a message names (no files, no network, no devices): replies reach it
without images or links of their own (markdown_render.py) and loadResource() answers every
name with an empty resource. The app's own links carry a random token of this view, so text
that looks like `edit:1` cannot act as one (docs/security.md). A message with other versions
(app/storage/tree.py) shows "‹ 2 / 3 ›" and "Delete version" links in its header, through the
same tokens; `versions_of` (set by versions.VersionSwitcher) says which messages have them.

Tool turns (function calling, tool_controller.py): a reply that ends with a call shows the
call (the tool's name and its arguments) under its text; a call waiting for the user gets a
line of links at the end (Allow once / Always for this conversation / Deny, `toolDecision`),
removed once answered; a tool's result is its own turn, shown as plain text.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFrame,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.storage import Message, MessageState, Role
from app.ui.chat import render_budget as budget
from app.ui.chat.markdown_render import (
    Code,
    Labels,
    append_code,
    code_format,
    empty_resource,
    insert_code,
    markdown_fragment,
    split_fences,
)
from app.ui.chat.render_queue import RenderQueue
from app.ui.documents import document_notes
from app.ui.window.theme import error_colour

_SHOWN_CHARS = 4000  # a longer question is shown shortened (Copy still copies it whole)
_FOLLOW_SLACK = 8  # pixels from the bottom that still count as "at the end"
_SMALL_MS = 1.0  # the estimated cost of a header, a footer or a scroll
_APPEND_PIECE = 8_000  # streamed text is appended at most this many characters a step
_APPEND_MS = 1.0  # an append lays out the last block (up to PLAIN_LINE characters) again


def _message_cost_ms(text: str) -> float:
    """A message's own step only finds its code fences (one regex) and adds the steps of its
    parts, which are planned in steps of their own."""
    return _SMALL_MS + min(len(text), budget.SHOWN_CAP) * 0.01 / 1000.0


class ChatView(QTextBrowser):
    """Read-only rendering of one conversation; `editRequested(message_id)` from Edit links."""

    editRequested = Signal(int)
    versionRequested = Signal(int, int)  # message id, -1 (previous) or +1 (next version)
    deleteVersionRequested = Signal(int)  # message id
    toolDecision = Signal(int, str)  # the reply's message id, "once" | "always" | "deny"
    copied = Signal()
    notice = Signal(str)  # a sentence for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setSearchPaths([])
        self.anchorClicked.connect(self._on_link)
        self.document().setDocumentMargin(16)
        self.document().setUndoRedoEnabled(False)
        self._token = secrets.token_hex(12)  # in every link of ours; text cannot guess it
        self._queue = RenderQueue(self)
        self._texts: dict[int, str] = {}
        self._states: dict[int, MessageState] = {}
        self._shown: list[int] = []  # message ids in the order they are shown
        self._codes: list[str] = []
        self._links: list[str] = []  # web addresses of reply links, by the index in their href
        self._tables = 0  # laid out as tables so far (each one makes later layout slower)
        self._stream_start = -1
        self._stream_id = 0
        self._document = ""  # the attached document's name: the answers made now are about it
        self._about: dict[int, str] = {}  # answer id -> the document it was about
        self._notes: dict[int, document_notes.Note] = {}
        self.versions_of: Callable[[list[Message]], dict[int, tuple[int, int]]] = lambda _m: {}
        self._versions: dict[int, tuple[int, int]] = {}  # message id -> (number, how many)
        self._starts: dict[int, int] = {}  # message id -> where its header starts
        self._ask_start = -1  # where the tool-call question begins (-1: none shown)
        self.follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scroll)
        bar.rangeChanged.connect(self._on_range)

    # -- resources: none a message names ---------------------------------------------------
    def loadResource(self, kind: int, name: QUrl | str) -> Any:  # noqa: N802 - Qt override
        """Every name gets an empty resource: nothing is read (the app's own images, if any,
        are added to the document with addResource() and never come here)."""
        return empty_resource(kind)

    # -- scrolling ------------------------------------------------------------------------
    def _on_scroll(self, value: int) -> None:
        self.follow = value >= self.verticalScrollBar().maximum() - _FOLLOW_SLACK

    def _on_range(self, _low: int, high: int) -> None:
        if self.follow:
            self.verticalScrollBar().setValue(high)

    def scroll_to_message(self, message_id: int) -> None:
        """Show the message at the top, the text cursor at its start (Alt+Left/Right then act
        on it, as after a click in it)."""
        self.follow = False
        self._queue.add(_SMALL_MS, lambda: self._go_to(message_id))

    def _go_to(self, message_id: int) -> None:
        start = self._starts.get(message_id)
        if start is not None:
            cursor = self.textCursor()
            cursor.setPosition(min(start, self.document().characterCount() - 1))
            self.setTextCursor(cursor)
        self.scrollToAnchor(f"msg-{message_id}")

    # -- rendering ------------------------------------------------------------------------
    @property
    def dark(self) -> bool:
        return self.palette().base().color().lightness() < 128

    @property
    def pending(self) -> int:
        """Rendering steps still waiting (0 when the view shows everything it was given)."""
        return self._queue.pending

    def set_document(self, name: str | None) -> None:
        """The open conversation's document (its answers' footers name the one they were about)."""
        self._document = name or ""

    def _attribute(self, messages: list[Message], versions: dict[int, tuple[int, int]] | None) -> None:
        found = document_notes.attribute(messages, self._document)
        self._about, self._notes = found.answers, found.notes
        self._versions = self.versions_of(messages) if versions is None else versions

    def show_messages(self, messages: list[Message], live_id: int = 0, live_text: str = "",
                      versions: dict[int, tuple[int, int]] | None = None) -> None:
        """Render a whole conversation (on open, not per token). `live_id`: a reply still
        streaming, shown with `live_text` and continued by append_stream(). `versions`: the
        version numbers read with `messages` (MessageStore.shown_for), else `versions_of` asks."""
        self._attribute(messages, versions)
        self._queue.clear()
        self.clear()
        self._texts.clear()
        self._states.clear()
        self._shown.clear()
        self._codes.clear()
        self._links.clear()
        self._starts.clear()
        self._tables = 0
        self._stream_start, self._stream_id = -1, 0
        self._ask_start = -1
        self.follow = True
        for msg in messages:
            if msg.id == live_id:
                self.begin_stream(msg.id)
                self.append_stream(live_text)
            else:
                self._insert_message(msg)
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def add_message(self, msg: Message) -> None:
        self._insert_message(msg)

    def extend_messages(self, messages: list[Message], live_id: int = 0,
                        versions: dict[int, tuple[int, int]] | None = None) -> bool:
        """Render only the messages after those already shown (a new question and its reply),
        so sending in a long conversation costs no full re-render. False, with nothing
        changed, when the shown ones are not an unchanged prefix: call show_messages()."""
        count = len(self._shown)
        if self.streaming or len(messages) < count or [m.id for m in messages[:count]] != self._shown:
            return False
        if any(self._texts.get(m.id) != m.text or self._states.get(m.id) is not m.state
               for m in messages[:count]):
            return False
        self._attribute(messages, versions)
        for msg in messages[count:]:
            if msg.id == live_id:
                self.begin_stream(msg.id)
            else:
                self._insert_message(msg)
        self.follow = True
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
        return True

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _insert_header(self, msg_id: int, role: Role) -> None:
        cursor = self._end_cursor()
        cursor.beginEditBlock()  # laid out once, not once per insert
        block = QTextBlockFormat()
        block.setTopMargin(14)
        if cursor.position() == 0 and not self.document().toPlainText():
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block)
        self._starts[msg_id] = cursor.position()
        name = QTextCharFormat()
        name.setFontWeight(QFont.Weight.Bold)
        name.setAnchorNames([f"msg-{msg_id}"])
        colour = {Role.USER: "#3b82f6", Role.ENVIRONMENT: "#a371f7"}.get(role, "#10a37f")
        name.setForeground(QColor(colour))
        label = {Role.USER: self.tr("You"), Role.ENVIRONMENT: self.tr("Tool")}.get(role, self.tr("Assistant"))
        cursor.insertText(label, name)
        cursor.insertText("   ", QTextCharFormat())
        self._link(cursor, self.tr("Copy"), self.app_link("copy", msg_id))
        if role is Role.USER:
            cursor.insertText("  ", QTextCharFormat())
            self._link(cursor, self.tr("Edit"), self.app_link("edit", msg_id))
        self._insert_versions(cursor, msg_id)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        cursor.endEditBlock()

    def _insert_versions(self, cursor: QTextCursor, msg_id: int) -> None:
        """"‹ 2 / 3 ›" and "Delete version" after the header's links, for a message with versions."""
        number, count = self._versions.get(msg_id, (1, 1))
        if count < 2:
            return
        cursor.insertText("  ", QTextCharFormat())
        # The arrows' links take a no-break space on each side: one character alone is too
        # small a target to click.
        self._link(cursor, "\u00a0‹\u00a0", self.app_link("version-previous", msg_id),
                   self.tr("Previous version (Alt+Left)"))
        cursor.insertText(f"{number} / {count}", QTextCharFormat())
        self._link(cursor, "\u00a0›\u00a0", self.app_link("version-next", msg_id),
                   self.tr("Next version (Alt+Right)"))
        cursor.insertText("  ", QTextCharFormat())
        self._link(cursor, self.tr("Delete version"), self.app_link("version-delete", msg_id))

    def message_at_cursor(self) -> int:
        """The message the text cursor is in (the user clicked or moved there); 0 for none."""
        position = self.textCursor().position()
        found = 0
        for msg_id, start in self._starts.items():
            if start <= position and (not found or start >= self._starts[found]):
                found = msg_id
        return found

    def versions(self, message_id: int) -> tuple[int, int]:
        """(its number, how many versions) of a shown message; (1, 1) when it has none."""
        return self._versions.get(message_id, (1, 1))

    def shown_ids(self) -> list[int]:
        return list(self._shown)

    def app_link(self, kind: str, value: int) -> str:
        """The href of one of the view's own links (copy, edit, copy-code, link)."""
        return f"{kind}:{self._token}:{value}"

    def _link(self, cursor: QTextCursor, text: str, href: str, tip: str = "") -> None:
        link = QTextCharFormat()
        link.setAnchor(True)
        link.setAnchorHref(href)
        if tip:
            link.setToolTip(tip)
        link.setForeground(QColor("#8b949e" if self.dark else "#6a737d"))
        link.setFontPointSize(max(7.0, self.font().pointSizeF() - 1))
        cursor.insertText(text, link)

    def _insert_message(self, msg: Message) -> None:
        self._shown.append(msg.id)
        self._texts[msg.id] = msg.text
        self._states[msg.id] = msg.state
        self._queue.add(_message_cost_ms(msg.text), partial(self._render_message, msg))

    def _render_message(self, msg: Message) -> None:
        if msg.role is Role.SYSTEM:  # a note of the app's (a document replaced), not a turn
            self._queue.add(_SMALL_MS, lambda: self._insert_note(msg))
            return
        self._queue.add(_SMALL_MS, lambda: self._insert_header(msg.id, msg.role))
        self._render_body(msg)

    def _render_body(self, msg: Message) -> None:
        """Add the steps that render `msg` at the end of the document, then its footer (they
        run next: this is itself a step)."""
        notes: list[str] = []
        if msg.role is Role.USER:
            shown = msg.text
            if len(shown) > _SHOWN_CHARS:
                more = len(shown) - _SHOWN_CHARS
                shown = shown[:_SHOWN_CHARS] + "\n" + self.tr("… and %1 more characters").replace(
                    "%1", f"{more:,}")
            self._insert_reply(shown, notes)  # the user's Markdown too (a code block in a question)
        elif msg.role is Role.ENVIRONMENT:
            shown = msg.text[:_SHOWN_CHARS]
            self._queue.add(budget.plain_cost_ms(shown), partial(self._insert_plain, shown, True))
            notes.append(self._outcome_note(msg))
        elif msg.text:
            self._insert_reply(msg.text, notes)
        if msg.role is Role.ASSISTANT and msg.tool:
            self._tool_parts(msg, notes)
        self._queue.add(_SMALL_MS, lambda: self._insert_footer(self._footer(msg, notes), msg.state))

    def _tool_parts(self, msg: Message, notes: list[str]) -> None:
        """The call a reply ends with, shown as a call (never as its markup)."""
        tool = msg.tool or {}
        call = tool.get("call")
        if isinstance(call, dict):
            args = json.dumps(call.get("parameters", {}), ensure_ascii=False)[:_SHOWN_CHARS]
            text = self.tr("Calls the tool %1 with %2").replace("%1", str(call.get("name", ""))[:80]) \
                .replace("%2", args)
            self._queue.add(budget.plain_cost_ms(text), partial(self._insert_plain, text, True))
        elif tool.get("interpreter"):
            notes.append(self.tr("The model asked to run code; this app does not run model-written code "
                                 "(it is shown as text). Nothing ran."))
        elif "malformed" in tool:
            notes.append(self.tr("This looks like a tool call, but it could not be read (it is shown as "
                                 "text); nothing ran."))

    def _outcome_note(self, msg: Message) -> str:
        tool = msg.tool or {}
        name = str(tool.get("name", ""))[:80]
        outcome = tool.get("outcome")
        if outcome == "denied":
            return self.tr("You did not allow %1 to run.").replace("%1", name)
        if outcome == "unavailable":
            return self.tr("%1 is not switched on for this conversation; nothing ran.").replace("%1", name)
        return self.tr("The result of %1.").replace("%1", name)

    # -- the question a tool call asks ------------------------------------------------------
    def show_permission(self, message_id: int, name: str) -> None:
        """At the end: may the call of reply `message_id` run? Answered by `toolDecision`."""
        self._queue.add(_SMALL_MS, lambda: self._insert_permission(message_id, name))

    def _insert_permission(self, message_id: int, name: str) -> None:
        if self._ask_start >= 0:
            self._remove_permission()
        cursor = self._end_cursor()
        self._ask_start = cursor.position()
        cursor.beginEditBlock()
        block = QTextBlockFormat()
        block.setTopMargin(6)
        cursor.insertBlock(block)
        cursor.insertText(self.tr("Run %1?").replace("%1", name[:80]) + "   ", QTextCharFormat())
        for kind, label in (("tool-once", self.tr("Allow once")),
                            ("tool-always", self.tr("Always for this conversation")),
                            ("tool-deny", self.tr("Deny"))):
            self._link(cursor, label, self.app_link(kind, message_id))
            cursor.insertText("   ", QTextCharFormat())
        hint = QTextCharFormat()
        hint.setForeground(QColor("#8b949e" if self.dark else "#6a737d"))
        cursor.insertText(self.tr("(keys: Alt+Y, Alt+A, Alt+N)"), hint)
        cursor.endEditBlock()

    def clear_permission(self) -> None:
        """Remove the question (the call was answered, or another turn follows)."""
        self._queue.add(_SMALL_MS, self._remove_permission)

    def _remove_permission(self) -> None:
        if self._ask_start < 0:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(min(self._ask_start, self.document().characterCount() - 1))
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._ask_start = -1

    @property
    def asking(self) -> bool:
        """A tool-call question is shown (or about to be)."""
        return self._ask_start >= 0

    def _insert_reply(self, text: str, notes: list[str]) -> None:
        """Add a reply's steps: each part (prose slice, code block) is planned in a step of its
        own; `notes` gets the sentences to show under the reply (plain text, shortened)."""
        shown = text[:budget.SHOWN_CAP]
        for part in split_fences(shown):
            if isinstance(part, Code):
                self._queue.add(budget.plan_cost_ms(part.text), partial(self._insert_code, part))
                continue
            for piece in budget.slices(part.text):
                self._queue.add(budget.plan_cost_ms(piece), partial(self._insert_prose, piece, notes))
        if len(text) > len(shown):
            notes.append(self.tr("Only the first %1 characters are shown; Copy copies the whole "
                                 "reply.").replace("%1", f"{len(shown):,}"))

    def _insert_prose(self, text: str, notes: list[str]) -> None:
        for piece in budget.plan_prose(text):
            if piece.rich and self._tables + piece.tables <= budget.MAX_TABLES:
                self._tables += piece.tables
                self._queue.add(piece.cost_ms, partial(self._insert_rich, piece.text))
                continue
            mono = budget.count_tables(piece.text) > 0  # a table's columns stay aligned
            for chunk in budget.plain_chunks(piece.text.strip("\n")):
                self._queue.add(budget.plain_cost_ms(chunk), partial(self._insert_plain, chunk, mono))
            plain = self.tr("Part of this reply is shown as plain text: it is too large or too "
                            "deeply nested to format.")
            if plain not in notes:
                notes.insert(0, plain)

    def _insert_rich(self, text: str) -> None:
        labels = Labels(image=self.tr("image"), link_href=lambda i: self.app_link("link", i))
        fragment = markdown_fragment(text, self._links, labels, dark=self.dark)
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        cursor.insertBlock()
        cursor.insertFragment(fragment)
        cursor.endEditBlock()

    def _insert_plain(self, text: str, mono: bool = False) -> None:
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        cursor.insertBlock(QTextBlockFormat())  # not the margins of a Markdown paragraph before
        cursor.insertText(text, code_format(self.dark) if mono else QTextCharFormat())
        cursor.endEditBlock()

    def _insert_code(self, code: Code) -> None:
        href = self.app_link("copy-code", len(self._codes))
        self._codes.append(code.text)
        label = self.tr("Copy code")
        frame: list[QTextFrame] = []
        if len(code.text) <= budget.HIGHLIGHT_CAP:
            def whole() -> None:
                frame.append(insert_code(self._end_cursor(), code, href, dark=self.dark,
                                         copy_label=label))

            self._queue.add(budget.code_cost_ms(code.text, True), whole)
            return
        chunks = budget.plain_chunks(code.text)
        first = Code(code.language, chunks[0])

        def begin() -> None:
            frame.append(insert_code(self._end_cursor(), first, href, dark=self.dark,
                                     copy_label=label, highlight=False))

        self._queue.add(budget.code_cost_ms(chunks[0], False), begin)
        for chunk in chunks[1:]:
            self._queue.add(budget.code_cost_ms(chunk, False),
                            partial(self._append_code, frame, "\n" + chunk))

    def _append_code(self, frame: list[QTextFrame], text: str) -> None:
        append_code(frame[0], text, dark=self.dark)

    def _insert_footer(self, footer: str, state: MessageState) -> None:
        if not footer:
            return
        note = QTextCharFormat()
        note.setFontItalic(True)
        note.setFontPointSize(max(7.0, self.font().pointSizeF() - 1))
        note.setForeground(QColor(error_colour()) if state is MessageState.ERROR
                           else QColor("#8b949e" if self.dark else "#6a737d"))
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        cursor.insertBlock(QTextBlockFormat(), note)
        cursor.insertText(footer, note)
        cursor.endEditBlock()

    def _note_text(self, msg: Message) -> str:
        note = self._notes.get(msg.id)
        if note is None:
            return msg.text
        if note.kind == "replaced":
            return self.tr("Document replaced: %1 → %2").replace("%1", note.old).replace("%2", note.new)
        if note.kind == "attached":
            return self.tr("Document attached: %1").replace("%1", note.new)
        return self.tr("Document removed: %1").replace("%1", note.old)

    def _insert_note(self, msg: Message) -> None:
        """A small grey line of the app's own in the transcript (the model never sees it)."""
        fmt = QTextCharFormat()
        fmt.setAnchorNames([f"msg-{msg.id}"])
        fmt.setFontPointSize(max(7.0, self.font().pointSizeF() - 1))
        fmt.setForeground(QColor("#8b949e" if self.dark else "#6a737d"))
        block = QTextBlockFormat()
        block.setTopMargin(10)
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        if cursor.position() == 0 and not self.document().toPlainText():
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block)
        cursor.insertText(self._note_text(msg)[:_SHOWN_CHARS], fmt)
        cursor.endEditBlock()

    def _footer(self, msg: Message, notes: list[str]) -> str:
        footer = " ".join([*notes, self._state_note(msg)]).strip()
        about = self._about.get(msg.id) if msg.role is Role.ASSISTANT else None
        if about:
            footer = " · ".join(p for p in (footer, self.tr("about %1").replace("%1", about)) if p)
        return footer if len(footer) <= _SHOWN_CHARS else footer[:_SHOWN_CHARS - 1] + "…"

    def _state_note(self, msg: Message) -> str:
        if msg.state is MessageState.ERROR:
            return self.tr("The reply failed: %1").replace("%1", msg.error)
        if msg.state is MessageState.INTERRUPTED:
            return self.tr("Stopped; the reply is incomplete.")
        stats = msg.stats
        if msg.role is Role.ASSISTANT and stats is not None and stats.new_tokens:
            speed = f"{stats.tokens_per_s:.1f}" if stats.tokens_per_s else "–"
            ttft = f"{stats.ttft_s:.2f}" if stats.ttft_s is not None else "–"
            return (self.tr("%1 tokens · %2 tokens/s · first token after %3 s")
                    .replace("%1", f"{stats.new_tokens:,}").replace("%2", speed).replace("%3", ttft))
        return ""

    # -- streaming ------------------------------------------------------------------------
    def begin_stream(self, message_id: int) -> None:
        self._shown.append(message_id)
        self._stream_id = message_id
        self._queue.add(_SMALL_MS, lambda: self._begin_stream_now(message_id))

    def _begin_stream_now(self, message_id: int) -> None:
        self._insert_header(message_id, Role.ASSISTANT)
        self._stream_start = self._end_cursor().position()

    def append_stream(self, text: str) -> None:
        """Append reply text at the end: one cheap insert, no Markdown, no full re-layout."""
        if not self.streaming or not text:
            return
        for start in range(0, len(text), _APPEND_PIECE):  # a long text so far, on reopening
            piece = text[start:start + _APPEND_PIECE]
            self._queue.add(_APPEND_MS + budget.plain_cost_ms(piece), partial(self._append_now, piece))

    def _append_now(self, text: str) -> None:
        """Insert `text`, cutting lines at PLAIN_LINE characters so the block laid out again
        on each batch stays short (an unbroken 40,000-character line would not)."""
        cursor = self._end_cursor()
        column = cursor.positionInBlock()
        out: list[str] = []
        for number, line in enumerate(text.split("\n")):
            if number:
                out.append("\n")
                column = 0
            while column + len(line) > budget.PLAIN_LINE:
                room = budget.PLAIN_LINE - column
                out += [line[:room], "\n"]
                line, column = line[room:], 0
            out.append(line)
            column += len(line)
        cursor.insertText("".join(out), QTextCharFormat())

    def end_stream(self, msg: Message) -> None:
        """Replace the streamed plain text of this reply with its final rendering."""
        if self._document and msg.role is Role.ASSISTANT:
            self._about.setdefault(msg.id, self._document)  # made while the document was attached
        if not self.streaming or msg.id != self._stream_id:
            self._insert_message(msg)
            return
        self._stream_id = 0
        self._texts[msg.id] = msg.text
        self._states[msg.id] = msg.state
        self._queue.add(_SMALL_MS, self._remove_streamed)
        self._queue.add(_message_cost_ms(msg.text), partial(self._render_body, msg))

    def _remove_streamed(self) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._stream_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.setBlockFormat(QTextBlockFormat())
        self._stream_start = -1

    @property
    def streaming(self) -> bool:
        return self._stream_id != 0

    # -- links ----------------------------------------------------------------------------
    def _on_link(self, url: QUrl) -> None:
        """Only the view's own links act, and only with this view's token."""
        kind, _, rest = url.toString().partition(":")
        token, _, value = rest.partition(":")
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            return
        if not (value.isascii() and value.isdigit() and len(value) < 19):
            return
        index = int(value)
        if kind == "copy-code" and index < len(self._codes):
            self._copy(self._codes[index])
        elif kind == "copy":
            self._copy(self._texts.get(index, ""))
        elif kind == "edit":
            self.editRequested.emit(index)
        elif kind in ("version-previous", "version-next"):
            self.versionRequested.emit(index, -1 if kind == "version-previous" else 1)
        elif kind == "version-delete":
            self.deleteVersionRequested.emit(index)
        elif kind in ("tool-once", "tool-always", "tool-deny"):
            self.toolDecision.emit(index, kind.removeprefix("tool-"))
        elif kind == "link" and index < len(self._links):
            address = self._links[index]
            QGuiApplication.clipboard().setText(address)
            shown = address if len(address) <= 120 else address[:119] + "…"
            self.notice.emit(self.tr("The link's address was copied (%1): paste it in your "
                                     "browser to open it.").replace("%1", shown))

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copied.emit()

    def code_blocks(self) -> list[str]:
        return list(self._codes)
