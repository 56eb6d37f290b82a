"""The main window: conversation list | chat (or the welcome page) | document | conversation
settings, with the menus, shortcuts, status bar, model opening (dialog or drag and drop) and settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.engine.activity import Activity
from app.engine.tools.registry import ToolSettings
from app.engine.types import ModelInfo, ReplyStats
from app.internlm2.chat_format import Sampling
from app.paths import start_folder
from app.settings import AppSettings
from app.storage import ConversationStore, Message, Role
from app.ui.chat.chat_controller import ChatController
from app.ui.chat.chat_view import ChatView
from app.ui.chat.composer import Composer
from app.ui.chat.conversation_files import ConversationFiles
from app.ui.chat.conversation_list import ConversationList
from app.ui.chat.side_panel import SidePanel
from app.ui.chat.tool_controller import TOOL_KEYS
from app.ui.chat.versions import VersionSwitcher
from app.ui.documents.document_jobs import Fit
from app.ui.documents.document_pane import DocumentPane
from app.ui.models.welcome import WelcomePage
from app.ui.window.i18n import Translations, resolve_language
from app.ui.window.local_server import LocalServerHost, new_api_key
from app.ui.window.overlay_notice import OverlayNotice
from app.ui.window.status_panel import StatusPanel
from app.ui.window.theme import apply_theme
from app.ui.window.window_menus import WindowMenus
from app.ui.window.window_panels import Panels
from app.ui.workers.inference_worker import InferenceClient


def model_path_from(path: Path) -> Path | None:
    """A dropped or chosen path as a model: a .gguf file, a checkpoint folder (or its
    config.json); None for anything else."""
    if path.is_file() and path.suffix.lower() == ".gguf":
        return path
    if path.is_file() and path.name == "config.json":
        return path.parent
    if path.is_dir():
        return path
    return None


class MainWindow(QMainWindow):
    """Top-level window; the data path lives in `self.controller` (ChatController)."""

    # Made by _build (again after a language or theme change).
    conversations: ConversationList
    document_pane: DocumentPane
    side: SidePanel
    actions_: dict[str, QAction]

    openModelManager = Signal()  # "Download a model…": the model manager connects here
    settingsChanged = Signal(object)  # AppSettings, after the dialog was accepted

    def __init__(self, store: ConversationStore, client: InferenceClient,
                 settings: AppSettings | None = None, translations: Translations | None = None) -> None:
        super().__init__()
        self.store = store
        self.client = client
        self.settings = settings or AppSettings.load(store)
        self.translations = translations or Translations()
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.resize(1200, 760)
        self.controller = ChatController(store, client, self.settings, self)
        self._manager_dialog: Any = None  # ModelManagerDialog, made on first use
        self.openModelManager.connect(self.show_model_manager)
        self.status = StatusPanel(self)
        self.statusBar().addPermanentWidget(self.status)
        c = self.controller
        c.conversationOpened.connect(self._show_conversation)
        c.conversationsChanged.connect(lambda: self.conversations.refresh(c.conversation_id))
        c.replyStarted.connect(self._reply_started)
        c.replyText.connect(self._reply_text)
        c.replyEnded.connect(self._reply_ended)
        c.tools.permissionNeeded.connect(self._tool_permission)
        c.tools.resultAdded.connect(self._tool_result)
        client.callStarted.connect(self._call_started)
        c.activityChanged.connect(lambda _activity: self._activity_changed())
        c.modelChanged.connect(self._model_changed)
        c.loadFailed.connect(self._load_failed)
        c.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
        c.contextUsed.connect(lambda used, n_ctx: self.status.set_context(used, n_ctx))
        c.statsReady.connect(lambda stats: self.status.set_speed(stats.ttft_s, stats.tok_s, stats.new_tokens))
        c.statsReady.connect(self._measure_reading)
        self.prefill_speed: float | None = None  # tokens/s this machine read with the loaded model
        client.prefillProgress.connect(lambda done, total, left: self.status.set_prefill(done, total, left))
        client.loadProgress.connect(self._load_progress)
        c.documents.readEnded.connect(lambda _data: self.status.clear_progress())
        c.documents.doesNotFit.connect(self._does_not_fit)
        c.documents.changed.connect(self._document_changed)
        self._resend_after_load = False
        self._loading_name = ""
        self._pending_model = ""
        self.shortcuts_dialog: QDialog | None = None
        self.trash_dialog: QDialog | None = None
        self.files = ConversationFiles(self)  # File > Export / Import conversation
        self.versions = VersionSwitcher(self)  # "‹ 2 / 3 ›", Alt+Left/Right, a hit's branch
        for keys, decision in TOOL_KEYS:  # the waiting tool call's links, from the keyboard
            key = QShortcut(QKeySequence(keys), self)
            key.setContext(Qt.ShortcutContext.WindowShortcut)
            key.activated.connect(lambda decision=decision: self._tool_key(decision))
        self.local_server = LocalServerHost(client, self)  # Settings > Local server (off by default)
        self.local_server.stateChanged.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.local_server.servingChanged.connect(self._serving_changed)
        self._apply_server_settings()
        self._build()
        self._show_conversation(0)

    # -- building (again after a language change) -----------------------------------------
    def _build(self) -> None:
        self.conversations = ConversationList(self.store, self)
        self.conversations.opened.connect(self.open_conversation)
        self.conversations.newRequested.connect(self.new_conversation)
        self.conversations.deleteRequested.connect(self.delete_conversation)
        self.conversations.undoRequested.connect(self.controller.restore)
        self.conversations.trashRequested.connect(lambda: self.actions_["trash"].trigger())
        self.stack = QStackedWidget(self)
        self.welcome = WelcomePage(self.stack)
        self.welcome.openRequested.connect(self.choose_model)
        self.welcome.downloadRequested.connect(self.openModelManager)
        self.stack.addWidget(self.welcome)
        chat_page = QWidget(self.stack)
        chat_layout = QVBoxLayout(chat_page)
        chat_layout.setContentsMargins(0, 0, 0, 0)
        self.no_model = QWidget(chat_page)
        bar = QVBoxLayout(self.no_model)
        bar.setContentsMargins(12, 6, 12, 0)
        bar.addWidget(QLabel(self.tr("No model is loaded: you can read and search, but not send."), self.no_model))
        open_button = QPushButton(self.tr("Open a model…"), self.no_model)
        open_button.clicked.connect(self.choose_model)
        bar.addWidget(open_button, 0, Qt.AlignmentFlag.AlignLeft)
        chat_layout.addWidget(self.no_model)
        self.view = ChatView(chat_page)
        self.view.setTabChangesFocus(True)  # Tab leaves the transcript; links stay clickable
        self.view.editRequested.connect(self.start_edit)
        self.versions.attach(self.view)
        self.view.toolDecision.connect(self._tool_decision)
        self.view.copied.connect(lambda: self.statusBar().showMessage(self.tr("Copied."), 3000))
        self.view.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
        chat_layout.addWidget(self.view, 1)
        self.load_error = OverlayNotice(self.view)  # why the last load failed, over the transcript's top
        self.load_error.setStyleSheet("color: #b00020;")
        self.composer = Composer(chat_page)
        self.composer.sendRequested.connect(self.send)
        self.composer.stopRequested.connect(self.controller.stop)
        self.composer.regenerateRequested.connect(self.controller.regenerate)
        self.controller.editTargetGone.connect(lambda _id: self.composer.leave_edit())
        chat_layout.addWidget(self.composer)
        self.stack.addWidget(chat_page)
        self.side = SidePanel(self)
        self.side.systemPromptChanged.connect(self.controller.set_system_prompt)
        self.side.samplingChanged.connect(self._sampling_changed)
        self.side.toolSwitched.connect(self._tool_switched)
        self.document_pane = DocumentPane(self.controller.documents, self)
        self.document_pane.choiceChosen.connect(self._fit_choice)
        self.panels = Panels(self, self.stack)
        self.setCentralWidget(self.panels.splitter)
        self.status.set_model(self.controller.model)
        self.menus = WindowMenus(self)
        self.actions_ = self.menus.actions
        self.conversations.refresh(self.controller.conversation_id)

    def retranslate(self) -> None:
        """Rebuild every widget in the current language (the state lives in the controller)."""
        self.menus.dispose()
        if self._manager_dialog is not None and not self._manager_dialog.isVisible():
            self._manager_dialog.deleteLater()  # closed: made again, translated, on next use
            self._manager_dialog = None
        self.statusBar().removeWidget(self.status)
        self.status.deleteLater()
        self.status = StatusPanel(self)
        self.statusBar().addPermanentWidget(self.status)
        self._build()
        self._show_conversation(self.controller.conversation_id)

    # -- conversations ----------------------------------------------------------------------
    def open_conversation(self, conversation_id: int, message_id: int = 0) -> None:
        self.side.flush()
        self.composer.cancel_edit()
        if message_id and self.versions.reveal(conversation_id, message_id):
            self.controller.open(conversation_id)  # the branch that holds the message
        elif conversation_id != self.controller.conversation_id:
            self.controller.open(conversation_id)
        if message_id:
            self.view.scroll_to_message(message_id)

    def new_conversation(self) -> None:
        self.side.flush()
        self.composer.cancel_edit()
        self.controller.new_conversation()
        self.composer.input.setFocus()

    def delete_conversation(self, conversation_id: int) -> None:
        if not self.controller.writable():  # read-only database: said in the status bar
            return
        title = self.store.conversations.get(conversation_id).title
        self.controller.delete(conversation_id)
        self.conversations.show_undo(conversation_id, title)

    def _show_conversation(self, conversation_id: int) -> None:
        c = self.controller
        self.no_model.setVisible(not c.model)
        self.setWindowTitle(APP_NAME)
        if not conversation_id:
            self.stack.setCurrentIndex(1 if c.model else 0)
            self.view.set_document(None)
            self.view.show_messages([])
            self.side.show_settings(self.settings.system_prompt, self.settings.default_sampling())
            self.side.show_tools(ToolSettings())
            self.side.setEnabled(False)
            self.document_pane.show_document(None)
            self.panels.conversation_shown(False)
            self._show_figures([])
            self._activity_changed()
            return
        self.stack.setCurrentIndex(1)
        messages, versions = self.store.messages.shown_for(conversation_id)
        live = c.reply_id if c.reply_conversation == conversation_id else 0
        document = c.documents.document(conversation_id)
        self.view.set_document(document.name if document else None)
        self.view.show_messages(messages, live, c.reply_text if live else "", versions)
        self._show_figures(messages)
        chat = self.store.conversations.get(conversation_id)
        if chat.imported is not None:  # said once, here: the list's row carries the tag
            self.setWindowTitle(self.tr("%1 — Imported conversation").replace("%1", APP_NAME))
        self.side.setEnabled(True)
        self.side.show_settings(chat.system_prompt, c.sampling())
        self.side.show_tools(c.tools.settings(conversation_id))
        self._ask_pending(conversation_id, messages)
        self.document_pane.show_document(document)
        self.panels.conversation_shown(document is not None)
        item = self.conversations.item_for(conversation_id)
        if item is not None and self.conversations.list.currentItem() is not item:
            self.conversations.refresh(conversation_id)
        self._activity_changed()

    def _show_figures(self, messages: list[Message]) -> None:
        """The status bar's context and speed belong to the open conversation and the loaded
        model: the last reply's figures (speed only when this model wrote it), else none."""
        model = self.controller.model
        if model is None:
            self.status.clear_figures()
            return
        stats = [m.stats for m in messages if m.stats is not None and m.stats.prompt_tokens]
        last = stats[-1] if stats else None
        self.status.set_context(last.prompt_tokens + last.new_tokens if last else 0, model.n_ctx)
        if last is not None and last.model == model.model and last.backend == model.backend:
            self.status.set_speed(last.ttft_s or 0.0, last.tokens_per_s or 0.0, last.new_tokens)
        else:
            self.status.clear_speed()

    def _document_changed(self, conversation_id: int) -> None:
        """A document was attached, replaced or removed in the open conversation: the pane
        shows it, and the transcript its note (answers name the document they were about)."""
        if conversation_id != self.controller.conversation_id or not conversation_id:
            return
        document = self.controller.documents.document(conversation_id)
        self.view.set_document(document.name if document else None)
        if not self.view.streaming:
            messages, versions = self.store.messages.shown_for(conversation_id)
            if not self.view.extend_messages(messages, versions=versions):  # only the note
                self.view.show_messages(messages, versions=versions)
        if document is not None:
            self.panels.show_document_pane()

    def _sampling_changed(self, sampling: Sampling) -> None:
        self.controller.set_sampling(sampling)

    # -- a turn -----------------------------------------------------------------------------
    def send(self, text: str) -> None:
        self.side.flush()
        editing = self.composer.editing_id
        ok = (self.controller.edit_and_resend(editing, text) if editing
              else self.controller.send(text))
        if ok:
            self.composer.sent()

    def _does_not_fit(self, _fit: Fit, question: str) -> None:
        """Nothing was sent or changed: an edited question goes back into the composer (still
        editing), a new one too, while the user chooses in the document pane."""
        refused = self.controller.documents.refused
        if refused is not None and refused.kind == "edit":
            self.start_edit(refused.message_id, refused.text)
        elif (refused is None or refused.kind == "send") and not self.composer.input.toPlainText().strip():
            self.composer.input.setPlainText(question)
        self.panels.show_document_pane()
        self.statusBar().showMessage(self.tr("The question was not sent: it does not fit the context. "
                                             "Choose what to do in the document pane."), 15000)

    def _fit_choice(self, choice: Any, question: str) -> None:
        from app.engine.budget import ChoiceKind

        self.controller.documents.apply_choice(choice)
        if choice.kind is ChoiceKind.LARGER_CONTEXT:
            self._resend_after_load = True  # sent once the model is loaded with that context
        else:
            self._retry_refused(question)

    def _retry_refused(self, question: str) -> None:
        """Do again what did not fit: regenerate, or send the composer's text (an edit while the
        composer is still editing, else a new question)."""
        refused = self.controller.documents.refused
        if refused is not None and refused.kind == "regenerate":
            self.controller.regenerate()
            return
        text = self.composer.input.toPlainText() or question
        if text.strip():
            self.send(text)

    def start_edit(self, message_id: int, text: str | None = None) -> None:
        if not self.controller.activity.can_send:
            self.statusBar().showMessage(self.tr("Stop the reply before editing."), 8000)
            return
        msg = self.store.messages.get(message_id)
        later = sum(1 for m in self.store.messages.list_for(msg.conversation_id) if m.position > msg.position)
        self.composer.start_edit(message_id, msg.text if text is None else text, later)

    def _reply_started(self, conversation_id: int, message_id: int) -> None:
        if conversation_id == self.controller.conversation_id:
            self.view.clear_permission()  # a waiting tool call is left unanswered by a new turn
            messages, versions = self.store.messages.shown_for(conversation_id)
            if not self.view.extend_messages(messages, message_id, versions):  # only the new turn
                self.view.show_messages(messages, message_id, "", versions)

    # -- tool calls (app/ui/chat/tool_controller.py) -------------------------------------------
    def _ask_pending(self, conversation_id: int, path: list[Message]) -> None:
        """A call that waits for the user (also after a restart) shows its question."""
        pending = self.controller.tools.pending(conversation_id, path)
        if pending:
            self._tool_permission(conversation_id, pending)

    def _tool_permission(self, conversation_id: int, message_id: int) -> None:
        if conversation_id == self.controller.conversation_id:
            call = (self.store.messages.get(message_id).tool or {}).get("call") or {}
            self.view.show_permission(message_id, str(call.get("name", "")))

    def _tool_switched(self, name: str, on: bool) -> None:
        self.controller.tools.switch(self.controller.conversation_id, name, on)

    def _tool_key(self, decision: str) -> None:
        """Alt+Y / Alt+A / Alt+N: the links of the call that waits in the open conversation."""
        pending = self.controller.tools.pending(self.controller.conversation_id)
        if pending and self.view.asking:
            self._tool_decision(pending, decision)

    def _tool_decision(self, message_id: int, decision: str) -> None:
        if self.controller.tools.decide(message_id, decision):
            self.view.clear_permission()

    def _tool_result(self, conversation_id: int, _message_id: int) -> None:
        if conversation_id == self.controller.conversation_id:
            self.view.clear_permission()
            messages, versions = self.store.messages.shown_for(conversation_id)
            if not self.view.extend_messages(messages, versions=versions):
                self.view.show_messages(messages, versions=versions)

    def _call_started(self) -> None:
        if self.view.streaming and self.controller.reply_conversation == self.controller.conversation_id:
            self.view.append_stream("\n" + self.tr("Preparing a tool call…"))

    def _reply_text(self, conversation_id: int, text: str) -> None:
        if conversation_id == self.controller.conversation_id:
            self.view.append_stream(text)

    def _reply_ended(self, conversation_id: int, message_id: int) -> None:
        self.status.clear_progress()
        if conversation_id == self.controller.conversation_id:
            self.view.end_stream(self.store.messages.get(message_id))

    def _activity_changed(self) -> None:
        """Send/Stop, the Stop menu item, the status bar and the pane follow the one state."""
        c = self.controller
        activity = c.activity
        answering = activity in (Activity.GENERATING, Activity.STOPPING)
        cid = c.conversation_id
        turns = [m for m in self.store.messages.list_for(cid) if m.role is not Role.SYSTEM] \
            if cid and activity.can_send else []  # a document note is not a turn
        last = turns[-1:]
        can_regenerate = bool(last) and last[0].role is Role.ASSISTANT and c.model is not None
        self.composer.set_busy(answering, can_regenerate=can_regenerate)
        self.composer.stop_button.setEnabled(activity is not Activity.STOPPING)
        for key in ("stop", "regenerate"):
            action = self.actions_.get(key)
            if action is not None:
                action.setEnabled(activity.can_stop if key == "stop" else can_regenerate)
        self.status.set_activity(activity)
        self.document_pane.set_activity(activity)

    # -- models -----------------------------------------------------------------------------
    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a model"), str(start_folder(self.settings.model_path)),
            self.tr("Models (*.gguf config.json);;GGUF files (*.gguf);;Checkpoint folder (config.json)"))
        if path:
            self.open_model(Path(path))

    def choose_model_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Open a checkpoint folder"),
                                                str(start_folder(self.settings.model_path)))
        if path:
            self.open_model(Path(path))

    def open_model(self, path: Path) -> bool:
        model = model_path_from(Path(path))
        if model is None:
            self.statusBar().showMessage(self.tr("That is not a model: drop a .gguf file or a checkpoint folder."), 10000)
            return False
        self._loading_name = model.name
        if not self.controller.load_model(self.settings.load_spec(model)):
            return False
        self._pending_model = str(model)
        self.welcome.set_loading(model.name, 0, 0)
        self.status.set_loading(0, 0)
        return True

    def current_model_path(self) -> str:
        """The loaded (or loading) model's file or folder; empty when none."""
        return self._pending_model

    def show_model_manager(self) -> None:
        """Open the model manager (non-modal); a model chosen there loads here."""
        from app.hub.manager import HubSettings, ModelManager
        from app.ui.models.model_manager import ModelManagerDialog

        if self._manager_dialog is None or not self._manager_dialog.isVisible():
            if self._manager_dialog is not None:  # closed: its job thread has ended
                self._manager_dialog.deleteLater()
            manager = ModelManager(HubSettings.from_settings(self.store.settings.get))
            dialog = ModelManagerDialog(manager, self, in_use=self._pending_model)
            dialog.modelChosen.connect(lambda path: self.open_model(Path(path)))
            self._manager_dialog = dialog
        self._manager_dialog.show()
        self._manager_dialog.raise_()

    def _measure_reading(self, stats: ReplyStats) -> None:
        """Keep the reading speed a reply measured (the Needle check sizes itself by it)."""
        read, seconds = stats.prompt_tokens - stats.cached_tokens, stats.prefill_s
        if read >= 32 and seconds > 0:
            self.prefill_speed = read / seconds

    def _load_progress(self, done: int, total: int) -> None:
        self.welcome.set_loading(self._loading_name, done, total)
        self.status.set_loading(done, total)

    def _model_changed(self, info: ModelInfo | None) -> None:
        self.prefill_speed = None  # measured again with this model
        self.status.clear_progress()
        self.status.set_model(info)
        self.status.clear_speed()  # figures of another model do not describe this one
        if info is None:  # a failed load unloaded the previous model: none is there
            self._pending_model = ""
            self._resend_after_load = False
            if self._manager_dialog is not None:
                self._manager_dialog.setInUse("")
            self._show_conversation(self.controller.conversation_id)
            return
        self.welcome.set_idle()
        self.load_error.hide()
        pending = self._pending_model
        if self._manager_dialog is not None:
            self._manager_dialog.setInUse(pending)
        if pending and not self.settings.model_path and not self.store.read_only:
            self.settings.model_path = pending
            self.settings.save(self.store)
        self._show_conversation(self.controller.conversation_id)
        if self._resend_after_load:
            self._retry_refused("")
        self._resend_after_load = False

    def _load_failed(self, message: str) -> None:
        self._resend_after_load = False
        self.status.clear_progress()
        self.welcome.set_error(message)
        self.load_error.show_text(message)
        self.statusBar().showMessage(message, 15000)

    def _dropped(self, event: QDragEnterEvent | QDropEvent) -> tuple[str, Path] | None:
        """What a drop on the window is: ("model", path), ("document", path) or nothing.

        A .gguf file or checkpoint folder loads as the model; a document (txt, md, pdf, docx...)
        goes to the document pane once a model is open (it is read for the open conversation).
        """
        urls = event.mimeData().urls()
        if not urls or not urls[0].isLocalFile():
            return None
        path = Path(urls[0].toLocalFile())
        if model_path_from(path):
            return "model", path
        from app.documents import SUPPORTED_SUFFIXES

        if path.suffix.lower() in SUPPORTED_SUFFIXES and self.stack.currentWidget() is not self.welcome:
            return "document", path
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if self._dropped(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        dropped = self._dropped(event)
        if dropped is None:
            return
        kind, path = dropped
        if kind == "model" and self.open_model(path):
            event.acceptProposedAction()
        elif kind == "document":
            self.panels.show_document_pane()
            self.document_pane.open_path(path)
            event.acceptProposedAction()

    # -- settings and help ------------------------------------------------------------------
    def apply_settings(self, settings: AppSettings) -> None:
        """Store, then apply theme and language at once (model settings on the next load).
        Either change builds the widgets again, so every colour and sentence follows."""
        language_changed = resolve_language(settings.language) != self.translations.language
        theme_changed = settings.theme != self.settings.theme
        self.settings = settings
        self.controller.settings = settings
        if self.controller.writable():  # read-only database: applied for this session only
            settings.save(self.store)
        app = QApplication.instance()
        if isinstance(app, QApplication) and theme_changed:
            apply_theme(app, settings.theme)
        if language_changed:
            self.translations.apply(settings.language)
        if language_changed or theme_changed:
            self.retranslate()
        self._apply_server_settings()
        self.settingsChanged.emit(settings)

    def _apply_server_settings(self) -> None:
        s = self.settings
        if s.server_enabled and not s.server_api_key:  # never serve without a key by accident
            s.server_api_key = new_api_key()
            s.save(self.store)
        self.local_server.configure(s.server_enabled, s.server_port, s.server_api_key)

    def _serving_changed(self, serving: bool) -> None:
        text = self.tr("A program is using the model through the local server; your reply waits its turn.")
        if serving:
            self.statusBar().showMessage(text)
        elif self.statusBar().currentMessage() == text:
            self.statusBar().clearMessage()

    def show_about(self) -> None:
        """Help > About: licences of the app, the model and the bundled packages (issue 7)."""
        from app.ui.window.about_dialog import show_about

        self.about_dialog = show_about(self)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.local_server.stop()
        self.side.flush()
        self.controller.abandon()
        # What the worker still sends (a reading that ends after its cancel) has no window to
        # update: the store may be closed right after this.
        self.controller.blockSignals(True)
        self.controller.documents.blockSignals(True)
        if self._manager_dialog is not None:
            self._manager_dialog.jobs.shutdown()  # a running download pauses, kept for next time
        super().closeEvent(event)
