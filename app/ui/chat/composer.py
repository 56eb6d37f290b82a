"""The input area: a plain-text box (Enter sends, Shift+Enter adds a line), Send / Stop /
Regenerate buttons, and the banner shown while an earlier message is being edited.

The box is a QPlainTextEdit with nothing connected to its keystrokes. A paste longer than
LARGE_PASTE characters does not go into the box at all (Qt lays out a paragraph as a whole,
so one 1 MB line would cost seconds per keystroke): it is held beside the box as "pasted
text" and sent with the message, which keeps typing fluid whatever was pasted.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.window.overlay_notice import float_above

LARGE_PASTE = 20_000


class InputBox(QPlainTextEdit):
    """Enter or Ctrl+Enter: `submitted`; Shift+Enter: a new line; a large paste: `largePaste`."""

    submitted = Signal()
    largePaste = Signal(str)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt override
        text = source.text() if source.hasText() else ""
        if len(text) > LARGE_PASTE:
            self.largePaste.emit(text)
            return
        super().insertFromMimeData(source)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            if not mods & Qt.KeyboardModifier.ShiftModifier:
                self.submitted.emit()
                event.accept()
                return
            self.insertPlainText("\n")
            event.accept()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    """Input box plus the buttons; asks the window to send, stop, regenerate, cancel an edit."""

    sendRequested = Signal(str)
    stopRequested = Signal()
    regenerateRequested = Signal()
    editCancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editing_id = 0
        self.pasted = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 10)
        self._banner = QWidget(self)
        banner_row = QHBoxLayout(self._banner)
        banner_row.setContentsMargins(0, 0, 0, 0)
        self.banner_label = QLabel(self._banner)
        self.banner_label.setWordWrap(True)
        self.banner_label.setObjectName("editBanner")
        cancel = QPushButton(self.tr("Cancel edit"), self._banner)
        cancel.clicked.connect(self.cancel_edit)
        banner_row.addWidget(self.banner_label, 1)
        banner_row.addWidget(cancel)
        self._banner.hide()
        if parent is None:
            layout.addWidget(self._banner)
        else:  # over the transcript's bottom edge: showing it moves neither the transcript nor the box
            float_above(self._banner, self)
        self._paste_bar = QWidget(self)
        paste_row = QHBoxLayout(self._paste_bar)
        paste_row.setContentsMargins(0, 0, 0, 0)
        self.paste_label = QLabel(self._paste_bar)
        remove = QPushButton(self.tr("Remove"), self._paste_bar)
        remove.clicked.connect(lambda: self.set_pasted(""))
        paste_row.addWidget(self.paste_label, 1)
        paste_row.addWidget(remove)
        self._paste_bar.hide()
        layout.addWidget(self._paste_bar)
        row = QHBoxLayout()
        self.input = InputBox(self)
        self.input.setObjectName("input")
        self.input.setPlaceholderText(self.tr("Type a message. Enter sends, Shift+Enter adds a line."))
        self.input.setTabChangesFocus(True)
        self.input.setMaximumHeight(96)
        self.input.setMinimumHeight(56)
        self.input.submitted.connect(self.submit)
        self.input.largePaste.connect(self.set_pasted)
        row.addWidget(self.input, 1)
        buttons = QVBoxLayout()
        self.send_button = QPushButton(self.tr("Send"), self)
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.submit)
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.setToolTip(self.tr("Stop the reply (Esc)"))
        self.stop_button.clicked.connect(self.stopRequested)
        self.stop_button.hide()
        self.regenerate_button = QPushButton(self.tr("Regenerate"), self)
        self.regenerate_button.setToolTip(self.tr("Write the last reply again"))
        self.regenerate_button.clicked.connect(self.regenerateRequested)
        self.regenerate_button.hide()
        for button in (self.send_button, self.stop_button, self.regenerate_button):
            button.clicked.connect(self.focus_input)
            buttons.addWidget(button)
        buttons.addStretch(1)
        row.addLayout(buttons)
        layout.addLayout(row)

    def set_pasted(self, text: str) -> None:
        """Hold a large paste beside the box (sent after the typed text); "" removes it."""
        self.pasted = text
        self.paste_label.setText(self.tr("Pasted text: %1 characters, sent with the message.")
                                 .replace("%1", f"{len(text):,}"))
        self._paste_bar.setVisible(bool(text))

    def message_text(self) -> str:
        typed = self.input.toPlainText()
        if not self.pasted:
            return typed
        return f"{typed}\n\n{self.pasted}" if typed.strip() else self.pasted

    def submit(self) -> None:
        text = self.message_text()
        if text.strip() and self.send_button.isEnabled():
            self.sendRequested.emit(text)

    def set_busy(self, busy: bool, *, can_regenerate: bool = False) -> None:
        """Send or Stop (and Regenerate when idle). A button that had the focus and is hidden
        gives it back to the box, never to whatever widget comes next (the system prompt)."""
        focus = QApplication.focusWidget()
        ours = focus is None or focus is self.input or focus in self._buttons()
        self.send_button.setEnabled(not busy)
        self.stop_button.setVisible(busy)
        self.send_button.setVisible(not busy)
        self.regenerate_button.setVisible(not busy and can_regenerate)
        if ours and self.isVisible():
            self.input.setFocus()

    def _buttons(self) -> tuple[QPushButton, ...]:
        return (self.send_button, self.stop_button, self.regenerate_button)

    def focus_input(self) -> None:
        """After an action (send, stop, regenerate, an edit cancelled) typing goes to the box."""
        self.input.setFocus()

    def start_edit(self, message_id: int, text: str, later: int) -> None:
        """Put an earlier question in the box; the banner says a new branch starts and the old
        one (with its later turns) is kept."""
        self.editing_id = message_id
        if len(text) > LARGE_PASTE:
            self.input.clear()
            self.set_pasted(text)
        else:
            self.set_pasted("")
            self.input.setPlainText(text)
        self.banner_label.setText(
            self.tr("Editing an earlier message. Sending it starts a new branch; the old one and its "
                    "%n later message(s) are kept.", "", later) if later else
            self.tr("Editing a message. Sending it starts a new branch; the old one is kept."))
        self._banner.show()
        self.input.setFocus()

    def cancel_edit(self) -> None:
        if self.editing_id:
            self.editing_id = 0
            self.input.clear()
            self.set_pasted("")
            self._banner.hide()
            self.input.setFocus()
            self.editCancelled.emit()

    def leave_edit(self) -> None:
        """Leave edit mode keeping the text (the message edited is gone): Send asks it anew."""
        self.editing_id = 0
        self._banner.hide()
        self.input.setFocus()

    def sent(self) -> None:
        """The message was accepted: clear the box and leave edit mode."""
        self.editing_id = 0
        self._banner.hide()
        self.input.clear()
        self.set_pasted("")
