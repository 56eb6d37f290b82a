"""The right pane: this conversation's system prompt, sampling settings and tools.

The tools (function calling: a calculator, the date and time, a search of the attached
document) are off for every conversation until switched on here; a switched-on tool is
described to the model and still runs only after the user allowed the call (tool_controller.py).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.engine.tools.registry import CALCULATOR, DATE_TIME, SEARCH_DOCUMENT, ToolSettings
from app.internlm2.chat_format import DEFAULT_SYSTEM_PROMPT, Sampling
from app.ui.chat.sampling_form import SamplingForm


class SidePanel(QWidget):
    """Edits go to `systemPromptChanged(str)` (debounced), `samplingChanged(Sampling)` and
    `toolSwitched(name, on)`."""

    systemPromptChanged = Signal(str)
    samplingChanged = Signal(object)
    toolSwitched = Signal(str, bool)

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
        layout.addWidget(QLabel(self.tr("Tools"), self))
        self.tools: dict[str, QCheckBox] = {}
        for name, label, tip in (
                (CALCULATOR, self.tr("Calculator"), self.tr("Exact arithmetic; no code is run.")),
                (DATE_TIME, self.tr("Date and time"), self.tr("This computer's local date, time and time zone.")),
                (SEARCH_DOCUMENT, self.tr("Search the attached document"),
                 self.tr("Passages of the attached document that match, with their positions. While "
                         "this is on, the document is not sent whole: the model searches it, so a "
                         "document too long for the context can be asked about."))):
            box = QCheckBox(label, self)
            box.setToolTip(tip + " " + self.tr("Each call runs only after you allow it."))
            box.toggled.connect(lambda on, name=name: None if self._quiet else self.toolSwitched.emit(name, on))
            self.tools[name] = box
            layout.addWidget(box)
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

    def show_tools(self, tools: ToolSettings) -> None:
        """The open conversation's switches (all off for a new one)."""
        self._quiet = True
        try:
            for name, box in self.tools.items():
                box.setChecked(name in tools.enabled)
        finally:
            self._quiet = False
