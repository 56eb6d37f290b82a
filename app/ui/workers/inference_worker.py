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
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.engine.backend import Backend
from app.engine.conversation import Conversation
from app.engine.doc_cache import DocStateCache
from app.engine.loader import LoadSpec, open_backend
from app.engine.model_info import describe
from app.engine.read_ahead import PrefixReader
from app.engine.tools.calls import CallWatch
from app.engine.types import (
    Finished,
    GenerateRequest,
    PrefillProgress,
    ReplyStats,
    RopeRebase,
    StopReason,
    TextPiece,
)
from app.errors import UserError
from app.internlm2.tokenizer import ACTION_START
from app.sentences import say
from app.ui.window.core_text import error_text

_log = logging.getLogger(__name__)
TEXT_BATCH_S = 0.03


def user_message(exc: BaseException) -> str:
    """A sentence for the user (core_text.error_text, the one place errors become sentences)."""
    if isinstance(exc, MemoryError):
        exc = UserError(say("The computer ran out of memory."),
                        say("Close other programs or use a shorter context."))
    return error_text(exc)


def load_error(exc: BaseException, path: object) -> BaseException:
    """A load that failed in the libraries' own terms ("cannot reshape array ...") says what it
    means for the person: the file is damaged or incomplete (the cause stays in `detail`)."""
    if isinstance(exc, (UserError, MemoryError)):
        return exc
    name = getattr(path, "name", None) or str(path)
    return UserError(say("{name} could not be loaded: the file looks damaged or incomplete.", name=name),
                     say("Convert or download it again, or open another model."),
                     f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class PrefixJob:
    """Read a conversation's system prompt + document ahead (app.engine.read_ahead.PrefixReader)."""

    conversation_id: int
    conversation: Conversation  # built by the window from the stored conversation
    sha256: str
    cache: DocStateCache | None = None
    cancel: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


@dataclass(frozen=True)
class ModelJob:
    """Work another thread (the local server) runs on the model, between the window's requests."""

    work: Callable[[Backend | None], Any]
    future: Future[Any]


@dataclass(frozen=True)
class ReadResult:
    """How a PrefixJob ended: state "prefilled", "cancelled" or "failed" (with its sentence)."""

    conversation_id: int
    sha256: str
    state: str
    source: str = "none"  # PrefixSource: memory, saved, read
    saved: bool = False
    seconds: float = 0.0
    document_tokens: int = 0
    prefix_tokens: int = 0
    error: str = ""
    stats: ReplyStats | None = None


class InferenceWorker(QObject):
    """Owns the backend for the life of the loaded model; lives on the inference thread.

    Its signals carry typed objects: ModelInfo, Finished, ReadResult (never dicts), and no other
    thread touches the backend: what the window needs of the model is in ModelInfo.
    """

    loadProgress = Signal(int, int)
    loaded = Signal(object)  # ModelInfo
    loadFailed = Signal(str)  # the sentence; the previous model was unloaded first: none is loaded
    prefillProgress = Signal(int, int, float)  # done, total, seconds left (-1: unknown yet)
    textReady = Signal(str)
    finished = Signal(object)  # Finished: text, exact token ids, ReplyStats
    failed = Signal(str)  # a generation failed (its sentence)
    unloaded = Signal()
    prefixRead = Signal(object)  # ReadResult
    serving = Signal(bool)  # a local-server request runs on the model (True), or ended (False)
    ropeRebased = Signal(object)  # RopeRebase: the cache is read again with another rope base
    callStarted = Signal()  # the reply entered a tool call: its markup is held back, not streamed

    def __init__(self, factory: Callable[..., Backend] = open_backend) -> None:
        super().__init__()
        self._factory = factory
        self._backend: Backend | None = None

    @property
    def backend(self) -> Backend | None:
        """The inference thread's own (tests inspect it); the window uses ModelInfo instead."""
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
            self.loaded.emit(describe(backend, spec.path, spec.kv_type))
        except BaseException as exc:  # noqa: BLE001 - the thread must never die silently
            self._log(exc)
            self.loadFailed.emit(user_message(load_error(exc, spec.path)))

    @Slot(object)
    def generate(self, request: GenerateRequest) -> None:
        backend = self._backend
        if backend is None:
            self.failed.emit("No model is loaded. Open a model first.")
            return
        pending: list[str] = []
        last = time.monotonic()
        # A tool call's JSON is not the reply's text: from `<|action_start|>` on nothing streams
        # (the controller parses the call from the reply's ids when it ends).
        watch = CallWatch(backend.tokenizer.special.by_name.get(ACTION_START, -1), len(request.prompt_ids))
        announced = False
        try:
            for event in backend.generate(request):
                if isinstance(event, TextPiece):
                    if watch.update(backend.cached_view):
                        if not announced:
                            announced = True
                            if pending:
                                self.textReady.emit("".join(pending))
                                pending.clear()
                            self.callStarted.emit()
                        continue
                    pending.append(event.text)
                    now = time.monotonic()
                    if now - last >= TEXT_BATCH_S:
                        self.textReady.emit("".join(pending))
                        pending.clear()
                        last = now
                elif isinstance(event, PrefillProgress):
                    left = -1.0 if event.seconds_left is None else float(event.seconds_left)
                    self.prefillProgress.emit(event.done, event.total, left)
                elif isinstance(event, RopeRebase):
                    self.ropeRebased.emit(event)
                elif isinstance(event, Finished):
                    if pending:
                        self.textReady.emit("".join(pending))
                        pending.clear()
                    self.finished.emit(event)
        except BaseException as exc:  # noqa: BLE001
            if pending:
                self.textReady.emit("".join(pending))
            self._log(exc)
            self.failed.emit(user_message(exc))

    @Slot(object)
    def read_prefix(self, job: PrefixJob) -> None:
        """Bring system prompt + document into the KV cache (memory, saved state, or read)."""
        backend = self._backend
        convo = job.conversation
        try:
            if backend is None:
                raise UserError(say("No model is loaded."), say("Open a model first."))
            reader = PrefixReader(backend, convo, job.cache, job.sha256)
            final: Finished | None = None
            events = iter(()) if job.cancel.is_set() else reader.run()
            for event in events:
                if job.cancel.is_set():
                    backend.cancel()  # the reader's own request flag: stops before the next chunk
                if isinstance(event, PrefillProgress):
                    left = -1.0 if event.seconds_left is None else float(event.seconds_left)
                    self.prefillProgress.emit(event.done, event.total, left)
                elif isinstance(event, Finished):
                    final = event
            done = final is not None and final.stats.stop_reason is StopReason.PREFILLED
            result = ReadResult(job.conversation_id, job.sha256, "prefilled" if done else "cancelled",
                                source=reader.source.value, saved=reader.saved, seconds=reader.seconds,
                                document_tokens=convo.document_tokens(), prefix_tokens=len(convo.prefix_ids()),
                                stats=final.stats if final is not None else None)
        except BaseException as exc:  # noqa: BLE001 - the thread must never die silently
            if not isinstance(exc, UserError):
                _log.error("read-ahead error:\n%s", "".join(traceback.format_exception(exc)))
            result = ReadResult(job.conversation_id, job.sha256, "failed", error=user_message(exc))
        self.prefixRead.emit(result)

    @Slot(object)
    def run_job(self, job: ModelJob) -> None:
        """Run another thread's work on the model here, in turn with the window's requests."""
        if not job.future.set_running_or_notify_cancel():
            return
        self.serving.emit(True)
        try:
            job.future.set_result(job.work(self._backend))
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that asked
            job.future.set_exception(exc)
        finally:
            self.serving.emit(False)

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

    def _log(self, exc: BaseException) -> None:
        if not isinstance(exc, UserError):
            _log.error("inference worker error:\n%s", "".join(traceback.format_exception(exc)))


class InferenceClient(QObject):
    """The GUI-side handle: starts the thread, forwards requests, refuses a second reply.

    Its signals mirror the worker's and are always delivered on the GUI thread (the worker's
    are relayed through queued connections), so widgets and tests connect here.
    One generation at a time: a request while one runs is refused with refused(reason) (the
    user stops the running reply or waits; nothing is queued behind their back).
    """

    loadProgress = Signal(int, int)
    loaded = Signal(object)  # ModelInfo
    loadFailed = Signal(str)
    prefillProgress = Signal(int, int, float)
    textReady = Signal(str)
    finished = Signal(object)  # Finished
    failed = Signal(str)
    unloaded = Signal()
    busyChanged = Signal(bool)
    refused = Signal(str)  # a request refused because the model is busy (the running one goes on)
    prefixRead = Signal(object)  # ReadResult
    serving = Signal(bool)
    ropeRebased = Signal(object)  # RopeRebase
    callStarted = Signal()

    _load = Signal(object)
    _generate = Signal(object)
    _readPrefix = Signal(object)
    _unload = Signal()
    _runJob = Signal(object)

    def __init__(self, factory: Callable[..., Backend] = open_backend, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("inference")
        self.worker = InferenceWorker(factory)
        self.worker.moveToThread(self.worker_thread)
        self._load.connect(self.worker.load)
        self._generate.connect(self.worker.generate)
        self._readPrefix.connect(self.worker.read_prefix)
        self._unload.connect(self.worker.unload)
        self._runJob.connect(self.worker.run_job)
        w = self.worker
        for src, dst in ((w.loadProgress, self.loadProgress), (w.loaded, self.loaded),
                         (w.loadFailed, self.loadFailed), (w.prefillProgress, self.prefillProgress), (w.textReady, self.textReady),
                         (w.finished, self.finished), (w.failed, self.failed), (w.unloaded, self.unloaded),
                         (w.prefixRead, self.prefixRead), (w.serving, self.serving),
                         (w.ropeRebased, self.ropeRebased), (w.callStarted, self.callStarted)):
            src.connect(dst)
        for sig in (self.finished, self.failed, self.loaded, self.loadFailed, self.unloaded, self.prefixRead):
            sig.connect(self._idle)
        self.busy = False
        self.reading = False  # a PrefixJob runs
        self._current: threading.Event | None = None
        self.worker_thread.start()

    def _set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busyChanged.emit(busy)

    def _idle(self, *_: object) -> None:
        self.reading = False
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

    def read_prefix(self, job: PrefixJob) -> bool:
        """Read a document ahead; False (nothing started, nothing emitted) while the model is busy."""
        if self.busy:
            return False
        self._set_busy(True)
        self.reading = True
        self._current = job.cancel
        self._readPrefix.emit(job)
        return True

    def cancel(self) -> None:
        """Stop the running or just-requested job, reading included (its own flag: a late Stop
        hits nothing); inside the chunk being read, not only before the next."""
        if self._current is not None:
            self._current.set()
        if self.busy:
            self.worker.cancel()

    def run_on_model(self, work: Callable[[Backend | None], Any]) -> Future[Any]:
        """Any thread: run work(backend) on the inference thread, after what waits there (the
        local server's requests and the window's replies take turns on one model and cache)."""
        future: Future[Any] = Future()
        self._runJob.emit(ModelJob(work, future))
        return future

    def unload(self) -> None:
        self._unload.emit()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop any reply, free the model on its own thread, and end the thread."""
        self.cancel()
        self.worker.cancel()
        self._unload.emit()
        self.worker_thread.quit()
        self.worker_thread.wait(timeout_ms)
