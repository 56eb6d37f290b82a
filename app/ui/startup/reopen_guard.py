"""At start the last conversation reopens, unless showing it crashed the last two starts.

Before the window renders the last conversation, a small marker file in the data folder says
which one (and for which database) and how many starts have tried. It is removed once the
view has rendered and painted it, and at a clean exit; so a marker found at start means that
start died while showing it. After MAX_TRIES such starts an empty conversation opens instead
and the user is told in one sentence; the marker goes once the user opens that conversation
and it shows. The marker file is only ever read if it is a small regular file (no link, FIFO
or device), and only replaced atomically.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer

from app.paths import data_dir

if TYPE_CHECKING:
    from app.ui.window.main_window import MainWindow

_log = logging.getLogger(__name__)
MARKER_NAME = "reopen-marker.json"
MAX_TRIES = 2
_MAX_BYTES = 4096
_SETTLE_MS = 500  # after the first paint of the rendered conversation


class ReopenMarker:
    """The marker file for one database: `tries(cid)`, `begin(cid)`, `clear()`."""

    def __init__(self, db: Path, path: Path | None = None) -> None:
        self.db = str(Path(db).expanduser().absolute())
        self.path = path or data_dir() / MARKER_NAME

    def _read(self) -> dict[str, object]:
        """The marker's content; {} when absent, not a small regular file, or not ours."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags)
        except OSError:
            return {}
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES:
                return {}
            data = json.loads(os.read(fd, _MAX_BYTES).decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        finally:
            os.close(fd)
        return data if isinstance(data, dict) else {}

    def tries(self, conversation_id: int) -> int:
        """How many starts died while showing this conversation of this database."""
        data = self._read()
        tries = data.get("tries")
        if (data.get("db") != self.db or data.get("conversation") != conversation_id
                or not isinstance(tries, int) or isinstance(tries, bool)):
            return 0
        return max(0, min(tries, MAX_TRIES))

    def conversation(self) -> int:
        """The conversation the marker names for this database (0 when none)."""
        data = self._read()
        cid = data.get("conversation")
        return cid if data.get("db") == self.db and isinstance(cid, int) else 0

    def begin(self, conversation_id: int) -> None:
        """Count one more try, on disk before the conversation is rendered."""
        record = {"db": self.db, "conversation": conversation_id,
                  "tries": self.tries(conversation_id) + 1}
        temp = self.path.with_name(f".{MARKER_NAME}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
            try:
                os.write(fd, json.dumps(record).encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
        except OSError as exc:  # the app still starts; it only loses this protection
            _log.warning("could not write the reopen marker %s: %s", self.path, exc)
            temp.unlink(missing_ok=True)

    def clear(self) -> None:
        """The conversation showed: forget the tries (only a regular file or link of ours)."""
        try:
            if not stat.S_ISDIR(os.lstat(self.path).st_mode):
                self.path.unlink()
        except OSError:
            pass


class _Rendered(QObject):
    """Clears the marker once the view has rendered everything and painted it."""

    def __init__(self, window: MainWindow, marker: ReopenMarker, conversation_id: int) -> None:
        super().__init__(window)
        self._window = window
        self._marker = marker
        self._cid = conversation_id
        self._done = False
        window.view.viewport().installEventFilter(self)
        window.view.viewport().update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (not self._done and event.type() == QEvent.Type.Paint and not self._window.view.pending
                and self._window.controller.conversation_id == self._cid):
            self._done = True
            QTimer.singleShot(_SETTLE_MS, self._clear)
        return False

    def _clear(self) -> None:
        if self._marker.conversation() == self._cid:
            self._marker.clear()
        self._window.view.viewport().removeEventFilter(self)
        self.deleteLater()


def reopen_last(window: MainWindow, conversation_id: int, marker: ReopenMarker) -> str:
    """Open the last conversation at start, guarded; a sentence for the user when it was not."""
    if marker.tries(conversation_id) >= MAX_TRIES:
        _log.warning("not reopening conversation %s: the last %s starts died showing it",
                     conversation_id, MAX_TRIES)
        window.controller.conversationOpened.connect(
            lambda cid: _Rendered(window, marker, cid) if cid == conversation_id else None)
        return QCoreApplication.translate(
            "Application", "The last conversation was not reopened because the app closed "
            "unexpectedly twice while showing it; choose it in the list to try again.")
    marker.begin(conversation_id)
    window.open_conversation(conversation_id)
    _Rendered(window, marker, conversation_id)
    return ""
