"""A text progress bar on stderr for command-line jobs that report (stage, done, total)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30
_MIN_INTERVAL_S = 0.1


def human_bytes(n: float) -> str:
    """A byte count for people: 512 B, 3.4 MB, 1.2 GB (decimal units)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


class ProgressBar:
    """Callable progress(stage, done, total) that draws one bar per stage.

    On a terminal the bar is redrawn in place (at most ten times a second); elsewhere (a log, a
    pipe) a line is printed at every tenth of the way, so the output stays readable.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._out = stream or sys.stderr
        self._tty = self._out.isatty()
        self._stage: str | None = None
        self._last_draw = 0.0
        self._last_tenth = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self.finish()
            self._stage, self._last_tenth, self._last_draw = stage, -1, 0.0
        frac = min(1.0, done / total) if total > 0 else 0.0
        line = (f"{stage:<9} [{'#' * int(frac * _WIDTH):<{_WIDTH}}] {frac * 100:3.0f}%  "
                f"{human_bytes(done)} / {human_bytes(total)}")
        if self._tty:
            now = time.monotonic()
            if frac < 1.0 and now - self._last_draw < _MIN_INTERVAL_S:
                return
            self._last_draw = now
            self._out.write("\r" + line)
        else:
            tenth = int(frac * 10)
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self._out.write(line + "\n")
        self._out.flush()

    def finish(self) -> None:
        """End the current bar's line (call once the job is over)."""
        if self._stage is not None and self._tty:
            self._out.write("\n")
            self._out.flush()
        self._stage = None
