"""The document pane's preview: a read-only view that never freezes the window, however large
the document (a bounded prefix, long lines broken for display only, more on demand)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPlainTextEdit, QWidget

#: Characters the preview shows at first, and adds each time "Show more" is pressed.
PREVIEW_CHARS = 100_000
#: Longer lines are broken for the preview only (Qt lays out a paragraph whole: one 10 MB line
#: froze the window); the document itself is never changed.
PREVIEW_LINE = 10_000  # a paragraph longer than this is broken for display (at a space if one is near)


class DocumentPreview(QPlainTextEdit):
    """A read-only view of a document that never freezes the window, however large the text.

    It shows a bounded prefix (PREVIEW_CHARS) with lines broken every PREVIEW_LINE characters,
    and more on demand (`show_more`, or `find_text` reaching past what is shown).
    """

    shownChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self._text = ""
        self._shown = 0  # characters of the document shown so far
        self._column = 0  # characters since the last line break shown

    def source_text(self) -> str:
        """The whole document (what is shown is a prefix of it)."""
        return self._text

    def shown_chars(self) -> int:
        return self._shown

    def remaining_chars(self) -> int:
        return len(self._text) - self._shown

    def show_text(self, text: str) -> None:
        """Show the start of `text`; the rest waits for `show_more`."""
        self._text, self._shown, self._column = text, 0, 0
        self.setPlainText(self._next_chunk())
        self.shownChanged.emit()

    def clear_text(self) -> None:
        self.show_text("")

    def show_more(self) -> bool:
        """Append the next PREVIEW_CHARS characters; False when everything is shown."""
        if not self.remaining_chars():
            return False
        cursor = self.textCursor()
        keep = (cursor.anchor(), cursor.position())
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(self._next_chunk())
        cursor.setPosition(keep[0])
        cursor.setPosition(keep[1], cursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        self.shownChanged.emit()
        return True

    def find_text(self, needle: str) -> bool:
        """Select the next match after the cursor, showing more of the document if it lies there."""
        if self.find(needle):
            return True
        while self.remaining_chars():
            # A match in the part not shown yet (or across its edge): show up to it, then select it.
            start = max(0, self._shown - len(needle))
            found = self._text.find(needle, start)
            if found < 0:
                return False
            while self._shown < found + len(needle) and self.show_more():
                pass
            if self.find(needle):
                return True
        return False

    def _next_chunk(self) -> str:
        """The next piece of the document for display, long lines broken every PREVIEW_LINE."""
        chunk = self._text[self._shown : self._shown + PREVIEW_CHARS]
        self._shown += len(chunk)
        out: list[str] = []
        column = self._column
        for index, line in enumerate(chunk.split("\n")):
            if index:
                out.append("\n")
                column = 0
            start = 0
            while column + len(line) - start > PREVIEW_LINE:
                take = PREVIEW_LINE - column
                space = line.rfind(" ", start + max(0, take - 200), start + take)
                if space > start:  # break after a space near the limit, never inside a word
                    take = space + 1 - start
                out.append(line[start : start + take])
                out.append("\n")
                start += take
                column = 0
            out.append(line[start:])
            column += len(line) - start
        self._column = column
        return "".join(out)
