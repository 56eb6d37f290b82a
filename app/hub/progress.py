"""Download progress events: bytes done of the file and of the model, speed and time left."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report. The last one of a successful download has bytes_done == bytes_total."""

    model_id: str
    file: str  # the repo file being transferred ("" before the first file starts)
    file_bytes_done: int
    file_bytes_total: int
    bytes_done: int  # the whole model, files already in the cache included
    bytes_total: int
    speed: float  # bytes per second over the last few seconds (0.0 until known)
    seconds_left: float | None  # None until the speed is known

    @property
    def fraction(self) -> float:
        """0.0 to 1.0 for the whole model."""
        return 1.0 if self.bytes_total <= 0 else min(1.0, self.bytes_done / self.bytes_total)

    @property
    def finished(self) -> bool:
        return self.bytes_done >= self.bytes_total


ProgressCallback = Callable[[DownloadProgress], None]


class ProgressTracker:
    """Turns byte counts into DownloadProgress events, at most every `interval` seconds.

    Speed is the bytes received in a sliding window of `window` seconds; bytes found on disk
    (complete files, resumed parts) count as done but never as speed.
    """

    def __init__(
        self,
        model_id: str,
        bytes_total: int,
        callback: ProgressCallback | None,
        *,
        interval: float = 0.1,
        window: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model_id = model_id
        self.bytes_total = bytes_total
        self.bytes_done = 0
        self._callback = callback
        self._interval = interval
        self._window = window
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()  # (time, bytes received so far)
        self._received = 0
        self._last_emit = float("-inf")
        self._file = ""
        self._file_done = 0
        self._file_total = 0

    def start_file(self, filename: str, total: int, already: int) -> None:
        """A file begins (or resumes with `already` bytes on disk)."""
        self._file, self._file_total, self._file_done = filename, total, already
        self.bytes_done += already
        self.emit(force=True)

    def rewind_file(self, lost: int) -> None:
        """The server ignored a Range request: `lost` bytes on disk are being downloaded again."""
        self._file_done -= lost
        self.bytes_done -= lost

    def skip(self, nbytes: int) -> None:
        """Bytes of a file already complete in the cache."""
        self.bytes_done += nbytes

    def advance(self, nbytes: int) -> None:
        """`nbytes` more were received from the network."""
        self._file_done += nbytes
        self.bytes_done += nbytes
        self._received += nbytes
        self.emit()

    def emit(self, force: bool = False) -> None:
        now = self._clock()
        self._samples.append((now, self._received))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self._window:
            self._samples.popleft()
        if self._callback is None or (not force and now - self._last_emit < self._interval):
            return
        self._last_emit = now
        self._callback(self.snapshot(now))

    def snapshot(self, now: float | None = None) -> DownloadProgress:
        now = self._clock() if now is None else now
        speed = 0.0
        if len(self._samples) >= 2:
            t0, b0 = self._samples[0]
            elapsed = now - t0
            if elapsed > 0.2:
                speed = (self._received - b0) / elapsed
        left = max(0, self.bytes_total - self.bytes_done)
        seconds_left: float | None
        if left == 0:
            seconds_left = 0.0
        elif speed > 0:
            seconds_left = left / speed
        else:
            seconds_left = None
        return DownloadProgress(
            model_id=self.model_id,
            file=self._file,
            file_bytes_done=self._file_done,
            file_bytes_total=self._file_total,
            bytes_done=self.bytes_done,
            bytes_total=self.bytes_total,
            speed=speed,
            seconds_left=seconds_left,
        )
