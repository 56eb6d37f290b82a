"""Answer versions in the window: the transcript's "‹ 2 / 3 ›" and "Delete version" links,
Alt+Left / Alt+Right (Alt+Up / Alt+Down go to another message with versions), and opening the
branch of a search hit.

The store keeps every version (app/storage/branches.py); this module only asks it to choose
another one and shows the conversation again. Nothing switches while a reply is being
written (the transcript would lose the stream): the status bar says to stop it first. The
keys act on the message the text cursor is in (click it in the transcript, or reach it with
Alt+Up / Alt+Down), else on the last shown message that has versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut

from app.storage import Message
from app.storage.tree import subtree_ids
from app.ui.chat.chat_view import ChatView

if TYPE_CHECKING:
    from app.ui.window.main_window import MainWindow


class VersionSwitcher(QObject):
    """Switches and deletes versions for one window; `attach` it to each new ChatView."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._view: ChatView | None = None
        for keys, step in (("Alt+Left", -1), ("Alt+Right", 1)):
            shortcut = QShortcut(QKeySequence(keys), window)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda step=step: self.switch_focused(step))
        for keys, step in (("Alt+Up", -1), ("Alt+Down", 1)):
            shortcut = QShortcut(QKeySequence(keys), window)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda step=step: self.move_focused(step))

    def attach(self, view: ChatView) -> None:
        self._view = view
        view.versions_of = self._counts
        view.versionRequested.connect(self.switch)
        view.deleteVersionRequested.connect(self.delete)

    def _counts(self, messages: list[Message]) -> dict[int, tuple[int, int]]:
        if not messages:
            return {}
        return self._window.store.messages.version_counts_for(messages[0].conversation_id)

    def _say(self, text: str) -> None:
        self._window.statusBar().showMessage(text, 8000)

    def _may_change(self) -> bool:
        controller = self._window.controller
        if not controller.activity.can_send:
            self._say(self.tr("Stop the reply before switching versions."))
            return False
        return controller.writable()

    def _show_again(self, conversation_id: int, message_id: int) -> None:
        self._window.controller.open(conversation_id)
        if self._view is not None and message_id:
            self._view.scroll_to_message(message_id)

    def switch(self, message_id: int, step: int) -> bool:
        """Show the previous (-1) or next (+1) version of a message; False when there is none."""
        if not self._may_change():
            return False
        store = self._window.store
        chosen = store.branches.switch(message_id, step)
        if chosen is None:
            return False
        self._show_again(store.messages.get(chosen).conversation_id, chosen)
        return True

    def switch_focused(self, step: int) -> bool:
        """Alt+Left / Alt+Right: the message at the text cursor, else the last with versions."""
        view = self._view
        if view is None or not self._window.controller.conversation_id:
            return False
        target = view.message_at_cursor()
        if not target or view.versions(target)[1] < 2:
            with_versions = [i for i in view.shown_ids() if view.versions(i)[1] > 1]
            if not with_versions:
                return False
            target = with_versions[-1]
        return self.switch(target, step)

    def move_focused(self, step: int) -> int:
        """Alt+Up / Alt+Down: go to the previous (-1) or next (+1) shown message that has
        versions, so that Alt+Left / Alt+Right switch it without the mouse; its id, or 0."""
        view = self._view
        if view is None or not self._window.controller.conversation_id:
            return 0
        shown = view.shown_ids()
        with_versions = [i for i in shown if view.versions(i)[1] > 1]
        if not with_versions:
            self._say(self.tr("No message here has other versions."))
            return 0
        current = view.message_at_cursor()
        at = shown.index(current) if current in shown else (len(shown) if step < 0 else -1)
        ahead = [i for i in with_versions if (shown.index(i) < at if step < 0 else shown.index(i) > at)]
        if not ahead:
            return 0
        target = ahead[-1] if step < 0 else ahead[0]
        view.scroll_to_message(target)
        number, count = view.versions(target)
        self._say(self.tr("Version %1 of %2 of this message: Alt+Left / Alt+Right switch it.")
                  .replace("%1", str(number)).replace("%2", str(count)))
        return target

    def delete(self, message_id: int) -> None:
        """Move a version and what follows it to the trash (Chat > Trash brings it back)."""
        if not self._may_change():
            return
        store = self._window.store
        message = store.messages.get(message_id)
        later = len(subtree_ids(store.messages.tree_for(message.conversation_id), message_id)) > 1
        try:
            store.branches.trash(message_id)
        except ValueError:
            self._say(self.tr("This is the only version; delete the conversation to remove it."))
            return
        self._show_again(message.conversation_id, 0)
        self._say(self.tr("The version and the turns after it were moved to the trash "
                          "(Chat > Trash restores it).") if later else
                  self.tr("The version was moved to the trash (Chat > Trash restores it)."))

    def reveal(self, conversation_id: int, message_id: int) -> bool:
        """Make the path run through a message (a search hit in another branch); True when
        the conversation must be shown again. Not while a reply is being written there."""
        store = self._window.store
        if message_id in {m.id for m in store.messages.list_for(conversation_id)}:
            return False
        controller = self._window.controller
        if controller.reply_id and controller.reply_conversation == conversation_id:
            self._say(self.tr("Stop the reply to open the version that matched."))
            return False
        if store.read_only:
            return False
        store.branches.show(message_id)
        return True
