"""The chat data path: commit the question, build the prompt, stream, checkpoint, finish.

    store (SQLite)  <-  ChatController  ->  InferenceClient (worker thread)
                             |
                         signals to the views (GUI thread)

The user's message is committed before any inference; the reply row is begun at once and
checkpointed every CHECKPOINT_MS while text streams; it ends `complete` with its stats,
`interrupted` (Stop) or `error` (the worker failed; the partial text is kept).
With a document attached (self.documents), a question, an edit and Regenerate are first
checked against the context (nothing is stored, edited or deleted when it does not fit), and
the reply waits while the document is read ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.engine.loader import LoadSpec
from app.engine.types import GenerateRequest
from app.internlm2.chat_format import Sampling
from app.storage import ConversationStore, Message, ReplyStats, Role
from app.ui.app_settings import AppSettings, sampling_from_dict, sampling_to_dict
from app.ui.document_controller import DocumentController, Refused
from app.ui.document_jobs import Fit
from app.ui.inference_worker import InferenceClient
from app.ui.prompting import PromptJob


def stored_stats(data: dict[str, Any]) -> ReplyStats:
    """The worker's stats dict in the store's form."""
    return ReplyStats.from_dict({**data, "tokens_per_s": data.get("tok_s")})


class ChatController(QObject):
    """One conversation at a time is shown; one reply at a time is written."""

    conversationOpened = Signal(int)  # the id, or 0 for none
    conversationsChanged = Signal()  # titles or order changed
    replyStarted = Signal(int, int)  # conversation id, message id (the question is stored)
    replyText = Signal(int, str)  # conversation id, batched text
    replyEnded = Signal(int, int)  # conversation id, message id (final state is stored)
    busyChanged = Signal(bool)
    modelChanged = Signal(dict)  # InferenceClient.loaded's dict, {} when none
    loadFailed = Signal(str)
    notice = Signal(str)  # a sentence for the user (refusals, errors)
    contextUsed = Signal(int, int)  # tokens, n_ctx
    statsReady = Signal(dict)

    CHECKPOINT_MS = 1000

    def __init__(self, store: ConversationStore, client: InferenceClient, settings: AppSettings,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.client = client
        self.settings = settings
        self.model: dict[str, Any] = {}
        self.conversation_id = 0
        self.reply_id = 0
        self.reply_conversation = 0
        self.reply_text = ""
        self._saved_text = ""
        self._stopping = False
        self._loading = False
        self._job: PromptJob | None = None
        self._queued: GenerateRequest | None = None  # waits for the document's reading
        self._deferred_load: LoadSpec | None = None  # waits for a cancelled reading to end
        self.spec: LoadSpec | None = None  # the last model asked for
        self._timer = QTimer(self)
        self._timer.setInterval(self.CHECKPOINT_MS)
        self._timer.timeout.connect(self.checkpoint)
        client.loaded.connect(self._on_loaded)
        client.textReady.connect(self._on_text)
        client.finished.connect(self._on_finished)
        client.failed.connect(self._on_failed)
        client.refused.connect(self.notice)
        self.documents = DocumentController(self)
        self.documents.readEnded.connect(self._after_reading)

    # -- state ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return bool(self.reply_id) or self._loading

    @property
    def loading(self) -> bool:
        return self._loading

    def _busy(self, on: bool) -> None:
        self.busyChanged.emit(on)

    # -- models ---------------------------------------------------------------------------
    def load_model(self, spec: LoadSpec) -> bool:
        if self.busy:
            self.notice.emit(self.tr("Stop the current reply before loading another model."))
            return False
        self._loading = True
        self.spec = spec
        self._busy(True)
        if self.documents.reading:  # stop the reading first; the load follows when it has ended
            self._deferred_load = spec
            self.documents.cancel_reading()
            return True
        if not self.client.load(spec):
            self._loading = False
            self._busy(False)
            return False
        return True

    def _on_loaded(self, info: dict[str, Any]) -> None:
        self._loading = False
        self.model = dict(info)
        self.modelChanged.emit(self.model)
        self._busy(False)
        self.documents.refresh()

    # -- conversations --------------------------------------------------------------------
    def open(self, conversation_id: int) -> None:
        if conversation_id != self.conversation_id:
            self.documents.cancel_reading()
        self.conversation_id = conversation_id
        self.conversationOpened.emit(conversation_id)
        self.documents.refresh()

    def writable(self) -> bool:
        """False, with a sentence in the status bar, when the database is read-only."""
        if not self.store.read_only:
            return True
        self.notice.emit(self.tr(
            "Nothing can be saved: the conversation database is read-only (%1). Conversations "
            "can still be read and exported.").replace("%1", self.store.read_only_reason))
        return False

    def new_conversation(self) -> int:
        """Open a new chat and return its id (0 when the database is read-only). An unused
        one (no message, no document) is reused and moved to the top, so pressing Ctrl+N
        again and again leaves no row of empty chats."""
        if not self.writable():
            return 0
        unused = self.store.conversations.latest_empty()
        if unused is not None:
            self.store.conversations.touch(unused.id)
            chat = unused
        else:
            chat = self.store.conversations.create(
                model=str(self.model.get("model", "")), system_prompt=self.settings.system_prompt,
                sampling=self.settings.sampling)
        self.conversationsChanged.emit()
        self.open(chat.id)
        return chat.id

    def delete(self, conversation_id: int) -> None:
        if not self.writable():
            return
        if conversation_id == self.reply_conversation and self.reply_id:
            self.stop()
        self.store.conversations.delete(conversation_id)
        self.conversationsChanged.emit()
        if conversation_id == self.conversation_id:
            self.open(0)

    def restore(self, conversation_id: int) -> None:
        if not self.writable():
            return
        self.store.conversations.restore(conversation_id)
        self.conversationsChanged.emit()
        self.open(conversation_id)

    def sampling(self) -> Sampling:
        if not self.conversation_id:
            return self.settings.default_sampling()
        chat = self.store.conversations.get(self.conversation_id)
        return sampling_from_dict(chat.sampling, self.settings.default_sampling())

    def set_sampling(self, sampling: Sampling) -> None:
        if self.conversation_id and self.writable():
            self.store.conversations.update(self.conversation_id, sampling=sampling_to_dict(sampling))

    def set_system_prompt(self, text: str) -> None:
        if self.conversation_id and self.writable():
            self.store.conversations.update(self.conversation_id, system_prompt=text)

    # -- a turn ---------------------------------------------------------------------------
    def _can_reply(self) -> bool:
        if not self.writable():
            return False
        if self.busy:
            self.notice.emit(self.tr("A reply is still being written; stop it or wait for it to finish."))
            return False
        if not self.model:
            self.notice.emit(self.tr("No model is loaded. Open a model first."))
            return False
        if self.documents.checking or self.documents.loading:
            self.notice.emit(self.tr("The document is still being checked; send again in a moment."))
            return False
        return True

    def send(self, text: str) -> bool:
        """Commit the question, then ask for the reply. False (nothing stored) when refused."""
        if not text.strip() or not self._can_reply():
            return False
        if not self.conversation_id:
            self.new_conversation()
        cid = self.conversation_id

        def store_question() -> None:
            self.store.messages.add(cid, Role.USER, text)
            self.conversationsChanged.emit()

        return self._when_it_fits(cid, text, store_question)

    def edit_and_resend(self, message_id: int, text: str) -> bool:
        """Replace an earlier question (later turns are deleted) and answer it again."""
        if not text.strip() or not self._can_reply():
            return False
        target = self.store.messages.get(message_id)
        cid = target.conversation_id
        if cid != self.conversation_id:
            self.open(cid)

        def edit() -> None:
            self.store.messages.edit(message_id, text)
            self.open(cid)

        return self._when_it_fits(cid, text, edit, before=target.position,
                                  refused=Refused("edit", text, message_id))

    def regenerate(self) -> bool:
        """Answer the last question again (the last reply is replaced)."""
        if not self.conversation_id or not self._can_reply():
            return False
        cid = self.conversation_id
        questions = [m for m in self.store.messages.list_for(cid) if m.role is Role.USER]
        if not questions:
            return False
        last = questions[-1]

        def drop_last_reply() -> None:
            self.store.messages.truncate_after(last.id)
            self.open(cid)

        return self._when_it_fits(cid, last.text, drop_last_reply, before=last.position,
                                  refused=Refused("regenerate", last.text, last.id))

    def _when_it_fits(self, conversation_id: int, question: str, change: Callable[[], None], *,
                      before: int | None = None, refused: Refused | None = None) -> bool:
        """Make the stored change (add, edit or truncate), then start the reply. With a document
        the prompt is built and checked first, off the GUI thread: when it does not fit, nothing
        is changed (the document pane offers the choices) and when it fits, its prompt is used.
        `before`: the position of the question being answered again (turns after it are left out)."""
        def go(fit: Fit | None) -> None:
            if fit is not None and (conversation_id != self.conversation_id or self.busy):
                self.notice.emit(self.tr("The question was not sent: the conversation changed meanwhile."))
                return
            change()
            self._start_reply(fit.request if fit else None)

        if self.documents.document() is not None:
            return self.documents.check_fit(question, go, before=before, refused=refused)
        go(None)
        return True

    def stop(self) -> None:
        if not self.reply_id:
            return
        if self._queued is not None:  # waiting for the document: the reading itself goes on
            self._end("interrupted", {})
            return
        self._stopping = True
        self.client.cancel()
        if self._job is not None:  # still building the prompt: nothing runs yet
            self._end("interrupted", {})

    def set_checkpoint_interval(self, ms: int) -> None:
        """How often a streaming reply is saved (CHECKPOINT_MS by default; tests go faster)."""
        self._timer.setInterval(ms)

    def abandon(self) -> None:
        """The window closes: stop the reply and store it as interrupted right now."""
        self.documents.cancel_reading()
        self.documents.closed = True
        if self.reply_id:
            self.client.cancel()
            self._end("interrupted", {})

    def _start_reply(self, request: GenerateRequest | None = None) -> None:
        cid = self.conversation_id
        history = self.store.messages.list_for(cid)
        self.reply_id = self.store.messages.begin_reply(cid)
        self.reply_conversation = cid
        self.reply_text = self._saved_text = ""
        self._stopping = False
        self._busy(True)
        self.replyStarted.emit(cid, self.reply_id)
        self._timer.start()
        backend = self.client.worker.backend
        if backend is None:
            self._end("error", {}, self.tr("No model is loaded. Open a model first."))
            return
        if request is not None:
            self._dispatch(request)
            return
        chat = self.store.conversations.get(cid)
        turns = self.documents.prompt_turns(cid, history)
        job = PromptJob(backend.tokenizer, is_chat=bool(self.model.get("is_chat", True)),
                        system=chat.system_prompt, turns=turns, sampling=replace(self.sampling()),
                        document=self.documents.block_for(cid), parent=self)
        job.ready.connect(lambda request, j=job: self._on_prompt(j, request))
        job.failed.connect(lambda message, j=job: self._on_prompt_failed(j, message))
        self._job = job
        job.start()

    def _on_prompt(self, job: PromptJob, request: Any) -> None:
        job.deleteLater()
        if job is not self._job:
            return  # stopped while the prompt was built
        self._job = None
        self._dispatch(request)

    def _dispatch(self, request: GenerateRequest) -> None:
        n_ctx = int(self.model.get("n_ctx", 0))
        self.contextUsed.emit(len(request.prompt_ids), n_ctx)
        if self.documents.reading:  # the question only appends to the prefix being read
            self._queued = request
            self.notice.emit(self.tr("The question will be sent once the document has been read."))
            return
        if not self.client.generate(request):
            self._end("error", {}, self.tr("The model is busy; try again in a moment."))

    def _after_reading(self, _data: dict[str, Any]) -> None:
        spec, self._deferred_load = self._deferred_load, None
        if spec is not None and not self.client.load(spec):
            self._loading = False
            self._busy(False)
        request, self._queued = self._queued, None
        if request is not None and self.reply_id and not self.client.generate(request):
            self._end("error", {}, self.tr("The model is busy; try again in a moment."))

    def _on_prompt_failed(self, job: PromptJob, message: str) -> None:
        job.deleteLater()
        if job is self._job:
            self._end("error", {}, message)

    def _on_text(self, text: str) -> None:
        if not self.reply_id:
            return
        self.reply_text += text
        self.replyText.emit(self.reply_conversation, text)

    def checkpoint(self) -> None:
        """Save the reply so far (cheap: one UPDATE, only when the text changed)."""
        if self.reply_id and self.reply_text != self._saved_text:
            if not self.store.messages.checkpoint(self.reply_id, self.reply_text):
                self.stop()  # the row is gone (the conversation was deleted or edited)
            self._saved_text = self.reply_text

    def _on_finished(self, data: dict[str, Any]) -> None:
        if not self.reply_id:
            return
        stopped = data.get("stop_reason") == "cancelled" or self._stopping
        self.reply_text = str(data.get("text", self.reply_text))
        self._end("interrupted" if stopped else "complete", data)

    def _on_failed(self, message: str) -> None:
        if self._loading:
            self._loading = False
            self.loadFailed.emit(message)
            self._busy(False)
        elif self.reply_id:
            self._end("error", {}, message)
        else:
            self.notice.emit(message)

    def _end(self, state: str, data: dict[str, Any], error: str = "") -> None:
        self._timer.stop()
        reply, cid = self.reply_id, self.reply_conversation
        stats = stored_stats(data) if data else None
        if state == "complete":
            self.store.messages.finish(reply, self.reply_text, stats)
        elif state == "interrupted":
            self.store.messages.interrupt(reply, self.reply_text, stats)
        else:
            self.store.messages.fail(reply, error, self.reply_text, stats)
        self.reply_id = self.reply_conversation = 0
        self._job = None
        self._queued = None
        if data:
            self.statsReady.emit(data)
            total = int(data.get("prompt_tokens", 0)) + int(data.get("new_tokens", 0))
            self.contextUsed.emit(total, int(self.model.get("n_ctx", 0)))
        self.replyEnded.emit(cid, reply)
        self.conversationsChanged.emit()
        self._busy(False)
        if error:
            self.notice.emit(error)

    def message(self, message_id: int) -> Message:
        return self.store.messages.get(message_id)
