"""The one way the window runs a short job off the GUI thread.

`Background(fn)` runs `fn()` on Qt's global thread pool; `done(result)` or `failed(sentence)`
then arrives on the GUI thread (the sentence from `core_text.error_text`, the one place an
exception becomes words for the user). The job never touches a widget: it returns a value.
Long jobs that must be stopped take a threading.Event the caller keeps (see the document
jobs); the model has its own thread (`inference_worker`), downloads theirs (`model_jobs`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.ui.window.core_text import error_text

_log = logging.getLogger(__name__)


class _Runner(QRunnable):
    def __init__(self, job: Background) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        self._job.run_now()


class Background(QObject):
    """Runs `fn()` on the global QThreadPool; `done(result)` or `failed(sentence)` on the GUI thread."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn

    def start(self) -> None:
        QThreadPool.globalInstance().start(_Runner(self))

    def run_now(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # noqa: BLE001 - a sentence for the window, details in the log
            _log.info("background job failed", exc_info=True)
            self.failed.emit(error_text(exc))
            return
        self.done.emit(result)
