"""The document of the open conversation: attach, count, read ahead, check the fit, choices.

    DocumentPane (view)  <-  DocumentController  ->  store.documents, InferenceClient.read_prefix
                                   ^
                             ChatController (asks it before sending; waits for the reading)

One document per conversation (attaching another replaces it). The moment a document is
attached, the conversation opened, or a model loaded, system prompt + document are read
ahead on the inference worker (memory -> saved state -> read); replacing or removing the
document, or switching conversations, cancels that reading. A question sent while it runs
waits for it (ChatController queues the request). The ChatController builds a question's
prompt and checks its fit off the GUI thread; when it does not fit the loaded context, nothing
is sent and `doesNotFit` carries the budget's choices; nothing is ever cut silently. Counts
and the read-ahead's prefix come from the engine's Conversation, whose document ids are
cached per (document, vocabulary): the document is tokenized once.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.documents import DocumentText, read_document, read_pasted_text
from app.engine.activity import Activity
from app.engine.budget import Choice, ChoiceKind
from app.engine.conversation import Conversation
from app.engine.doc_cache import DEFAULT_CAP_BYTES, SETTING_KEY, DocStateCache
from app.engine.tools.registry import ToolSettings
from app.storage import Document, Role
from app.ui.documents import document_notes as notes
from app.ui.documents.document_jobs import (
    Count,
    Fit,
    Loaded,
    count_document,
    read_and_count,
)
from app.ui.workers.background import Background
from app.ui.workers.inference_worker import PrefixJob, ReadResult

if TYPE_CHECKING:
    from app.ui.chat.chat_controller import ChatController

_READER_TAKES_CANCEL = "cancel" in inspect.signature(read_document).parameters


@dataclass(frozen=True)
class Refused:
    """What was not sent because it did not fit, to do again once the user has chosen."""

    kind: str  # "send" (a new question), "edit" (an earlier question, edited) or "regenerate"
    text: str  # the question
    message_id: int = 0  # the edited or regenerated question's message


class DocumentController(QObject):
    """Owned by the ChatController (which owns the app's activity); the pane connects here."""

    changed = Signal(int)  # conversation id whose document was attached, replaced or removed
    counted = Signal(object)  # Count (for the open conversation's document)
    loadFailed = Signal(str)  # a file could not be read (the reader's sentence)
    readProgress = Signal(int, int, float)  # done, total, seconds left (-1 unknown)
    readEnded = Signal(object)  # ReadResult (state prefilled/cancelled/failed)
    readingChanged = Signal(bool)
    importingChanged = Signal(bool)  # a file is being opened (read and counted)
    doesNotFit = Signal(object, str)  # Fit (with plan and choices), the question (not sent)
    droppedChanged = Signal(int)  # conversation id whose left-out oldest turns changed

    def __init__(self, chat: ChatController) -> None:
        super().__init__(chat)
        self.chat = chat
        self.store = chat.store
        self.client = chat.client
        self.counts: dict[str, Count] = {}  # by document sha256 + context
        self.importing = False
        self.closed = False  # set when the window closes: late background results are dropped
        self.refused: Refused | None = None  # the last question that did not fit
        self._job: PrefixJob | None = None
        self._import_cancel: threading.Event | None = None
        self._jobs: set[Background] = set()
        self.client.prefixRead.connect(self._on_read)
        self.client.prefillProgress.connect(self._on_progress)

    # -- the attached document --------------------------------------------------------------
    def document(self, conversation_id: int | None = None) -> Document | None:
        cid = self.chat.conversation_id if conversation_id is None else conversation_id
        docs = self.store.documents.list_for(cid) if cid else []
        return docs[-1] if docs else None

    def dropped_turns(self, conversation_id: int) -> int:
        """How many of the oldest question/answer pairs the prompt leaves out (the user chose
        it when the conversation stopped fitting; stored with the conversation)."""
        return self.store.conversations.get(conversation_id).drop_turns if conversation_id else 0

    def include_all_turns(self) -> None:
        """Undo "leave out the oldest turns" for the open conversation."""
        cid = self.chat.conversation_id
        if cid and self.dropped_turns(cid):
            self.store.conversations.update(cid, drop_turns=0)
            self.droppedChanged.emit(cid)

    def searched_by_tool(self, conversation_id: int) -> bool:
        """The conversation's document search is on: its prompts name the document instead of
        holding it (prompting.py), so its length does not have to fit the context."""
        return bool(conversation_id) and not ToolSettings.from_json(
            self.store.conversations.get(conversation_id).tools).sends_document_whole

    def has_model(self) -> bool:
        return self.chat.model is not None

    def _system(self, conversation_id: int) -> str:
        if not conversation_id:
            return self.chat.settings.system_prompt
        return self.store.conversations.get(conversation_id).system_prompt

    def _conversation(self, conversation_id: int, name: str | None, text: str) -> Conversation:
        """The prefix (system prompt + document) as the engine builds it for the loaded model."""
        model = self.chat.model
        assert model is not None
        tools = ToolSettings.from_json(self.store.conversations.get(conversation_id).tools).specs() \
            if conversation_id else None  # the `<|plugin|>` turn is part of the prefix read ahead
        return Conversation(model, system=self._system(conversation_id), document=text, document_name=name,
                            tools=tools)

    def _answer_tokens(self) -> int:
        return self.chat.sampling().max_new_tokens

    def run(self, fn: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[str], None]) -> None:
        """Run `fn` on a helper thread; `done(result)` or `failed(sentence)` on the GUI thread."""
        job = Background(fn, self)
        self._jobs.add(job)

        def finish(*_: object) -> None:
            self._jobs.discard(job)
            job.deleteLater()

        # A job that ends after the window closed (its store may be closed) is dropped.
        job.done.connect(lambda result: None if self.closed else done(result))
        job.failed.connect(lambda message: None if self.closed else failed(message))
        job.done.connect(finish)
        job.failed.connect(finish)
        job.start()

    # -- importing -----------------------------------------------------------------------------
    def open_file(self, path: Path) -> None:
        """Read a file (and count it) off the GUI thread, then attach it."""
        cancel = threading.Event()
        # The readers stop early on this event where they support it (app/documents/reader.py).
        options: dict[str, Any] = {"cancel": cancel} if _READER_TAKES_CANCEL else {}
        self._import(lambda: read_document(Path(path), **options), cancel)

    def paste(self, text: str) -> None:
        self._import(lambda: read_pasted_text(text), threading.Event())

    def _import(self, read: Callable[[], DocumentText], cancel: threading.Event) -> None:
        if not self.chat.writable():  # read-only database: said, nothing read or attached
            return
        self._set_importing(True)
        self._import_cancel = cancel
        model, system = self.chat.model, self._system(self.chat.conversation_id)
        answer = self._answer_tokens()

        def make(doc: DocumentText) -> Conversation:  # on the job's thread: no store access
            assert model is not None
            return Conversation(model, system=system, document=doc.text, document_name=doc.name)

        def done(loaded: Loaded) -> None:
            if cancel.is_set():
                return self._set_importing(False)
            self._imported(loaded)

        def failed(message: str) -> None:
            self._set_importing(False)
            if not cancel.is_set():
                self.loadFailed.emit(message)

        self.run(lambda: read_and_count(read, model, make, answer), done, failed)

    def cancel_import(self) -> None:
        """The pane's cancel while a file is opened: the reader stops (where it can), nothing is attached."""
        if self._import_cancel is not None and self.importing:
            self._import_cancel.set()
            self._set_importing(False)

    def _set_importing(self, on: bool) -> None:
        if on != self.importing:
            self.importing = on
            self.importingChanged.emit(on)

    def _imported(self, loaded: Loaded) -> None:
        self._set_importing(False)
        if loaded.count is not None:
            self.counts[f"{loaded.count.sha256}:{loaded.count.n_ctx}"] = loaded.count
        self.attach(loaded.document)
    # -- replacing, with a note in the transcript ------------------------------------------------
    def may_replace(self, parent: QWidget | None) -> bool:
        """Ask before replacing the document of a conversation that already has answers (they
        are kept, and the transcript says which document they were about). True: go on."""
        doc = self.document()
        answers = notes.answer_count(self.store.messages.list_for(doc.conversation_id)) if doc else 0
        if doc is None or not answers:
            return True
        text = (self.tr("Replace %1? The earlier answer was about it; it is kept.") if answers == 1 else
                self.tr("Replace %1? The %2 earlier answers were about it; they are kept.")
                .replace("%2", str(answers))).replace("%1", doc.name)
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel
        answer = QMessageBox.question(parent, self.tr("Replace the document"), text, buttons,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _note(self, cid: int, old: Document | None, new_name: str | None) -> None:
        """Leave a note in the transcript when the document changes under earlier answers
        (stored as Role.SYSTEM: shown as a small grey line, never sent to the model)."""
        if not notes.answer_count(self.store.messages.list_for(cid)):
            return
        if old is not None and new_name is not None:
            text = notes.replaced_text(old.name, new_name)
        elif new_name is not None:
            text = notes.attached_text(new_name)
        elif old is not None:
            text = notes.removed_text(old.name)
        else:
            return
        self.store.messages.add(cid, Role.SYSTEM, text)

    def attach(self, doc: DocumentText) -> Document:
        """Attach (replacing the conversation's document) and start reading it ahead."""
        self.cancel_reading()
        cid = self.chat.conversation_id or self.chat.new_conversation()
        olds = self.store.documents.list_for(cid)
        self._note(cid, olds[-1] if olds else None, doc.name)
        for old in olds:
            self.store.documents.remove(old.id)
        stored = self.store.documents.attach(cid, doc.name, doc.text, path=str(doc.path) if doc.path else "",
                                             sha256=doc.sha256, warnings=doc.warnings)
        self.changed.emit(cid)
        self.refresh()
        return stored

    def remove(self) -> None:
        """Detach the open conversation's document (a reading in progress is cancelled)."""
        self.cancel_reading()
        cid = self.chat.conversation_id
        olds = self.store.documents.list_for(cid) if cid else []
        if olds:
            self._note(cid, olds[-1], None)
        for old in olds:
            self.store.documents.remove(old.id)
        self.changed.emit(cid)

    def cut(self, at_char: int) -> None:
        """Replace the document with its first `at_char` characters (the user chose the cut)."""
        doc = self.document()
        if doc is None:
            return
        name = self.tr("%1 (first %2 characters)").replace("%1", doc.name).replace("%2", f"{at_char:,}")
        self.attach(replace(read_pasted_text(doc.text[:at_char], name), path=Path(doc.path) if doc.path else None,
                            warnings=list(doc.warnings)))

    # -- counting --------------------------------------------------------------------------------
    def _count_key(self, sha256: str) -> str:
        model = self.chat.model
        return f"{sha256}:{model.n_ctx if model else 0}"

    def cached_count(self, sha256: str) -> Count | None:
        """The count already made for this document on the loaded context, if any."""
        return self.counts.get(self._count_key(sha256))

    def refresh(self) -> None:
        """Count the open document (cached per hash and context), then read it ahead."""
        doc, model = self.document(), self.chat.model
        if doc is not None and model is not None:
            known = self.counts.get(self._count_key(doc.sha256))
            if known is not None:
                self.counted.emit(known)
            else:
                convo, answer = self._conversation(doc.conversation_id, doc.name, doc.text), self._answer_tokens()
                self.run(lambda: count_document(model, convo, doc.sha256, answer), self._on_count,
                         self.loadFailed.emit)
        self.start_reading()

    def _on_count(self, count: Count) -> None:
        self.counts[f"{count.sha256}:{count.n_ctx}"] = count
        doc = self.document()
        if doc is not None and doc.sha256 == count.sha256:
            self.counted.emit(count)

    # -- reading ahead ---------------------------------------------------------------------------
    @property
    def reading(self) -> bool:
        return self._job is not None

    def start_reading(self) -> bool:
        """Read the open conversation's prefix ahead, if there is a document and the model is idle."""
        doc = self.document()
        if doc is None or self._job is not None or self.chat.activity is not Activity.IDLE \
                or self.chat.model is None or self.client.busy:
            return False
        if self.searched_by_tool(doc.conversation_id):
            return False  # the prompts do not hold the document (prompting.py): nothing to read ahead
        cap = int(self.store.settings.get(SETTING_KEY, DEFAULT_CAP_BYTES))
        job = PrefixJob(doc.conversation_id, self._conversation(doc.conversation_id, doc.name, doc.text),
                        doc.sha256, DocStateCache(cap_bytes=cap))
        if not self.client.read_prefix(job):
            return False
        self._job = job
        self.readingChanged.emit(True)
        return True

    def cancel_reading(self) -> None:
        """Stop the reading ahead (inside the chunk being read); readEnded follows."""
        if self._job is not None:
            self._job.cancel.set()
            self.client.cancel()

    def _on_progress(self, done: int, total: int, left: float) -> None:
        if self._job is not None:
            self.readProgress.emit(done, total, left)

    def _on_read(self, result: ReadResult) -> None:
        self._job = None
        self.readingChanged.emit(False)
        self.readEnded.emit(result)

    # -- a question that does not fit ---------------------------------------------------------------
    def refuse(self, fit: Fit, question: str, refused: Refused) -> None:
        """Nothing was sent or changed: remember what, and let the pane offer the choices."""
        self.refused = refused
        self.doesNotFit.emit(fit, question)

    def apply_choice(self, choice: Choice) -> None:
        """Do what the user chose: reload with a larger context, leave out turns, or cut."""
        if choice.kind is ChoiceKind.LARGER_CONTEXT:
            spec = self.chat.spec
            if spec is not None:
                self.chat.load_model(replace(spec, n_ctx=choice.n_ctx))
        elif choice.kind is ChoiceKind.DROP_OLDEST_TURNS:
            cid = self.chat.conversation_id
            self.store.conversations.update(cid, drop_turns=self.dropped_turns(cid) + choice.drop_turns)
            self.droppedChanged.emit(cid)
        elif choice.kind is ChoiceKind.CUT_DOCUMENT and choice.cut_at_char is not None:
            self.cut(choice.cut_at_char)
