"""Starts the Qt application and the main window (the only start-up path that imports Qt).

    python main.py [--db PATH]

`--db PATH` opens that SQLite file instead of the one in the user data folder
(INTERNLM2_DESKTOP_DATA moves the whole data folder). Only a damaged database is moved aside
(kept) and a fresh one opened; the user is told where. A file another program holds locked,
one from a newer version, another program's file or a folder that cannot be written is
shown as a sentence with Retry / Quit and left exactly as it was; a write-protected file
opens read-only (browse, search, export) and the user is told why nothing can be saved.
The last conversation reopens, unless showing it killed the last two starts (reopen_guard.py).
A second start on the same database hands its arguments to the first window and exits 0
(`single_instance.py`); if the first does not answer, it says so and exits 1.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_NAME, __version__
from app.paths import log_dir
from app.settings import AppSettings
from app.storage import (
    ConversationStore,
    DatabaseCorruptError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseUnavailableError,
    StorageError,
    default_path,
)
from app.ui.startup.crash import CrashHandler
from app.ui.startup.reopen_guard import ReopenMarker, reopen_last
from app.ui.startup.single_instance import HandOver, InstanceGuard
from app.ui.startup.startup_probe import watch_first_paint  # issue 7 (bench/startup.py)
from app.ui.window.about_dialog import app_icon
from app.ui.window.core_text import error_text
from app.ui.window.i18n import Translations
from app.ui.window.theme import apply_theme
from app.ui.workers.inference_worker import InferenceClient

if TYPE_CHECKING:
    from app.ui.window.main_window import MainWindow

_log = logging.getLogger(__name__)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description=f"{APP_NAME}: the window.")
    parser.add_argument("--db", type=Path, default=None, metavar="PATH",
                        help="the conversations database file (default: in the user data folder)")
    parser.add_argument("--model", type=Path, default=None, metavar="PATH",
                        help="open this .gguf file or checkpoint folder at start")
    args, _qt_args = parser.parse_known_args(argv)
    return args


def setup_logging() -> Path | None:
    """Log to stderr and to log_dir()/internlm2-desktop.log (rotated at 1 MB, 3 files kept);
    the file named when an error says "the details are in the log file"."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    path: Path | None = log_dir() / "internlm2-desktop.log"
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=2,
                                                             encoding="utf-8"))
    except OSError:
        path = None
    logging.basicConfig(level=logging.INFO, handlers=handlers,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return path


def open_store(path: Path | None,
               ask: Callable[[StorageError, bool], bool] | None = None
               ) -> tuple[ConversationStore | None, str]:
    """The store and a sentence for the user (a damaged file was moved aside, or the file is
    read-only), or None when it cannot be opened and the user chose to quit.

    Only a damaged file (`DatabaseCorruptError`) is moved aside. Any other refusal (locked,
    newer, another program's, a folder that cannot be written) changes nothing: `ask(error,
    can_retry)` shows it and returns True for Retry (default: a dialog)."""
    ask = ask or _ask_retry
    while True:
        try:
            return _open_or_start_fresh(path)
        except StorageError as exc:
            _log.warning("conversation database not opened: %s", exc)
            if not ask(exc, isinstance(exc, _RETRYABLE)):
                return None, ""


_RETRYABLE = (DatabaseLockedError, DatabaseUnavailableError)


def _open_or_start_fresh(path: Path | None) -> tuple[ConversationStore, str]:
    try:
        store = ConversationStore(path)
    except DatabaseCorruptError as exc:
        store, moved = ConversationStore.start_fresh(path)
        _log.warning("database moved aside to %s: %s", moved, exc)
        return store, QCoreApplication.translate(
            "Application", "%1 The old file was kept as %2; a new, empty one was started."
        ).replace("%1", error_text(exc)).replace("%2", str(moved))
    if store.read_only:
        return store, error_text(DatabaseReadOnlyError(store.path, store.read_only_reason))
    return store, ""


def _ask_retry(error: StorageError, can_retry: bool) -> bool:
    """The refusal as a dialog: its sentence, what to do, Retry (when it may help) or Quit."""
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, error.message)
    box.setInformativeText(error.hint)
    retry = box.addButton(QCoreApplication.translate("Application", "Retry"),
                          QMessageBox.ButtonRole.AcceptRole) if can_retry else None
    box.addButton(QCoreApplication.translate("Application", "Quit"),
                  QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return retry is not None and box.clickedButton() is retry


def bring_forward(window: MainWindow, argv: list[str]) -> None:
    """A later start handed over: show this window on top and open the model it named."""
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
    QApplication.alert(window)
    model = parse_args(argv).model
    if model is not None:
        window.open_model(model)


def _already_running(db: Path) -> int:
    """A first instance holds this database but did not answer: say so, open nothing."""
    Translations().apply("system")
    text = QCoreApplication.translate(
        "Application", "InternLM2 Desktop is already running with this conversation database "
        "(%1) but does not answer. Wait for it, or close it, then start again.").replace("%1", str(db))
    print(text, file=sys.stderr)
    QMessageBox.warning(None, APP_NAME, text)
    return 1


def _tell(window: MainWindow, text: str) -> None:
    """A sentence in a box that does not block the start."""
    box = QMessageBox(QMessageBox.Icon.Information, APP_NAME, text, QMessageBox.StandardButton.Ok,
                      window)
    box.setModal(False)
    box.show()


def run_gui(argv: list[str]) -> int:
    """Open the main window and run the Qt event loop until it closes."""
    from app.ui.window.main_window import MainWindow

    args = parse_args(argv)
    setup_logging()
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("InternLM2 Desktop")
    app.setWindowIcon(app_icon())  # issue 7: the app's icon (resources/icons)
    db = args.db or default_path()
    guard = InstanceGuard(db)
    handed = guard.hand_over(argv)
    if handed is HandOver.HANDED_OVER:
        print(f"{APP_NAME} is already open with {db}: its window was brought to the front.")
        return 0
    if handed is HandOver.NO_ANSWER:
        return _already_running(db)
    guard.listen()
    store, moved_note = open_store(args.db)
    if store is None:  # refused and the user chose Quit: nothing was changed
        guard.close()
        return 1
    settings = AppSettings.load(store)
    translations = Translations()
    translations.apply(settings.language)
    apply_theme(app, settings.theme)
    client = InferenceClient()
    window = MainWindow(store, client, settings, translations)
    crash = CrashHandler(window)
    crash.install()
    guard.received.connect(lambda later: bring_forward(window, later))
    watch_first_paint(window)  # issue 7: quits on the first paint when bench/startup.py asks
    window.show()
    reopen = ReopenMarker(db)
    recent = store.conversations.list_recent(1)
    not_reopened = reopen_last(window, recent[0].id, reopen) if recent else ""  # where the user left off
    if not_reopened:
        _tell(window, not_reopened)
    if moved_note:
        QMessageBox.warning(window, APP_NAME, moved_note)
    model = args.model or (Path(settings.model_path) if settings.model_path else None)
    if model is not None and model.exists():
        window.open_model(model)
    try:
        return int(app.exec())
    finally:
        if recent and not not_reopened:
            reopen.clear()  # a clean exit: this start did not die showing it
        guard.close()
        crash.uninstall()
        client.shutdown()
        store.close()
