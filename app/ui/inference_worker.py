"""The inference worker: one QObject on its own QThread that owns the loaded model.

The model is never touched from the GUI thread: loading, tokenizing, prefill and decode all
run here. Requests arrive as queued signals; `cancel()` is the one method other threads call
directly (it only sets a flag the backend checks between chunks, layers and tokens).
Text reaches the GUI in batches (at most one signal per ~30 ms), not one signal per token.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.engine.backend import Backend
from app.engine.loader import LoadSpec, open_backend
from app.engine.types import Finished, GenerateRequest, PrefillProgress, TextPiece
from app.errors import UserError

_log = logging.getLogger(__name__)
TEXT_BATCH_S = 0.03


def user_message(exc: BaseException) -> str:
    """A sentence for the user: typed errors speak for themselves, the rest get a short form."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory. Close other programs or use a shorter context."
    return f"Something went wrong in the model ({type(exc).__name__}: {exc}). The details are in the log file."


class InferenceWorker(QObject):
    """Owns the backend for the life of the loaded model; lives on the inference thread."""

    loadProgress = Signal(int, int)
    loaded = Signal(dict)  # backend, device, device_reason, n_ctx, model, is_chat
    prefillProgress = Signal(int, int, float)  # done, total, seconds left (-1: unknown yet)
    textReady = Signal(str)
    finished = Signal(dict)  # ReplyStats.to_dict() plus "text"
    failed = Signal(str)
    unloaded = Signal()

    def __init__(self, factory: Callable[..., Backend] = open_backend) -> None:
        super().__init__()
        self._factory = factory
        self._backend: Backend | None = None

    @property
    def backend(self) -> Backend | None:
        return self._backend

    def cancel(self) -> None:
        """Thread-safe: stop the running generation (prefill included) as soon as possible."""
        backend = self._backend
        if backend is not None:
            backend.cancel()

    @Slot(object)
    def load(self, spec: LoadSpec) -> None:
        try:
            self._drop()
            backend = self._factory(spec, progress=self.loadProgress.emit)
            self._backend = backend
            self.loaded.emit({"backend": backend.name, "device": backend.device,
                              "device_reason": backend.device_reason, "n_ctx": backend.n_ctx,
                              "model": backend.model_name, "is_chat": backend.is_chat})
        except BaseException as exc:  # noqa: BLE001 - the thread must never die silently
            self._report(exc)

    @Slot(object)
    def generate(self, request: GenerateRequest) -> None:
        backend = self._backend
        if backend is None:
            self.failed.emit("No model is loaded. Open a model first.")
            return
        pending: list[str] = []
        last = time.monotonic()
        try:
            for event in backend.generate(request):
                if isinstance(event, TextPiece):
                    pending.append(event.text)
                    now = time.monotonic()
                    if now - last >= TEXT_BATCH_S:
                        self.textReady.emit("".join(pending))
                        pending.clear()
                        last = now
                elif isinstance(event, PrefillProgress):
                    left = -1.0 if event.seconds_left is None else float(event.seconds_left)
                    self.prefillProgress.emit(event.done, event.total, left)
                elif isinstance(event, Finished):
                    if pending:
                        self.textReady.emit("".join(pending))
                        pending.clear()
                    data: dict[str, Any] = event.stats.to_dict()
                    data["text"] = event.text
                    self.finished.emit(data)
        except BaseException as exc:  # noqa: BLE001
            if pending:
                self.textReady.emit("".join(pending))
            self._report(exc)

    @Slot()
    def unload(self) -> None:
        self._drop()
        self.unloaded.emit()

    def _drop(self) -> None:
        if self._backend is not None:
            try:
                self._backend.unload()
            finally:
                self._backend = None

    def _report(self, exc: BaseException) -> None:
        if not isinstance(exc, UserError):
            _log.error("inference worker error:\n%s", "".join(traceback.format_exception(exc)))
        self.failed.emit(user_message(exc))


class InferenceClient(QObject):
    """The GUI-side handle: starts the thread, forwards requests, refuses a second reply.

    Its signals mirror the worker's and are always delivered on the GUI thread (the worker's
    are relayed through queued connections), so widgets and tests connect here.
    One generation at a time: a request while one runs is refused with refused(reason) (the
    user stops the running reply or waits; nothing is queued behind their back).
    """

    loadProgress = Signal(int, int)
    loaded = Signal(dict)
    prefillProgress = Signal(int, int, float)
    textReady = Signal(str)
    finished = Signal(dict)
    failed = Signal(str)
    unloaded = Signal()
    busyChanged = Signal(bool)
    refused = Signal(str)  # a request refused because the model is busy (the running one goes on)

    _load = Signal(object)
    _generate = Signal(object)
    _unload = Signal()

    def __init__(self, factory: Callable[..., Backend] = open_backend, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("inference")
        self.worker = InferenceWorker(factory)
        self.worker.moveToThread(self.worker_thread)
        self._load.connect(self.worker.load)
        self._generate.connect(self.worker.generate)
        self._unload.connect(self.worker.unload)
        w = self.worker
        for src, dst in ((w.loadProgress, self.loadProgress), (w.loaded, self.loaded),
                         (w.prefillProgress, self.prefillProgress), (w.textReady, self.textReady),
                         (w.finished, self.finished), (w.failed, self.failed), (w.unloaded, self.unloaded)):
            src.connect(dst)
        for sig in (self.finished, self.failed, self.loaded, self.unloaded):
            sig.connect(self._idle)
        self.busy = False
        self._current: threading.Event | None = None
        self.worker_thread.start()

    def _set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busyChanged.emit(busy)

    def _idle(self, *_: object) -> None:
        self._set_busy(False)

    def load(self, spec: LoadSpec) -> bool:
        if self.busy:
            self.refused.emit("The model is busy; stop the current reply before loading another model.")
            return False
        self._set_busy(True)
        self._load.emit(spec)
        return True

    def generate(self, request: GenerateRequest) -> bool:
        if self.busy:
            self.refused.emit("A reply is still being written; stop it or wait for it to finish.")
            return False
        self._set_busy(True)
        self._current = request.cancel
        self._generate.emit(request)
        return True

    def cancel(self) -> None:
        """Stop the running or just-requested reply (its own flag: a late Stop hits nothing)."""
        if self._current is not None:
            self._current.set()

    def unload(self) -> None:
        self._unload.emit()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop any reply, free the model on its own thread, and end the thread."""
        self.cancel()
        self.worker.cancel()
        self._unload.emit()
        self.worker_thread.quit()
        self.worker_thread.wait(timeout_ms)
