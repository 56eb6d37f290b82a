"""The first-run page: what the app does, Open a model…, Download a model…, drop a model here."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget


class WelcomePage(QWidget):
    """Shown while no model is loaded and no conversation is open."""

    openRequested = Signal()
    downloadRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.title = QLabel(self.tr("Welcome to InternLM2 Desktop"), self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.title.font()
        font.setPointSize(font.pointSize() + 8)
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        self.text = QLabel(self.tr(
            "Chat with the InternLM2-1.8B models on this computer, offline, and ask questions "
            "about long documents read whole.\n\nTo begin, open a model: a .gguf file or a "
            "checkpoint folder. You can also drop one on this window."), self)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setMaximumWidth(560)
        layout.addWidget(self.text, 0, Qt.AlignmentFlag.AlignHCenter)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.open_button = QPushButton(self.tr("Open a model…"), self)
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.openRequested)
        self.download_button = QPushButton(self.tr("Download a model…"), self)
        self.download_button.clicked.connect(self.downloadRequested)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.download_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.status)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(360)
        self.progress.hide()
        layout.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def set_loading(self, name: str, done: int, total: int) -> None:
        self.status.setText(self.tr("Loading %1…").replace("%1", name))
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)
        self.progress.show()
        self.open_button.setEnabled(False)

    def set_error(self, message: str) -> None:
        self.status.setText(message)
        self.progress.hide()
        self.open_button.setEnabled(True)

    def set_idle(self) -> None:
        self.status.clear()
        self.progress.hide()
        self.open_button.setEnabled(True)
