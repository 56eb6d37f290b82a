"""The model manager's worker: downloads and conversions on their own QThread, one job at a time.

`ModelJobs` is the GUI-side handle (connect widgets to its signals, delivered on the GUI thread);
`ModelJobWorker` lives on the thread and calls app.hub.manager.ModelManager. `pause()` and
`cancel()` are called from the GUI thread directly: they only set a flag the job checks.
Pause keeps the partial download (the next download resumes it); cancel deletes it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.errors import UserError
from app.hub.errors import DownloadCancelled
from app.hub.manager import ModelManager
from app.hub.progress import DownloadProgress
from app.hub.recommend import detect_hardware
from app.internlm2.errors import ExportCancelled
from app.sentences import say

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """What to do for one catalog model: download, convert, or both in that order."""

    model_id: str  # a catalog id, or the folder's path for an added checkpoint
    download: bool
    convert_to: str | None = None
    folder: str = ""  # an added checkpoint folder to convert (no catalog model)
    source: str | None = None  # "auto", "huggingface", ...; None: the manager's setting


class _Control:
    """The stop flag shared by the GUI thread and the worker."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.discard = False

    def reset(self) -> None:
        self.event = threading.Event()
        self.discard = False


class ModelJobWorker(QObject):
    """Runs Jobs with a ModelManager; lives on the model-jobs thread."""

    downloadProgress = Signal(object)  # DownloadProgress
    convertProgress = Signal(str, int, int)  # stage, done, total
    downloaded = Signal(str, str)  # model id, snapshot folder
    sourceChosen = Signal(str, object)  # model id, app.hub.sources.SourceChoice
    converted = Signal(str, str)  # model id, GGUF path
    stopped = Signal(str, bool)  # model id, partial download discarded (cancel) or kept (pause)
    failed = Signal(str, object)  # model id, the UserError (sentence, hint, technical detail)
    done = Signal(str)  # model id: the job is over, whichever way
    hardwareReady = Signal(object)  # app.hub.recommend.Hardware

    def __init__(self, manager: ModelManager, control: _Control) -> None:
        super().__init__()
        self._manager = manager
        self._control = control

    @Slot(object)
    def run(self, job: Job) -> None:
        control = self._control
        try:
            if job.folder:
                local = self._manager.convert_local(Path(job.folder), job.convert_to or "q4_k_m",
                                                    progress=self.convertProgress.emit, cancel=control.event)
                self.converted.emit(job.model_id, str(local.path))
                return
            model = self._manager.find(job.model_id)
            if job.download:
                snapshot = self._manager.download(
                    model, progress=self._progress, cancel=control.event, convert_to=job.convert_to,
                    source=job.source, on_source=lambda choice: self.sourceChosen.emit(model.id, choice))
                self.downloaded.emit(model.id, str(snapshot))
            if job.convert_to:
                entry = self._manager.convert(model, job.convert_to, progress=self.convertProgress.emit,
                                              cancel=control.event)
                self.converted.emit(model.id, str(entry.path))
        except (DownloadCancelled, ExportCancelled):
            if control.discard and job.download:
                self._manager.discard_partial(self._manager.find(job.model_id))
            self.stopped.emit(job.model_id, control.discard)
        except UserError as error:
            self.failed.emit(job.model_id, error)
        except Exception as error:  # noqa: BLE001 - the thread must never die silently
            _log.exception("model job %s failed", job)
            self.failed.emit(job.model_id, UserError(
                say("The job stopped because of an unexpected error."),
                say("Try again; if it happens again, the log file has the details."),
                f"{type(error).__name__}: {error}"))
        finally:
            self.done.emit(job.model_id)

    @Slot()
    def detect(self) -> None:
        self.hardwareReady.emit(detect_hardware())

    def _progress(self, event: DownloadProgress) -> None:
        self.downloadProgress.emit(event)


class ModelJobs(QObject):
    """GUI-side handle of the worker thread. Call `shutdown()` before the owner goes away."""

    downloadProgress = Signal(object)
    convertProgress = Signal(str, int, int)
    downloaded = Signal(str, str)
    sourceChosen = Signal(str, object)
    converted = Signal(str, str)
    stopped = Signal(str, bool)
    failed = Signal(str, object)
    busyChanged = Signal(bool)
    hardwareReady = Signal(object)
    _start = Signal(object)
    _detect = Signal()

    def __init__(self, manager: ModelManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self._control = _Control()
        self._busy: str | None = None
        self._thread = QThread()
        self._thread.setObjectName("model-jobs")
        self._worker = ModelJobWorker(manager, self._control)
        self._worker.moveToThread(self._thread)
        self._start.connect(self._worker.run)
        self._detect.connect(self._worker.detect)
        for name in ("downloadProgress", "convertProgress", "downloaded", "sourceChosen", "converted",
                     "stopped", "failed", "hardwareReady"):
            getattr(self._worker, name).connect(getattr(self, name))
        self._worker.done.connect(self._on_done)
        self._thread.start()

    @property
    def busy_with(self) -> str | None:
        """The catalog id of the running job, or None."""
        return self._busy

    def start(self, job: Job) -> bool:
        """Queue `job`; False (and nothing happens) while another job runs."""
        if self._busy is not None:
            return False
        if not self._thread.isRunning():  # shut down when a dialog closed: start it again
            self._thread.start()
        self._control.reset()
        self._busy = job.model_id
        self.busyChanged.emit(True)
        self._start.emit(job)
        return True

    def download(self, model_id: str, convert_to: str | None = None, source: str | None = None) -> bool:
        return self.start(Job(model_id, True, convert_to, source=source))

    def convert(self, model_id: str, gguf_type: str) -> bool:
        return self.start(Job(model_id, False, gguf_type))

    def convert_folder(self, folder: str, gguf_type: str) -> bool:
        """Convert a checkpoint folder the person added (its path is the job's id)."""
        return self.start(Job(folder, False, gguf_type, folder=folder))

    def pause(self) -> None:
        """Stop the running job; a partial download is kept and resumes next time."""
        self._control.event.set()

    def cancel(self) -> None:
        """Stop the running job and delete its partial download."""
        self._control.discard = True
        self._control.event.set()

    def detect_hardware(self) -> None:
        """Look at the GPU off the GUI thread (imports PyTorch when installed); see hardwareReady."""
        if not self._thread.isRunning():
            self._thread.start()
        self._detect.emit()

    def shutdown(self) -> None:
        """Stop any job (a partial download is kept) and end the thread; safe to call twice."""
        if not self._thread.isRunning():
            return
        self.pause()
        self._thread.quit()
        self._thread.wait()

    @Slot(str)
    def _on_done(self, _model_id: str) -> None:
        self._busy = None
        self.busyChanged.emit(False)
