"""Starts the Qt application and the main window (the only start-up path that imports Qt).

    python main.py [--db PATH]

`--db PATH` opens that SQLite file instead of the one in the user data folder
(INTERNLM2_DESKTOP_DATA moves the whole data folder). A damaged database, or one from a
newer version of the app, is moved aside (kept) and a fresh one opens; the user is told where.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_NAME, __version__
from app.storage import ConversationStore, StorageError
from app.ui.app_settings import AppSettings
from app.ui.crash import CrashHandler
from app.ui.i18n import Translations
from app.ui.inference_worker import InferenceClient
from app.ui.theme import apply_theme

_log = logging.getLogger(__name__)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description=f"{APP_NAME}: the window.")
    parser.add_argument("--db", type=Path, default=None, metavar="PATH",
                        help="the conversations database file (default: in the user data folder)")
    parser.add_argument("--model", type=Path, default=None, metavar="PATH",
                        help="open this .gguf file or checkpoint folder at start")
    args, _qt_args = parser.parse_known_args(argv)
    return args


def open_store(path: Path | None) -> tuple[ConversationStore, str]:
    """The store, and a sentence for the user when a damaged file had to be moved aside."""
    try:
        return ConversationStore(path), ""
    except StorageError as exc:
        store, moved = ConversationStore.start_fresh(path)
        _log.warning("database moved aside to %s: %s", moved, exc)
        return store, f"{exc} The old file was kept as {moved}; a new, empty one was started."


def run_gui(argv: list[str]) -> int:
    """Open the main window and run the Qt event loop until it closes."""
    from app.ui.main_window import MainWindow

    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("InternLM2 Desktop")
    store, moved_note = open_store(args.db)
    settings = AppSettings.load(store)
    translations = Translations()
    translations.apply(settings.language)
    apply_theme(app, settings.theme)
    client = InferenceClient()
    window = MainWindow(store, client, settings, translations)
    crash = CrashHandler(window)
    crash.install()
    window.show()
    recent = store.conversations.list_recent(1)
    if recent:
        window.open_conversation(recent[0].id)  # back where the user left off
    if moved_note:
        QMessageBox.warning(window, APP_NAME, moved_note)
    model = args.model or (Path(settings.model_path) if settings.model_path else None)
    if model is not None and model.exists():
        window.open_model(model)
    try:
        return int(app.exec())
    finally:
        crash.uninstall()
        client.shutdown()
        store.close()
