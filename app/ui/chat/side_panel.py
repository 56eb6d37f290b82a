"""The right pane: this conversation's system prompt and sampling settings."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.internlm2.chat_format import DEFAULT_SYSTEM_PROMPT, Sampling
from app.ui.chat.sampling_form import SamplingForm


class SidePanel(QWidget):
    """Edits go to `systemPromptChanged(str)` (debounced) and `samplingChanged(Sampling)`."""

    systemPromptChanged = Signal(str)
    samplingChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 8, 8, 8)
        title = QLabel(self.tr("<b>This conversation</b>"), self)
        layout.addWidget(title)
        layout.addWidget(QLabel(self.tr("System prompt"), self))
        self.system = QPlainTextEdit(self)
        self.system.setPlaceholderText(self.tr("No system prompt"))
        self.system.setMaximumHeight(180)
        self.system.setTabChangesFocus(True)  # Tab moves on; it never types into the prompt
        layout.addWidget(self.system)
        self.system_default = QPushButton(self.tr("Official system prompt"), self)
        self.system_default.clicked.connect(lambda: self.system.setPlainText(DEFAULT_SYSTEM_PROMPT))
        layout.addWidget(self.system_default)
        layout.addWidget(QLabel(self.tr("Sampling"), self))
        self.form = SamplingForm(self)
        self.form.changed.connect(self.samplingChanged)
        layout.addWidget(self.form)
        layout.addStretch(1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(400)
        self._timer.timeout.connect(self.flush)
        self.system.textChanged.connect(self._system_edited)

    def _system_edited(self) -> None:
        if not self._quiet:
            self._timer.start()

    def flush(self) -> None:
        """Save a pending system prompt edit now (before sending, or switching chats)."""
        if self._timer.isActive():
            self._timer.stop()
            self.systemPromptChanged.emit(self.system.toPlainText())

    def show_settings(self, system_prompt: str, sampling: Sampling) -> None:
        self._timer.stop()
        self._quiet = True
        try:
            self.system.setPlainText(system_prompt)
        finally:
            self._quiet = False
        self.form.set_sampling(sampling)
