"""The chat data path and the one state of the app: what it is doing, and one turn end to end.

    store (SQLite)  <-  ChatController  ->  InferenceClient (worker thread)
                             |
                         signals to the views (GUI thread)

`activity` (app.engine.activity.Activity: idle / loading / reading / generating / stopping)
is set here and nowhere else; the composer, the menus, the status bar and the document pane
follow `activityChanged`. Stop (button, Esc, the pane's cancel) stops whatever runs: a
prompt being built, a document being read ahead, a reply waiting for it, a reply streaming.

A turn: the stored conversation becomes the engine's Conversation (`prompting.conversation_for`),
its prompt is built and checked against the context on a helper thread (`document_jobs.check_fit`;
with a document, a prompt that does not fit changes nothing and the pane offers the choices),
then the question is committed, the reply row begun, and the request sent. The streamed text
is checkpointed every CHECKPOINT_MS; the reply ends `complete` with its stats and its exact
token ids (the next prompt holds them, so a follow-up reads only the new question),
`interrupted` (Stop) or `error` (the partial text kept). Nothing written is replaced: the
prompt is the current path, Regenerate adds a new version of the last answer and editing a
question adds a new version of it (app/storage/branches.py); `versions.py` switches them.
A reply that ends with a tool call is handed to the ToolController (tool_controller.py):
permission, the tool on a helper thread, its result as an `environment` turn, then
`continue_reply` builds the prompt after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal

from app.engine.activity import Activity
from app.engine.conversation import Built, Turn
from app.engine.loader import LoadSpec
from app.engine.types import Finished, GenerateRequest, ModelInfo, RopeRebase
from app.engine.types import ReplyStats as EngineStats
from app.internlm2.chat_format import Sampling
from app.settings import AppSettings, sampling_from_dict, sampling_to_dict
from app.storage import ConversationStore, Message, NotFoundError, ReplyStats, Role
from app.storage.tree import path_to
from app.ui.chat.prompting import conversation_for
from app.ui.chat.tool_controller import ToolController, reply_tool
from app.ui.documents.document_controller import DocumentController, Refused
from app.ui.documents.document_jobs import Fit, check_fit
from app.ui.workers.inference_worker import InferenceClient, ReadResult


def stored_stats(stats: EngineStats) -> ReplyStats:
    """The engine's reply figures in the store's form."""
    return ReplyStats.from_dict({**stats.to_dict(), "tokens_per_s": stats.tok_s})


class ChatController(QObject):
    """One conversation at a time is shown; one job at a time runs on the model."""

    conversationOpened = Signal(int)  # the id, or 0 for none
    conversationsChanged = Signal()  # titles or order changed
    replyStarted = Signal(int, int)  # conversation id, message id (the question is stored)
    replyText = Signal(int, str)  # conversation id, batched text
    replyEnded = Signal(int, int)  # conversation id, message id (final state is stored)
    activityChanged = Signal(object)  # Activity
    busyChanged = Signal(bool)  # `busy` changed (loading, generating or stopping)
    modelChanged = Signal(object)  # ModelInfo, or None when no model is loaded (a failed load)
    loadFailed = Signal(str)
    notice = Signal(str)  # a sentence for the user (refusals, errors)
    editTargetGone = Signal(int)  # the message being edited was deleted for good: edit mode ends
    contextUsed = Signal(int, int)  # tokens, n_ctx
    statsReady = Signal(object)  # the engine's ReplyStats of the reply that ended

    CHECKPOINT_MS = 1000

    def __init__(self, store: ConversationStore, client: InferenceClient, settings: AppSettings,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.client = client
        self.settings = settings
        self.model: ModelInfo | None = None
        self.activity = Activity.IDLE
        self.conversation_id = 0
        self.reply_id = 0
        self.reply_conversation = 0
        self.reply_text = ""
        self._saved_text = ""
        self._stopping = False
        self._loading = False  # a load was sent to the worker
        self._prep: object | None = None  # the prompt being built (its token; None: none)
        self._queued: GenerateRequest | None = None  # waits for the document's reading
        self._deferred_load: LoadSpec | None = None  # waits for a cancelled reading to end
        self.spec: LoadSpec | None = None  # the last model asked for
        self._timer = QTimer(self)
        self._timer.setInterval(self.CHECKPOINT_MS)
        self._timer.timeout.connect(self.checkpoint)
        client.loaded.connect(self._on_loaded)
        client.loadFailed.connect(self._on_load_failed)
        client.textReady.connect(self._on_text)
        client.finished.connect(self._on_finished)
        client.failed.connect(self._on_failed)
        client.ropeRebased.connect(self._rope_rebased)
        client.refused.connect(self.notice)
        self.documents = DocumentController(self)
        self.documents.readingChanged.connect(lambda _on: self._settle())
        self.documents.readEnded.connect(self._after_reading)
        self.tools = ToolController(self)

    # -- the one state ----------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Loading, generating or stopping: nothing else may start (a question waits on a reading)."""
        return self.activity in (Activity.LOADING, Activity.GENERATING, Activity.STOPPING)

    @property
    def loading(self) -> bool:
        return self.activity is Activity.LOADING

    def _settle(self) -> None:
        """Set the activity from what still runs (called after anything starts or ends)."""
        running = bool(self.reply_id) or self._prep is not None or self.documents.reading
        if self._stopping and (running or self._loading):
            state = Activity.STOPPING
        elif self._loading or self._deferred_load is not None:
            state = Activity.LOADING
        elif self.reply_id or self._prep is not None:
            state = Activity.GENERATING
        elif self.documents.reading:
            state = Activity.READING
        else:
            state = Activity.IDLE
        if not (running or self._loading):
            self._stopping = False
        if state is not self.activity:
            was_busy = self.busy
            self.activity = state
            self.activityChanged.emit(state)
            if self.busy != was_busy:
                self.busyChanged.emit(self.busy)

    # -- models ---------------------------------------------------------------------------
    def load_model(self, spec: LoadSpec) -> bool:
        if self.busy:
            self.notice.emit(self.tr("Stop the current reply before loading another model."))
            return False
        self.spec = spec
        if self.documents.reading:  # stop the reading first; the load follows when it has ended
            self._deferred_load = spec
            self.documents.cancel_reading()
        elif self.client.load(spec):
            self._loading = True
        else:
            return False
        self._settle()
        return True

    def _on_loaded(self, info: ModelInfo) -> None:
        self._loading = False
        self.model = info
        self._settle()
        self.modelChanged.emit(info)
        self.documents.refresh()

    def _on_load_failed(self, message: str) -> None:
        """The worker unloaded the previous model before trying: no model is loaded now."""
        self._loading = False
        self.model = None
        self._settle()
        self.modelChanged.emit(None)
        self.loadFailed.emit(message)

    # -- conversations --------------------------------------------------------------------
    def open(self, conversation_id: int) -> None:
        if conversation_id != self.conversation_id:
            self.documents.cancel_reading()
        self.conversation_id = conversation_id
        self.conversationOpened.emit(conversation_id)
        self.documents.refresh()

    def _rope_rebased(self, event: RopeRebase) -> None:
        """Why this answer takes longer: the conversation crossed a long-context bucket."""
        if event.length > event.trained:
            text = self.tr("The conversation is now longer than the model's trained %1 tokens: it is read "
                           "again with the long-context scaling for up to %2 tokens, so this answer takes "
                           "longer.")
        else:
            text = self.tr("The conversation fits the model's trained %1 tokens again: it is read again "
                           "with the model's own rope base, so this answer takes longer.")
        self.notice.emit(text.replace("%1", f"{event.trained:,}").replace("%2", f"{event.length:,}"))

    def writable(self) -> bool:
        """False, with a sentence in the status bar, when the database is read-only."""
        if not self.store.read_only:
            return True
        from app.ui.window.core_text import translated  # the reason is a core sentence

        self.notice.emit(self.tr(
            "Nothing can be saved: the conversation database is read-only (%1). Conversations "
            "can still be read and exported.").replace("%1", translated(self.store.read_only_reason)))
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
                model=self.model.model if self.model else "", system_prompt=self.settings.system_prompt,
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
        if self.model is None:
            self.notice.emit(self.tr("No model is loaded. Open a model first."))
            return False
        if self.activity is Activity.STOPPING:
            self.notice.emit(self.tr("Still stopping; send again in a moment."))
            return False
        if not self.activity.can_send:
            self.notice.emit(self.tr("A reply is still being written; stop it or wait for it to finish."))
            return False
        if self.documents.importing:
            self.notice.emit(self.tr("The document is still being opened; send again in a moment."))
            return False
        return True

    def send(self, text: str) -> bool:
        """Commit the question, then ask for the reply. False (nothing stored) when refused."""
        if not text.strip() or not self._can_reply():
            return False
        if not self.conversation_id:
            self.new_conversation()
        cid = self.conversation_id

        def store_question() -> int | None:
            self.store.messages.add(cid, Role.USER, text)
            self.conversationsChanged.emit()
            return None

        return self._prepare(cid, self.store.messages.list_for(cid), text, store_question,
                             Refused("send", text))

    def edit_and_resend(self, message_id: int, text: str) -> bool:
        """Ask an earlier question again as edited: a new version of it, a new branch (the old
        question and its later turns are kept as the other version)."""
        if not text.strip() or not self._can_reply():
            return False
        try:
            target = self.store.messages.get(message_id)
        except NotFoundError:  # deleted for good (Trash) while it was being edited
            self.notice.emit(self.tr("The message being edited no longer exists (it was deleted for good), "
                                     "so nothing was sent. Its text stays in the box: Send asks it as a new "
                                     "question."))
            self.editTargetGone.emit(message_id)
            return False
        cid = target.conversation_id
        if cid != self.conversation_id:
            self.open(cid)

        def edit() -> int | None:
            version = self.store.messages.add_version(message_id, text)
            self.store.branches.show(version)  # even if another branch was shown meanwhile
            return version  # the reply follows the new version

        before = path_to(self.store.messages.tree_for(cid), message_id)[:-1]
        return self._prepare(cid, before, text, edit, Refused("edit", text, message_id))

    def regenerate(self) -> bool:
        """Answer the last question again: a new version of the answer (the others are kept)."""
        if not self.conversation_id or not self._can_reply():
            return False
        cid = self.conversation_id
        messages = self.store.messages.list_for(cid)
        questions = [m for m in messages if m.role is Role.USER]
        if not questions:
            return False
        last = questions[-1]

        def another_version() -> int | None:
            return last.id  # the new reply is a sibling of the shown one, under the question

        before = messages[:messages.index(last)]
        return self._prepare(cid, before, last.text, another_version,
                             Refused("regenerate", last.text, last.id))

    def continue_reply(self, cid: int) -> bool:
        """After a tool's result (the conversation's last turn) the assistant goes on."""
        if cid != self.conversation_id or not self._can_reply():
            return False
        return self._prepare(cid, self.store.messages.list_for(cid), None, lambda: None,
                             Refused("send", ""))

    def run_tool(self, cid: int, work: Callable[[], object], done: Callable[[object], None]) -> None:
        """Run a tool the user allowed on a helper thread (activity: generating; Stop drops it,
        and nothing is stored), then `done(result)` on the GUI thread."""
        token = object()
        self._prep = token
        self._settle()

        def finish(result: object) -> None:
            if self._prep is not token:  # stopped: nothing stored, the call waits again
                waiting = self.tools.pending(cid) if cid == self.conversation_id else 0
                if waiting:
                    self.tools.permissionNeeded.emit(cid, waiting)
                return
            self._prep = None
            self._settle()
            if cid == self.conversation_id:
                done(result)

        def failed(message: str) -> None:
            if self._prep is token:
                self._prep = None
                self._settle()
                self.notice.emit(message)

        self.documents.run(work, finish, failed)

    def _prepare(self, cid: int, before: Sequence[Message], question: str | None,
                 change: Callable[[], int | None], refused: Refused) -> bool:
        """Build the question's prompt off the GUI thread; when it fits, make the stored change
        (add the question or a version of it; it returns the reply's parent, None: the path's
        end) and start the reply with that prompt. When it does not fit (with a
        document), nothing is changed and the document pane offers the budget's choices.
        `question` None: the path ends with a tool's result, and the assistant continues."""
        model = self.model
        assert model is not None
        convo = conversation_for(model, self.store.conversations.get(cid), before,
                                 self.documents.document(cid), replace(self.sampling()))
        path = [*convo.turns, Turn("user", question)] if question is not None else list(convo.turns)
        token = object()
        self._prep = token
        self._settle()

        def done(fit: Fit) -> None:
            if self._prep is not token:
                return  # stopped meanwhile: nothing was stored
            self._prep = None
            self._store_tokenized(fit.built, path)
            if cid != self.conversation_id or self.model is not model:
                self._settle()
                self.notice.emit(self.tr("The question was not sent: the conversation changed meanwhile."))
            elif not fit.fits and question is None:
                self._settle()
                self.notice.emit(self.tr("The tool's result does not fit the model's context, so the answer "
                                         "cannot go on. Ask a shorter question, or load the model with a "
                                         "larger context."))
            elif not fit.fits:
                self._settle()  # idle again before the window puts the question back
                self.documents.refuse(fit, question or "", refused)
            else:
                parent = change()
                self._start_reply(cid, fit.request, parent)
            self._settle()

        def failed(message: str) -> None:
            if self._prep is token:
                self._prep = None
                self._settle()
                self.notice.emit(message)

        self.documents.run(lambda: check_fit(model, convo, path), done, failed)
        return True

    def _store_tokenized(self, built: Built, path: Sequence[Turn]) -> None:
        """Replies that had no ids (imported, older, another vocabulary) keep the ids they were
        tokenized to now: the next prompt is the same, and they are not tokenized again."""
        texts = {t.key: t.text for t in path if t.key}
        for key, ids in built.tokenized.items():
            if key in texts:
                self.store.messages.set_token_ids(key, texts[key], ids, built.vocab)

    def _start_reply(self, cid: int, request: GenerateRequest, parent: int | None = None) -> None:
        self.reply_id = (self.store.messages.begin_reply(cid) if parent is None
                         else self.store.messages.begin_reply(cid, parent_id=parent))
        self.reply_conversation = cid
        self.reply_text = self._saved_text = ""
        self.replyStarted.emit(cid, self.reply_id)
        self._timer.start()
        self.contextUsed.emit(len(request.prompt_ids), self.model.n_ctx if self.model else 0)
        if self.documents.reading:  # the question only appends to the prefix being read
            self._queued = request
            self.notice.emit(self.tr("The question will be sent once the document has been read."))
            return
        if not self.client.generate(request):
            self._end("error", None, self.tr("The model is busy; try again in a moment."))

    def _after_reading(self, _result: ReadResult) -> None:
        spec, self._deferred_load = self._deferred_load, None
        if spec is not None:
            self._loading = self.client.load(spec)
        request, self._queued = self._queued, None
        if request is not None and self.reply_id and not self.client.generate(request):
            self._end("error", None, self.tr("The model is busy; try again in a moment."))
        self._settle()

    def stop(self) -> None:
        """Stop whatever runs: the prompt being built, the reading, the reply (Stop, Esc, the pane)."""
        if not self.activity.can_stop:
            return
        self._stopping = True
        self._prep = None  # a prompt still being built is dropped: nothing was stored
        if self.documents.reading:
            self.documents.cancel_reading()
        if self._queued is not None:  # it waited for the reading: it never started
            self._queued = None
            self._end("interrupted", None)
        elif self.reply_id:
            self.client.cancel()
        self._settle()

    def set_checkpoint_interval(self, ms: int) -> None:
        """How often a streaming reply is saved (CHECKPOINT_MS by default; tests go faster)."""
        self._timer.setInterval(ms)

    def abandon(self) -> None:
        """The window closes: stop the reply and store it as interrupted right now."""
        self.documents.cancel_reading()
        self.documents.closed = True
        self._prep = None
        if self.reply_id:
            self.client.cancel()
            self._end("interrupted", None)

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

    def _on_finished(self, finished: Finished) -> None:
        if not self.reply_id:
            return
        stopped = finished.stats.stop_reason.value == "cancelled" or self._stopping
        self.reply_text = finished.text
        self._end("interrupted" if stopped else "complete", finished)

    def _on_failed(self, message: str) -> None:
        if self.reply_id:
            self._end("error", None, message)
        else:
            self.notice.emit(message)

    def _end(self, state: str, finished: Finished | None, error: str = "") -> None:
        self._timer.stop()
        reply, cid = self.reply_id, self.reply_conversation
        stats = stored_stats(finished.stats) if finished else None
        ids = finished.token_ids if finished else None
        vocab = self.model.vocab if self.model else ""
        tool = None
        if state == "complete" and ids and self.model is not None:
            by_stop = finished is not None and finished.stats.stop_reason.value == "stop_token" \
                and bool(self.tools.settings(cid).enabled)  # tools offered: <|action_end|> stops a reply
            found = reply_tool(self.model.tokenizer, ids, by_stop)  # a call: shown as a call, not as markup
            if found is not None:
                self.reply_text, tool, ids = found
        if state == "complete":
            self.store.messages.finish(reply, self.reply_text, stats, ids, vocab, tool)
        elif state == "interrupted":
            self.store.messages.interrupt(reply, self.reply_text, stats, ids, vocab)
        else:
            self.store.messages.fail(reply, error, self.reply_text, stats)
        self.reply_id = self.reply_conversation = 0
        self._queued = None
        if finished is not None:
            self.statsReady.emit(finished.stats)
            used = finished.stats.prompt_tokens + finished.stats.new_tokens
            self.contextUsed.emit(used, self.model.n_ctx if self.model else 0)
        self.replyEnded.emit(cid, reply)
        self.conversationsChanged.emit()
        self._settle()
        if error:
            self.notice.emit(error)
        if tool is not None and "call" in tool:
            self.tools.reply_ended(cid, reply)

    def message(self, message_id: int) -> Message:
        return self.store.messages.get(message_id)
