"""The main window: for now a welcome page that says what the app does and how to start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from app import APP_NAME


class MainWindow(QMainWindow):
    """Top-level window. The chat view, document pane and model manager plug in here."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.resize(1100, 720)
        page = QWidget(self)
        layout = QVBoxLayout(page)
        title = QLabel(self.tr("Welcome to InternLM2 Desktop"), page)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = title.font()
        font.setPointSize(font.pointSize() + 8)
        title.setFont(font)
        text = QLabel(self.tr(
            "Chat with the InternLM2-1.8B models on this computer, offline, and ask questions "
            "about long documents read whole.\n\nOpen a model folder or a GGUF file to begin "
            "(command line for now: python main.py convert / ask)."), page)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addStretch(2)
        self.setCentralWidget(page)
        self.statusBar().showMessage(self.tr("No model loaded"))
