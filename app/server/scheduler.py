"""One generation at a time: a single thread owns the model, requests wait in a bounded queue.

The backend is not thread-safe and one model cannot run two replies at once, so every piece
of work that touches it (tokenizing a prompt, generating) runs on this queue's thread, one
after another. At most `max_waiting` requests wait behind the running one; one more gets
QueueFull (HTTP 429) with a Retry-After estimated from the recent generation times. A request
whose client left before its turn is skipped without touching the model.

`dispatch` says where a piece of work runs: by default on this queue's thread; the window
passes one that runs it on its inference thread (which owns the model) and waits for it, so
the window's own replies and the server's take turns on one model and one cache.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from app.server.errors import QueueFull

T = TypeVar("T")
_log = logging.getLogger(__name__)
_MAX_RETRY_AFTER = 600


class JobSkipped(Exception):
    """The request was cancelled (its client left) before the model got to it."""


@dataclass(frozen=True)
class JobReport:
    """What one piece of work ended with: its result or its error, and how long it ran."""

    result: Any
    error: BaseException | None
    seconds: float


@dataclass
class _Job(Generic[T]):
    work: Callable[[], T]
    cancel: threading.Event
    future: Future[T]


class GenerationQueue:
    """Runs submitted work one at a time on its own thread."""

    def __init__(self, max_waiting: int = 4, *, name: str = "generation",
                 dispatch: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        self.max_waiting = max(0, max_waiting)
        self._dispatch = dispatch
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._waiting = 0
        self._running = False
        self._closed = False
        self._pending: list[_Job[Any]] = []  # waiting and running, for close()
        self._recent_s = 2.0  # a running average of how long one piece of work takes
        self._done_listeners: list[Callable[[JobReport], None]] = []
        self._busy_listeners: list[Callable[[bool, int], None]] = []
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # -- observing ------------------------------------------------------------------------
    def on_done(self, listener: Callable[[JobReport], None]) -> None:
        """Call `listener` (on the queue's thread) after each piece of work."""
        self._done_listeners.append(listener)

    def on_busy(self, listener: Callable[[bool, int], None]) -> None:
        """Call `listener(running, waiting)` (on any thread) when either changes: a status bar."""
        self._busy_listeners.append(listener)

    @property
    def waiting(self) -> int:
        return self._waiting

    @property
    def running(self) -> bool:
        return self._running

    # -- submitting ------------------------------------------------------------------------
    def submit(self, work: Callable[[], T], cancel: threading.Event) -> Future[T]:
        """Queue `work`; raises QueueFull when `max_waiting` requests already wait."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise QueueFull("The server is shutting down.", 5)
            busy = self._running or self._waiting > 0
            if busy and self._waiting >= self.max_waiting:
                raise QueueFull(
                    f"The model is busy with {int(self._running) + self._waiting} requests; try again shortly.",
                    self._retry_after())
            self._waiting += 1
            job = _Job(work, cancel, future)
            self._pending.append(job)
            self._jobs.put(job)
        self._tell_busy()
        return future

    def _retry_after(self) -> int:
        return min(_MAX_RETRY_AFTER, max(1, math.ceil(self._recent_s * (self._waiting + 1))))

    def _tell_busy(self) -> None:
        running, waiting = self._running, self._waiting
        for listener in self._busy_listeners:
            try:
                listener(running, waiting)
            except Exception:  # a listener's bug must not stop the model
                _log.exception("busy listener failed")

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            with self._lock:
                self._waiting -= 1
                self._running = True
            self._tell_busy()
            t0 = time.perf_counter()
            result: Any = None
            error: BaseException | None = None
            if job.cancel.is_set() or not job.future.set_running_or_notify_cancel():
                error = JobSkipped()
                if not job.future.cancelled():
                    job.future.set_exception(error)
            else:
                try:
                    result = job.work() if self._dispatch is None else self._dispatch(job.work)
                    job.future.set_result(result)
                except BaseException as exc:  # handed to the request that asked
                    error = exc
                    job.future.set_exception(exc)
            seconds = time.perf_counter() - t0
            if not isinstance(error, JobSkipped):
                self._recent_s = 0.7 * self._recent_s + 0.3 * seconds
            with self._lock:
                self._running = False
                self._pending.remove(job)
            self._tell_busy()
            for listener in self._done_listeners:
                try:
                    listener(JobReport(result, error, seconds))
                except Exception:
                    _log.exception("done listener failed")

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking work, cancel what waits and what runs, join the thread."""
        with self._lock:
            self._closed = True
            for job in self._pending:
                job.cancel.set()
        self._jobs.put(None)
        self._thread.join(timeout)
