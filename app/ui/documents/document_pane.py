"""The document pane: drop, open or paste a long document; see its size, its share of the
context and the reading progress; search it; remove or replace it; choose what to do when it
does not fit. A view over `DocumentController` (all reading and counting happen elsewhere)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.documents import SUPPORTED_SUFFIXES
from app.engine.activity import Activity
from app.engine.budget import Choice, ChoiceKind, Verdict
from app.paths import start_folder
from app.storage import Document
from app.ui.documents.document_controller import DocumentController
from app.ui.documents.document_jobs import Count, Fit
from app.ui.documents.document_preview import DocumentPreview
from app.ui.window.core_text import translated
from app.ui.window.status_panel import time_left_text
from app.ui.window.theme import warning_colour
from app.ui.workers.inference_worker import ReadResult


def _dropped_document(event: QDragEnterEvent | QDropEvent) -> Path | None:
    urls = event.mimeData().urls()
    if not urls or not urls[0].isLocalFile():
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.suffix.lower() in SUPPORTED_SUFFIXES else None


class DocumentPane(QWidget):
    """Shows the open conversation's document; `choiceChosen(Choice, question)` for the window."""

    choiceChosen = Signal(object, str)

    def __init__(self, documents: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.documents = documents
        self.setAcceptDrops(True)
        self._question = ""
        self._count: Count | None = None  # the open document's count, once known
        self._read_error = ""  # the read-ahead's failure, if it failed
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 8, 4, 8)
        layout.addWidget(QLabel(self.tr("<b>Document</b>"), self))
        row = QHBoxLayout()
        self.open_button = QPushButton(self.tr("Open…"), self)
        self.open_button.clicked.connect(self.choose_file)
        self.paste_button = QPushButton(self.tr("Paste"), self)
        self.paste_button.setToolTip(self.tr("Attach the text on the clipboard"))
        self.paste_button.clicked.connect(self.paste)
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.remove_button.clicked.connect(documents.remove)
        for button in (self.open_button, self.paste_button, self.remove_button):
            row.addWidget(button)
        layout.addLayout(row)
        self.hint = QLabel(self.tr("Drop a file here (text, Markdown, code, HTML, PDF, Word, EPUB), "
                                   "open one, or paste text. It is read whole into the conversation."), self)
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.name = QLabel(self)
        self.name.setWordWrap(True)
        self.facts = QLabel(self)
        self.share = QLabel(self)
        self.share.setWordWrap(True)
        self.warnings = QLabel(self)
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(f"color: {warning_colour()};")
        self.reading = QLabel(self)
        self.reading.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.cancel_button = QPushButton(self.tr("Stop reading"), self)
        self.cancel_button.setToolTip(self.tr("Stop reading the document (Esc)"))
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        for widget in (self.name, self.facts, self.share, self.warnings, self.reading, self.progress,
                       self.cancel_button):
            layout.addWidget(widget)
        self.dropped_box = QWidget(self)  # "the oldest turns are left out" (a choice the user made)
        dropped_row = QHBoxLayout(self.dropped_box)
        dropped_row.setContentsMargins(0, 0, 0, 0)
        self.dropped = QLabel(self.dropped_box)
        self.dropped.setWordWrap(True)
        self.include_button = QPushButton(self.tr("Include them again"), self.dropped_box)
        self.include_button.clicked.connect(documents.include_all_turns)
        dropped_row.addWidget(self.dropped, 1)
        dropped_row.addWidget(self.include_button)
        self.dropped_box.hide()
        layout.addWidget(self.dropped_box)
        self.fit_box = QFrame(self)
        self.fit_box.setFrameShape(QFrame.Shape.StyledPanel)
        self._fit_layout = QVBoxLayout(self.fit_box)
        self.fit_text = QLabel(self.fit_box)
        self.fit_text.setWordWrap(True)
        self._fit_layout.addWidget(self.fit_text)
        self.choice_buttons: list[QPushButton] = []
        layout.addWidget(self.fit_box)
        find = QHBoxLayout()
        self.find_box = QLineEdit(self)
        self.find_box.setPlaceholderText(self.tr("Find in the document"))
        self.find_box.returnPressed.connect(self.find_next)
        self.find_status = QLabel(self)
        find.addWidget(self.find_box, 1)
        find.addWidget(self.find_status)
        layout.addLayout(find)
        self.preview = DocumentPreview(self)
        layout.addWidget(self.preview, 1)
        self.more_button = QPushButton(self)
        self.more_button.clicked.connect(self.preview.show_more)
        self.preview.shownChanged.connect(self._update_more)
        self.more_button.hide()
        layout.addWidget(self.more_button)
        documents.changed.connect(self._changed)
        documents.chat.tools.settingsChanged.connect(self._tools_changed)
        documents.droppedChanged.connect(lambda _cid: self.show_dropped_turns())
        documents.counted.connect(self.show_count)
        documents.loadFailed.connect(self.show_error)
        documents.readProgress.connect(self.show_progress)
        documents.readEnded.connect(self.show_read_end)
        documents.doesNotFit.connect(self.show_fit)
        documents.importingChanged.connect(lambda _on: self.set_activity(documents.chat.activity))
        self.show_document(documents.document())

    def cancel(self) -> None:
        """The pane's own cancel: stop opening a file, or stop reading it ahead (Stop does too)."""
        if self.documents.importing:
            self.documents.cancel_import()
            self.reading.setText(self.tr("Opening stopped."))
        else:
            self.documents.chat.stop()

    def set_activity(self, activity: Activity) -> None:
        """The cancel button shows while a file is opened or the document is read ahead."""
        reading = self.documents.reading and activity is not Activity.STOPPING
        self.cancel_button.setVisible(self.documents.importing or reading)
        self.cancel_button.setText(self.tr("Stop opening") if self.documents.importing
                                   else self.tr("Stop reading"))

    # -- user actions --------------------------------------------------------------------------
    def choose_file(self) -> None:
        kinds = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open a document"), str(start_folder()),
                                              self.tr("Documents (%1);;All files (*)").replace("%1", kinds))
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        if not self.documents.may_replace(self):  # earlier answers were about the attached one
            return
        self.warnings.clear()
        self.reading.setText(self.tr("Opening %1…").replace("%1", path.name))
        self.documents.open_file(path)

    def paste(self) -> None:
        text = QGuiApplication.clipboard().text()
        if not text.strip():
            self.show_error(self.tr("The clipboard holds no text."))
            return
        if not self.documents.may_replace(self):
            return
        self.documents.paste(text)

    def find_next(self) -> bool:
        """Select the next match (wrapping around); False when there is none."""
        text = self.find_box.text()
        if not text:
            return False
        found = self.preview.find_text(text)
        if not found:
            cursor = self.preview.textCursor()
            cursor.movePosition(cursor.MoveOperation.Start)
            self.preview.setTextCursor(cursor)
            found = self.preview.find_text(text)
        self.find_status.setText("" if found else self.tr("Not found"))
        return found

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if _dropped_document(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = _dropped_document(event)
        if path is not None:
            event.acceptProposedAction()
            self.open_path(path)

    # -- what the controller says ----------------------------------------------------------------
    def _changed(self, conversation_id: int) -> None:
        if conversation_id == self.documents.chat.conversation_id:
            self.show_document(self.documents.document())

    def _tools_changed(self, conversation_id: int) -> None:
        """The document search switched: the share says whether the document must fit."""
        if conversation_id == self.documents.chat.conversation_id:
            self._show_share()
            if self.documents.searched_by_tool(conversation_id):
                self.reading.clear()
            else:
                self.documents.start_reading()

    def show_document(self, doc: Document | None) -> None:
        self._count, self._read_error = None, ""
        self.fit_box.hide()
        self.progress.hide()
        self.reading.clear()
        self.find_status.clear()
        self.remove_button.setEnabled(doc is not None)
        self.open_button.setText(self.tr("Replace…") if doc is not None else self.tr("Open…"))
        self.hint.setVisible(doc is None)
        for label in (self.name, self.facts, self.share):
            label.clear()
        self.show_dropped_turns()
        if doc is None:
            self.preview.clear_text()
            self.warnings.clear()
            return
        self.name.setText(doc.name)
        self.name.setToolTip(doc.path)
        self.facts.setText(self.tr("%1 characters · tokens: counting…").replace("%1", f"{doc.characters:,}")
                           if self.documents.has_model() else
                           self.tr("%1 characters · tokens: load a model to count them")
                           .replace("%1", f"{doc.characters:,}"))
        self.warnings.setText("\n".join(translated(w) for w in doc.warnings))
        if self.preview.source_text() != doc.text:
            self.preview.show_text(doc.text)
        known = self.documents.cached_count(doc.sha256)
        if known is not None:
            self.show_count(known)

    def _update_more(self) -> None:
        left = self.preview.remaining_chars()
        self.more_button.setVisible(left > 0)
        self.more_button.setText(self.tr("Show more (%1 of %2 characters shown)")
                                 .replace("%1", f"{self.preview.shown_chars():,}")
                                 .replace("%2", f"{len(self.preview.source_text()):,}"))

    def show_dropped_turns(self) -> None:
        dropped = self.documents.dropped_turns(self.documents.chat.conversation_id)
        self.dropped.setText(self.tr("The model does not see the oldest turn of this conversation "
                                     "(chosen when it did not fit).") if dropped == 1 else
                             self.tr("The model does not see the %1 oldest turns of this conversation "
                                     "(chosen when it did not fit).").replace("%1", str(dropped)))
        self.dropped_box.setVisible(dropped > 0)

    def show_count(self, count: Count) -> None:
        doc = self.documents.document()
        if doc is None or doc.sha256 != count.sha256:
            return
        facts = (self.tr("%1 characters · at least %2 tokens") if count.estimated
                 else self.tr("%1 characters · %2 tokens"))
        self.facts.setText(facts.replace("%1", f"{doc.characters:,}").replace("%2", f"{count.tokens:,}"))
        self._count = count
        self._show_share()
        if self._read_error:
            self._show_read_failure()

    def _show_share(self) -> None:
        """The document's share of the context; what sending will offer only while no choice
        is on show (the choices say what to do then: one sentence of that kind at a time)."""
        count = self._count
        if count is None:
            return
        share = f"{100 * count.tokens / count.n_ctx:.0f}" if count.n_ctx else "?"
        text = (self.tr("Takes %1% of the %2-token context.").replace("%1", share)
                .replace("%2", f"{count.n_ctx:,}"))
        choosing = self.fit_box.isVisibleTo(self)
        if self.documents.searched_by_tool(self.documents.chat.conversation_id):
            text += " " + self.tr("The document search is on: the model searches the document, "
                                  "which is not sent whole, so it does not have to fit.")
        elif count.verdict is Verdict.NEEDS_LARGER and not choosing:
            text += " " + self.tr("With room for an answer it needs a context of %1 tokens; "
                                  "sending will offer it.").replace("%1", f"{count.plan_ctx:,}")
        elif count.verdict is Verdict.DOES_NOT_FIT and not choosing:
            text += " " + self.tr("It is longer than this computer's memory allows (at most %1 tokens); "
                                  "sending will offer to cut it.").replace("%1", f"{count.plan_ctx:,}")
        self.share.setText(text)

    def duration_text(self, seconds: float) -> str:
        return time_left_text(seconds)

    def show_progress(self, done: int, total: int, seconds_left: float) -> None:
        text = (self.tr("Reading the document: %1 / %2 tokens").replace("%1", f"{done:,}")
                .replace("%2", f"{total:,}"))
        left = self.duration_text(seconds_left) if done < total else ""
        self.reading.setText(f"{text}, {left}" if left else text)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setVisible(done < total)

    def show_read_end(self, result: ReadResult) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        state = result.state
        if state == "prefilled":
            source = result.source
            tokens = f"{result.prefix_tokens:,}"
            if source == "saved":
                text = self.tr("Read: %1 tokens, restored from the saved state.")
            elif source == "memory":
                text = self.tr("Read: %1 tokens, already in memory.")
            else:
                text = self.tr("Read: %1 tokens in %2 s; questions now only add to it.") \
                    .replace("%2", f"{result.seconds:.1f}")
            self.reading.setText(text.replace("%1", tokens))
        elif state == "cancelled":
            self.reading.setText(self.tr("Reading stopped."))
        else:
            self._read_error = result.error
            self._show_read_failure()

    def _show_read_failure(self) -> None:
        """Why the read-ahead failed. When the document does not fit the loaded context the
        share (or the choices) already says what to do, so the engine's own hint ("start a new
        conversation…") is not repeated next to it."""
        count = self._count
        if self.fit_box.isVisibleTo(self) or (count is not None and count.verdict is not Verdict.FITS):
            self.reading.setText(self.tr("Not read ahead: the document does not fit the loaded context."))
        else:
            self.reading.setText(self.tr("The document could not be read ahead: %1")
                                 .replace("%1", self._read_error))

    def show_error(self, message: str) -> None:
        self.reading.setText(message)

    def show_fit(self, fit: Fit, question: str) -> None:
        """The question does not fit: say so, with a button per choice (nothing was sent)."""
        plan = fit.plan
        if plan is None:
            return
        self._question = question
        self.fit_text.setText((self.tr(
            "Not sent: the document alone needs at least %1 tokens, far more than any context "
            "holds (the model is loaded with a context of %3). Nothing was cut; choose what to "
            "do:") if fit.estimated else self.tr(
            "Not sent: the document (%1 tokens), the conversation, the question and room for the "
            "answer need %2 tokens, but the model is loaded with a context of %3. Nothing was cut; "
            "choose what to do:")).replace("%1", f"{fit.document_tokens:,}")
            .replace("%2", f"{plan.needed_tokens:,}").replace("%3", f"{plan.current_ctx:,}"))
        for button in self.choice_buttons:
            self._fit_layout.removeWidget(button)
            button.deleteLater()
        self.choice_buttons = []
        for choice in fit.choices:
            self._add_choice(self.choice_text(choice), choice)
        self._add_choice(self.tr("Cancel"), None)
        self.fit_box.show()
        self._show_share()
        if self._read_error:
            self._show_read_failure()

    def choice_text(self, choice: Choice) -> str:
        if choice.kind is ChoiceKind.LARGER_CONTEXT:
            text = self.tr("Reload the model with a context of %1 tokens").replace("%1", f"{choice.n_ctx:,}")
            scaled = getattr(choice.sentence, "args", {}).get("scaled")  # past the trained length
            return f"{text}\n{translated(scaled).strip()}" if scaled else text
        if choice.kind is ChoiceKind.DROP_OLDEST_TURNS:
            if choice.drop_turns == 1:
                return self.tr("Leave out the oldest turn")
            return self.tr("Leave out the %1 oldest turns").replace("%1", str(choice.drop_turns))
        cut = f"{choice.cut_at_char:,}" if choice.cut_at_char is not None else "?"
        return (self.tr("Cut the document at character %1 (keep %2 tokens)").replace("%1", cut)
                .replace("%2", f"{choice.keep_document_tokens:,}"))

    def _add_choice(self, text: str, choice: Choice | None) -> None:
        button = QPushButton(text, self.fit_box)
        button.setStyleSheet("text-align: left; padding: 3px 6px;")
        if choice is not None:
            button.setToolTip(translated(choice.sentence))  # the budget's whole sentence
        button.clicked.connect(lambda _checked=False, c=choice: self._chosen(c))
        self._fit_layout.addWidget(button)
        self.choice_buttons.append(button)

    def _chosen(self, choice: Choice | None) -> None:
        self.fit_box.hide()
        self._show_share()
        if choice is not None:
            self.choiceChosen.emit(choice, self._question)

