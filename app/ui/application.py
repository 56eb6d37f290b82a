"""Starts the Qt application and the main window (the only start-up path that imports Qt)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from app import APP_NAME, __version__


def run_gui(argv: list[str]) -> int:
    """Open the main window and run the Qt event loop until it closes."""
    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("InternLM2 Desktop")
    window = MainWindow()
    window.show()
    return int(app.exec())
