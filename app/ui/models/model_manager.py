"""The model manager dialog: the catalog with sizes, licences and states; download, convert, use.

Long work (download, conversion, the GPU check) runs on the ModelJobs worker thread. The dialog
is not wired to the main window: connect `modelChosen(path)` to load a model and
`modelDeleted(path)` to unload one that disappeared; call `setInUse(path)` after a load.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.hub.errors import format_bytes
from app.hub.manager import GGUF_CHOICES, ModelManager, ModelOverview, Phase, estimated_gguf_bytes
from app.hub.progress import DownloadProgress
from app.hub.recommend import Hardware, Recommendation, recommend
from app.hub.sources import AUTO, SOURCE_LABELS, SourceChoice
from app.paths import start_folder
from app.ui.models.model_jobs import ModelJobs
from app.ui.models.model_list import Key, ModelList
from app.ui.window.core_text import error_text, translated
from app.ui.window.theme import error_colour


class ModelManagerDialog(QDialog):
    """Lists the catalog and local models; every action goes through a ModelManager."""

    modelChosen = Signal(str)  # a GGUF file or checkpoint folder to load
    modelDeleted = Signal(str)  # a path that no longer exists

    def __init__(self, manager: ModelManager | None = None, parent: QWidget | None = None, *,
                 hardware: Hardware | None = None, in_use: str | None = None) -> None:
        super().__init__(parent)
        self.manager = manager or ModelManager()
        self.jobs = ModelJobs(self.manager, self)
        self._in_use = in_use
        self._recommendation: Recommendation | None = None
        self._use_when_done: str | None = None  # catalog id of a one-click job
        self._views: dict[str, ModelOverview] = {}
        self.setWindowTitle(self.tr("Models"))
        self.resize(760, 520)
        self._build()
        self.jobs.downloadProgress.connect(self._on_download_progress)
        self.jobs.convertProgress.connect(self._on_convert_progress)
        self.jobs.downloaded.connect(self._on_downloaded)
        self.jobs.sourceChosen.connect(self._on_source_chosen)
        self.jobs.converted.connect(self._on_converted)
        self.jobs.stopped.connect(self._on_stopped)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.busyChanged.connect(lambda _busy: self._update_buttons())
        self.jobs.hardwareReady.connect(self._on_hardware)
        self.refresh()
        if hardware is not None:
            self._on_hardware(hardware)
        else:
            self.jobs.detect_hardware()

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.advice = QLabel(self.tr("Looking at this computer..."), self)
        self.advice.setWordWrap(True)
        self.oneClickButton = QPushButton(self.tr("Get the recommended model"), self)
        self.oneClickButton.clicked.connect(self._one_click)
        self.tree = ModelList(self)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progressLabel = QLabel(self)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.detail_button = QPushButton(self.tr("Details"), self)
        self.detail_button.setCheckable(True)
        self.detail_button.hide()
        self.detail_text = QLabel(self)
        self.detail_text.setWordWrap(True)
        self.detail_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail_text.hide()
        self.detail_button.toggled.connect(self.detail_text.setVisible)
        self.typeCombo = QComboBox(self)
        self.sourceCombo = QComboBox(self)
        self.sourceCombo.setToolTip(self.tr("Where the download comes from: the fastest source to "
                                            "answer, or the one you choose."))
        self.sourceCombo.addItem(self.tr("From the fastest source"), AUTO)
        for name, label in SOURCE_LABELS.items():
            self.sourceCombo.addItem(self.tr("From {0}").format(label), name)
        self.sourceCombo.setCurrentIndex(max(0, self.sourceCombo.findData(self.manager.settings.effective_source())))
        self.buttons: dict[str, QPushButton] = {}
        labels = {"download": self.tr("Download"), "pause": self.tr("Pause"),
                  "cancel": self.tr("Cancel download"), "convert": self.tr("Convert"),
                  "use": self.tr("Use"), "delete": self.tr("Delete..."),
                  "reveal": self.tr("Show in folder"), "addFolder": self.tr("Add folder..."),
                  "addFile": self.tr("Add GGUF file..."), "close": self.tr("Close")}
        for name, text in labels.items():
            self.buttons[name] = QPushButton(text, self)
        slots = {"download": self._download, "pause": self.jobs.pause, "cancel": self.jobs.cancel,
                 "convert": self._convert, "use": self._use, "delete": self._delete,
                 "reveal": self._reveal, "addFolder": self._add_folder, "addFile": self._add_file,
                 "close": self.accept}
        for name, slot in slots.items():
            self.buttons[name].clicked.connect(slot)

        top = QHBoxLayout()
        top.addWidget(self.advice, 1)
        top.addWidget(self.oneClickButton)
        progress = QHBoxLayout()
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.progressLabel)
        kind = QHBoxLayout()  # the type box has a row of its own: its entries are sentences
        kind.addWidget(QLabel(self.tr("GGUF type:"), self))
        kind.addWidget(self.typeCombo, 1)
        self.typeCombo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.typeCombo.setMinimumContentsLength(48)
        convert = QHBoxLayout()
        convert.addWidget(self.sourceCombo)
        for name in ("convert", "download", "pause", "cancel"):
            convert.addWidget(self.buttons[name])
        convert.addStretch(1)
        actions = QHBoxLayout()
        for name in ("use", "delete", "reveal", "addFolder", "addFile"):
            actions.addWidget(self.buttons[name])
        actions.addStretch(1)
        actions.addWidget(self.buttons["close"])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.details)
        layout.addLayout(progress)
        layout.addLayout(kind)
        layout.addLayout(convert)
        said = QHBoxLayout()
        said.addWidget(self.message, 1)
        said.addWidget(self.detail_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(said)
        layout.addWidget(self.detail_text)
        layout.addLayout(actions)

    def _type_text(self, gguf_type: str, size: int) -> str:
        notes = {
            "q4_k_m": self.tr("smallest and fastest, close to the original quality (recommended)"),
            "q5_k_m": self.tr("a little larger and a little closer to the original"),
            "q6_k": self.tr("hard to tell from the original"),
            "q8_0": self.tr("practically the original quality, larger and slower"),
            "f16": self.tr("the original weights: largest, slowest on a CPU"),
        }
        return self.tr("{0}, about {1}: {2}").format(gguf_type.upper(), format_bytes(size),
                                                     notes.get(gguf_type, ""))

    # -- state -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the states from the disk again and redraw the list (keeps the selection)."""
        self._views = {v.model.id: v for v in self.manager.overviews()}
        self.tree.populate(list(self._views.values()), self.manager.local_models(), self._in_use)
        self._on_selection()

    def setInUse(self, path: str | None) -> None:  # noqa: N802 - Qt naming for the lead's wiring
        """Mark the model the main window has loaded (None: nothing loaded)."""
        self._in_use = path
        self.refresh()

    def state_of(self, model_id: str) -> str:
        """The State column of a catalog model (for tests and accessibility)."""
        return self.tree.state_of(model_id)

    def selected_key(self) -> Key | None:
        return self.tree.selected_key()

    def select(self, what: str, model_id: str = "", path: str = "") -> None:
        """Select a row by its key (catalog rows need only the id)."""
        self.tree.select_key((what, model_id, path))

    @Slot()
    def _on_selection(self) -> None:
        key = self.selected_key()
        view = self._views.get(key[1]) if key else None
        self.typeCombo.clear()
        folder = self._local_checkpoint(key)
        if view is not None:
            m = view.model
            text = self.tr("{0}\nLicence: {1}").format(translated(m.summary), translated(m.licence))
            record = self.manager.last_download(m) if view.snapshot is not None else None
            source, commit = (record.source, record.commit) if record else (view.hub.source, view.hub.commit)
            if view.snapshot is not None and source and commit:
                text += "\n" + self.tr("Downloaded from {0}, commit {1}").format(
                    SOURCE_LABELS.get(source, source), commit)
            self.details.setText(text)
            for t in GGUF_CHOICES:
                self.typeCombo.addItem(self._type_text(t, estimated_gguf_bytes(m, t)), t)
        elif folder is not None:
            entry = next((e for e in self.manager.local_models() if str(e.path) == str(folder)), None)
            weights = entry.size_bytes if entry is not None else 0
            self.details.setText(self.tr("A checkpoint folder you added: {0}").format(folder))
            for t in GGUF_CHOICES:
                self.typeCombo.addItem(self._type_text(t, estimated_gguf_bytes(weights, t)), t)
        else:
            self.details.setText("")
        self._update_buttons()

    @staticmethod
    def _local_checkpoint(key: Key | None) -> Path | None:
        """The folder of a selected checkpoint the person added (it can be converted)."""
        if key is not None and key[0] == "local" and key[2] and Path(key[2]).is_dir():
            return Path(key[2])
        return None

    def _update_buttons(self) -> None:
        key = self.selected_key()
        what = key[0] if key else ""
        view = self._views.get(key[1]) if key else None
        busy = self.jobs.busy_with is not None
        can = {
            "download": what == "catalog" and view is not None and view.snapshot is None and not busy,
            "pause": busy, "cancel": busy,
            "convert": not busy and ((view is not None and view.snapshot is not None)
                                     or self._local_checkpoint(key) is not None),
            "use": (what in ("folder", "gguf", "local")
                    or (what == "catalog" and view is not None and view.best_path() is not None)),
            "delete": not busy and (what in ("folder", "gguf", "local") or (
                what == "catalog" and view is not None and view.phase is not Phase.NOT_DOWNLOADED)),
            "reveal": what in ("folder", "gguf", "local") or (what == "catalog" and view is not None
                                                              and view.snapshot is not None),
        }
        for name, enabled in can.items():
            self.buttons[name].setEnabled(enabled)
        self.typeCombo.setEnabled(can["convert"] or can["download"])
        self.sourceCombo.setEnabled(can["download"] or (self._recommendation is not None and not busy))
        self.oneClickButton.setEnabled(self._recommendation is not None and not busy)

    # -- actions ---------------------------------------------------------------------------
    def _selected_view(self) -> ModelOverview | None:
        key = self.selected_key()
        return self._views.get(key[1]) if key else None

    def _chosen_type(self) -> str:
        return str(self.typeCombo.currentData() or GGUF_CHOICES[0])

    def chosen_source(self) -> str:
        """The source the next download uses ("auto", "huggingface", "modelscope", "openxlab")."""
        return str(self.sourceCombo.currentData() or AUTO)

    @Slot()
    def _download(self) -> None:
        view = self._selected_view()
        if view is not None and self.jobs.download(view.model.id, source=self.chosen_source()):
            self._start_progress(self.tr("Starting the download..."))

    @Slot()
    def _convert(self) -> None:
        view = self._selected_view()
        folder = self._local_checkpoint(self.selected_key())
        started = (self.jobs.convert(view.model.id, self._chosen_type()) if view is not None
                   else folder is not None and self.jobs.convert_folder(str(folder), self._chosen_type()))
        if started:
            self._start_progress(self.tr("Starting the conversion..."))

    @Slot()
    def _one_click(self) -> None:
        rec = self._recommendation
        if rec is None:
            return
        view = self._views[rec.model.id]
        ready = view.snapshot if rec.gguf_type is None else next(
            (e.path for e in view.ggufs if e.gguf_type == rec.gguf_type), None)
        if ready is not None:
            self.modelChosen.emit(str(ready))
            return
        self._use_when_done = rec.model.id
        if view.snapshot is not None and rec.gguf_type is not None:
            started = self.jobs.convert(rec.model.id, rec.gguf_type)
        else:
            started = self.jobs.download(rec.model.id, rec.gguf_type, source=self.chosen_source())
        if started:
            self.select("catalog", rec.model.id)
            self._start_progress(self.tr("Starting..."))

    @Slot()
    def _use(self) -> None:
        key = self.selected_key()
        view = self._selected_view()
        if key is None:
            return
        path = key[2] if key[0] != "catalog" else (str(view.best_path()) if view and view.best_path() else "")
        if path:
            self.modelChosen.emit(path)

    @Slot()
    def _delete(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        what, model_id, path = key
        try:
            if what == "local":
                if self._confirm(self.tr("Remove {0} from the list? Its files stay where they are.").format(path)):
                    self.manager.forget_local(Path(path))
                    self._say(self.tr("Removed from the list."))
            elif what == "gguf":
                size = format_bytes(Path(path).stat().st_size if Path(path).exists() else 0)
                if self._confirm(self.tr("Delete {0}? This frees {1}.").format(path, size)):
                    freed = self.manager.delete_gguf(Path(path))
                    self._deleted(path, freed)
            elif what in ("catalog", "folder"):
                model = self.manager.find(model_id)
                size = format_bytes(self.manager.download_bytes(model))
                if self._confirm(self.tr("Delete the downloaded files of {0}? This frees {1}; converted "
                                         "GGUF files stay.").format(model.name, size)):
                    snapshot = self._views[model_id].snapshot
                    freed = self.manager.delete_download(model)
                    self._deleted(str(snapshot) if snapshot else "", freed)
        except (UserError, OSError) as error:
            self._say(error_text(error), error=True)
        self.refresh()

    def _deleted(self, path: str, freed: int) -> None:
        self._say(self.tr("Deleted; {0} freed.").format(format_bytes(freed)))
        if path:
            self.modelDeleted.emit(path)

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, self.tr("Delete"), text)
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def _reveal(self) -> None:
        key = self.selected_key()
        view = self._selected_view()
        if key is None:
            return
        target = Path(key[2]) if key[2] else (view.snapshot if view else None)
        if target is not None:
            folder = target if target.is_dir() else target.parent
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    @Slot()
    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose an InternLM2 checkpoint folder"),
                                                  str(start_folder()))
        if folder:
            self.add_local(folder)

    @Slot()
    def _add_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, self.tr("Choose a GGUF file"), str(start_folder()),
                                                    self.tr("GGUF files (*.gguf)"))
        if path:
            self.add_local(path)

    def add_local(self, path: str) -> bool:
        """Check and add a checkpoint folder or GGUF file; the error is shown when it is not one."""
        try:
            entry = self.manager.add_local(Path(path))
        except UserError as error:
            self._say(error_text(error), error=True, detail=error.detail)
            return False
        self.refresh()
        self.select("local", "", str(entry.path))
        self._say(self.tr("Added {0}.").format(entry.name))
        return True

    # -- worker signals ------------------------------------------------------------------------
    def _start_progress(self, text: str) -> None:
        self.progress.setValue(0)
        self.progressLabel.setText(text)
        self._say("")

    @Slot(object)
    def _on_download_progress(self, event: DownloadProgress) -> None:
        percent = int(event.fraction * 100)
        self.progress.setValue(percent)
        parts = [self.tr("Downloading {0}%").format(percent)]
        if event.speed > 0:
            parts.append(self.tr("{0}/s").format(format_bytes(int(event.speed))))
        if event.seconds_left is not None and not event.finished:
            parts.append(self._time_left(event.seconds_left))
        text = ", ".join(parts)
        self.progressLabel.setText(text)
        self._set_state(event.model_id, text)

    @Slot(str, int, int)
    def _on_convert_progress(self, stage: str, done: int, total: int) -> None:
        percent = int(100 * done / total) if total > 0 else 0
        self.progress.setValue(min(100, percent))
        text = (self.tr("Quantizing {0}%") if stage == "quantize" else self.tr("Converting {0}%")).format(percent)
        self.progressLabel.setText(text)
        if self.jobs.busy_with:
            self._set_state(self.jobs.busy_with, text)

    def _time_left(self, seconds: float) -> str:
        if seconds < 90:
            return self.tr("{0} s left").format(int(seconds))
        if seconds < 5400:
            return self.tr("{0} min left").format(round(seconds / 60))
        return self.tr("{0:.1f} h left").format(seconds / 3600)

    def _set_state(self, model_id: str, text: str) -> None:
        self.tree.set_state(model_id, text)

    @Slot(str, object)
    def _on_source_chosen(self, _model_id: str, choice: SourceChoice) -> None:
        label = SOURCE_LABELS.get(choice.source, choice.source)
        if choice.fallback_from is not None:
            text = self.tr("{0} failed; continuing from {1}.").format(
                SOURCE_LABELS.get(choice.fallback_from, choice.fallback_from), label)
        elif choice.automatic:
            text = self.tr("Downloading from {0}, the fastest source to answer.").format(label)
        else:
            text = self.tr("Downloading from {0}.").format(label)
        self._say(text)

    @Slot(str, str)
    def _on_downloaded(self, model_id: str, snapshot: str) -> None:
        self.progressLabel.setText(self.tr("Downloaded."))
        self.refresh()
        if self._use_when_done == model_id and self._recommendation is not None \
                and self._recommendation.gguf_type is None:
            self._use_when_done = None
            self.modelChosen.emit(snapshot)

    @Slot(str, str)
    def _on_converted(self, model_id: str, path: str) -> None:
        self.progressLabel.setText(self.tr("Converted: {0}").format(path))
        self.refresh()
        if self._use_when_done == model_id:
            self._use_when_done = None
            self.modelChosen.emit(path)

    @Slot(str, bool)
    def _on_stopped(self, _model_id: str, discarded: bool) -> None:
        self._use_when_done = None
        self.progressLabel.setText(self.tr("Cancelled; the partial download was deleted.") if discarded
                                   else self.tr("Paused; downloading again resumes where it stopped."))
        self.refresh()

    @Slot(str, object)
    def _on_failed(self, _model_id: str, error: object) -> None:
        self._use_when_done = None
        self.progressLabel.setText(self.tr("Stopped."))
        self._say(error_text(error) if isinstance(error, BaseException) else str(error), error=True,
                  detail=str(getattr(error, "detail", "") or ""))
        self.refresh()

    @Slot(object)
    def _on_hardware(self, hardware: Hardware) -> None:
        rec = recommend(hardware, self.manager.catalog)
        self._recommendation = rec
        if rec.backend == "torch":
            self.advice.setText(self.tr("Recommended for this computer: {0} on the PyTorch backend in "
                                        "bf16 on your GPU ({1}).").format(rec.model.name, hardware.cuda_name))
            self.oneClickButton.setText(self.tr("Download and use"))
        elif rec.device == "metal":
            self.advice.setText(self.tr("Recommended for this computer: {0} as a {1} GGUF on the "
                                        "Apple GPU (Metal).").format(rec.model.name, (rec.gguf_type or "").upper()))
            self.oneClickButton.setText(self.tr("Download, convert and use"))
        else:
            self.advice.setText(self.tr("Recommended for this computer: {0} as a {1} GGUF on the "
                                        "CPU.").format(rec.model.name, (rec.gguf_type or "").upper()))
            self.oneClickButton.setText(self.tr("Download, convert and use"))
        self._update_buttons()

    def _say(self, text: str, error: bool = False, detail: str = "") -> None:
        """A sentence under the list; an error's technical cause waits behind Details."""
        self.message.setStyleSheet(f"color: {error_colour()};" if error else "")
        self.message.setText(text)
        self.detail_text.setText(detail)
        self.detail_button.setChecked(False)
        self.detail_button.setVisible(bool(detail))
        self.detail_text.hide()

    def done(self, result: int) -> None:
        self.jobs.shutdown()
        super().done(result)
