"""Start-up measurement: with INTERNLM2_DESKTOP_QUIT_AFTER_PAINT=1 the window quits on its first paint.

bench/startup.py sets it, launches the app (source run or bundle) and reads the line

    first-paint: since-process-start=0.812 s epoch=1790000000.123456

from stdout. Without the variable nothing is installed and nothing changes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENV = "INTERNLM2_DESKTOP_QUIT_AFTER_PAINT"


def _seconds_since_process_start() -> float | None:
    """How long this process has run (10 ms resolution on Linux; None where unknown)."""
    try:
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - int(stat[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime in ticks
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil  # other systems: boot-time based, coarser

        return time.time() - float(psutil.Process().create_time())
    except Exception:  # noqa: BLE001 - the bench's own clock still works
        return None


class _FirstPaint(QObject):
    """Application-wide filter: the first paint of any widget of `window` ends the run."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (not self._done and event.type() == QEvent.Type.Paint and isinstance(watched, QWidget)
                and watched.window() is self._window):
            self._done = True
            now = time.time()
            seconds = _seconds_since_process_start()
            since = f"{seconds:.3f}" if seconds is not None else "unknown"
            print(f"first-paint: since-process-start={since} s epoch={now:.6f}", flush=True)
            QTimer.singleShot(0, QApplication.quit)
        return False


def watch_first_paint(window: QWidget) -> None:
    """Quit after the window's first paint, when the environment asks for it (benchmarks only)."""
    app = QApplication.instance()
    if not os.environ.get(ENV) or app is None:
        return
    app.installEventFilter(_FirstPaint(window))
