"""The conversation view: messages rendered once, a streaming reply appended in batches.

While a reply streams its text is appended as plain text to the end of the document (only
the last block is laid out again); when it ends, just that reply is replaced by its Markdown
rendering. The view follows the end unless the user scrolled up.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.storage import Message, MessageState, Role
from app.ui.markdown_render import insert_markdown
from app.ui.theme import error_colour

_SHOWN_CHARS = 4000  # a longer question is shown shortened (Copy still copies it whole)
_FOLLOW_SLACK = 8  # pixels from the bottom that still count as "at the end"


class ChatView(QTextBrowser):
    """Read-only rendering of one conversation; `editRequested(message_id)` from Edit links."""

    editRequested = Signal(int)
    copied = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_link)
        self.document().setDocumentMargin(16)
        self._texts: dict[int, str] = {}
        self._states: dict[int, MessageState] = {}
        self._shown: list[int] = []  # message ids in the order they are shown
        self._codes: list[str] = []
        self._stream_start = -1
        self._stream_id = 0
        self.follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scroll)
        bar.rangeChanged.connect(self._on_range)

    # -- scrolling ------------------------------------------------------------------------
    def _on_scroll(self, value: int) -> None:
        self.follow = value >= self.verticalScrollBar().maximum() - _FOLLOW_SLACK

    def _on_range(self, _low: int, high: int) -> None:
        if self.follow:
            self.verticalScrollBar().setValue(high)

    def scroll_to_message(self, message_id: int) -> None:
        self.follow = False
        self.scrollToAnchor(f"msg-{message_id}")

    # -- rendering ------------------------------------------------------------------------
    @property
    def dark(self) -> bool:
        return self.palette().base().color().lightness() < 128

    def show_messages(self, messages: list[Message], live_id: int = 0, live_text: str = "") -> None:
        """Render a whole conversation (on open, not per token). `live_id`: a reply still
        streaming, shown with `live_text` and continued by append_stream()."""
        self.clear()
        self._texts.clear()
        self._states.clear()
        self._shown.clear()
        self._codes.clear()
        self._stream_start, self._stream_id = -1, 0
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

    def extend_messages(self, messages: list[Message], live_id: int = 0) -> bool:
        """Render only the messages after those already shown (a new question and its reply),
        so sending in a long conversation costs no full re-render. False, with nothing
        changed, when the shown ones are not an unchanged prefix: call show_messages()."""
        count = len(self._shown)
        if self.streaming or len(messages) < count or [m.id for m in messages[:count]] != self._shown:
            return False
        if any(self._texts.get(m.id) != m.text or self._states.get(m.id) is not m.state
               for m in messages[:count]):
            return False
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

    def _insert_header(self, cursor: QTextCursor, msg_id: int, role: Role) -> None:
        block = QTextBlockFormat()
        block.setTopMargin(14)
        if cursor.position() == 0 and not self.document().toPlainText():
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block)
        name = QTextCharFormat()
        name.setFontWeight(QFont.Weight.Bold)
        name.setAnchorNames([f"msg-{msg_id}"])
        name.setForeground(QColor("#3b82f6" if role is Role.USER else "#10a37f"))
        cursor.insertText(self.tr("You") if role is Role.USER else self.tr("Assistant"), name)
        cursor.insertText("   ", QTextCharFormat())
        self._link(cursor, self.tr("Copy"), f"copy:{msg_id}")
        if role is Role.USER:
            cursor.insertText("  ", QTextCharFormat())
            self._link(cursor, self.tr("Edit"), f"edit:{msg_id}")
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())

    def _link(self, cursor: QTextCursor, text: str, href: str) -> None:
        link = QTextCharFormat()
        link.setAnchor(True)
        link.setAnchorHref(href)
        link.setForeground(QColor("#8b949e" if self.dark else "#6a737d"))
        link.setFontPointSize(max(7.0, self.font().pointSizeF() - 1))
        cursor.insertText(text, link)

    def _insert_message(self, msg: Message) -> None:
        self._shown.append(msg.id)
        cursor = self._end_cursor()
        self._insert_header(cursor, msg.id, msg.role)
        self._insert_body(cursor, msg)

    def _insert_body(self, cursor: QTextCursor, msg: Message) -> None:
        self._texts[msg.id] = msg.text
        self._states[msg.id] = msg.state
        if msg.role is Role.USER:
            shown = msg.text
            if len(shown) > _SHOWN_CHARS:
                more = len(shown) - _SHOWN_CHARS
                shown = shown[:_SHOWN_CHARS] + "\n" + self.tr("… and %1 more characters").replace(
                    "%1", f"{more:,}")
            cursor.insertText(shown, QTextCharFormat())
        elif msg.text:
            insert_markdown(cursor, msg.text, self._codes, dark=self.dark, copy_label=self.tr("Copy code"))
        footer = self._footer(msg)
        if footer:
            note = QTextCharFormat()
            note.setFontItalic(True)
            note.setFontPointSize(max(7.0, self.font().pointSizeF() - 1))
            note.setForeground(QColor(error_colour()) if msg.state is MessageState.ERROR
                               else QColor("#8b949e" if self.dark else "#6a737d"))
            cursor.insertBlock(QTextBlockFormat(), note)
            cursor.insertText(footer, note)

    def _footer(self, msg: Message) -> str:
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
        cursor = self._end_cursor()
        self._insert_header(cursor, message_id, Role.ASSISTANT)
        self._stream_start = cursor.position()
        self._stream_id = message_id

    def append_stream(self, text: str) -> None:
        """Append reply text at the end: one cheap insert, no Markdown, no full re-layout."""
        if self._stream_start < 0 or not text:
            return
        self._end_cursor().insertText(text, QTextCharFormat())

    def end_stream(self, msg: Message) -> None:
        """Replace the streamed plain text of this reply with its final rendering."""
        if self._stream_start < 0 or msg.id != self._stream_id:
            self._insert_message(msg)
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._stream_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.setBlockFormat(QTextBlockFormat())
        self._stream_start, self._stream_id = -1, 0
        self._insert_body(cursor, msg)

    @property
    def streaming(self) -> bool:
        return self._stream_start >= 0

    # -- links ----------------------------------------------------------------------------
    def _on_link(self, url: QUrl) -> None:
        kind, _, value = url.toString().partition(":")
        if kind == "copy-code" and value.isdigit() and int(value) < len(self._codes):
            self._copy(self._codes[int(value)])
        elif kind == "copy" and value.isdigit():
            self._copy(self._texts.get(int(value), ""))
        elif kind == "edit" and value.isdigit():
            self.editRequested.emit(int(value))

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copied.emit()

    def code_blocks(self) -> list[str]:
        return list(self._codes)
