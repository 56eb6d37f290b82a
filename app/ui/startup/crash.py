"""The global exception hook: a crash log in the user log folder, a readable dialog, and the
application goes on (sys.excepthook and threading.excepthook both land here)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from datetime import datetime
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app import __version__
from app.errors import UserError
from app.paths import log_dir

_log = logging.getLogger(__name__)


def write_crash_log(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
                    thread: str) -> Path | None:
    """The traceback in log_dir()/crash-TIMESTAMP.log; None when the folder cannot be written."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    text = (f"InternLM2 Desktop {__version__}, Python {sys.version.split()[0]}, thread {thread}\n"
            + "".join(traceback.format_exception(exc_type, exc, tb)))
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{stamp}.log"
        path.write_text(text, encoding="utf-8")
        return path
    except OSError:
        _log.exception("could not write the crash log")
        return None


class CrashHandler(QObject):
    """Install with `install()`; `uninstall()` puts the previous hooks back."""

    _show = Signal(str, str)

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__()
        self.parent_widget = parent_widget
        self.last_dialog: QMessageBox | None = None
        self.last_log: Path | None = None
        self._previous = (sys.excepthook, threading.excepthook)
        self._show.connect(self._dialog)

    def install(self) -> None:
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.handle
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "?"
        self.handle(args.exc_type, args.exc_value, args.exc_traceback, name)

    def handle(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
               thread: str = "main") -> None:
        """Log, then show the dialog on the GUI thread (queued when called from another)."""
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous[0](exc_type, exc, tb)
            return
        self.last_log = write_crash_log(exc_type, exc, tb, thread)
        _log.error("unhandled %s in thread %s (log: %s)", exc_type.__name__, thread, self.last_log)
        if isinstance(exc, UserError):
            what = str(exc)
        else:
            what = self.tr("Something unexpected went wrong (%1). The app keeps running and your "
                           "conversations are saved.").replace("%1", f"{exc_type.__name__}: {exc}")
        where = (self.tr("The details are in %1.").replace("%1", str(self.last_log))
                 if self.last_log else "")
        self._show.emit(what, where)

    def _dialog(self, what: str, where: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Something went wrong"), what,
                          QMessageBox.StandardButton.Ok, self.parent_widget)
        box.setInformativeText(where)
        box.setModal(False)
        box.show()
        self.last_dialog = box
