"""Chat > Trash: the conversations and answer versions moved to the trash, to restore or
delete for good.

Deleting a conversation only moves it here (every message is kept); so does "Delete version"
(the version and the turns after it, listed as "A version in «title»: its first words").
"Delete for good" and "Empty the trash" are the only ways a message leaves the database, and
both ask first. Restoring a version shows it again as the chosen one in its conversation.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.storage import ConversationStore

_ID = Qt.ItemDataRole.UserRole
_BRANCH = Qt.ItemDataRole.UserRole + 1  # a version's first message id (0: a conversation)
_WORDS = 60


class TrashDialog(QDialog):
    """Lists the trash; `restored(conversation_id)` when the user brings one back."""

    restored = Signal(int)

    def __init__(self, store: ConversationStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.setWindowTitle(self.tr("Trash"))
        self.resize(520, 380)
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("Deleted conversations and versions stay here, with every message, "
                               "until you delete them for good."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QListWidget(self)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        # A version's line (title, first words, size, when) is long: wrapped, never cut off.
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(lambda _item: self.restore_selected())
        layout.addWidget(self.list, 1)
        self.empty_label = QLabel(self.tr("The trash is empty."), self)
        layout.addWidget(self.empty_label)
        row = QHBoxLayout()
        self.restore_button = QPushButton(self.tr("Restore"), self)
        self.restore_button.clicked.connect(self.restore_selected)
        self.delete_button = QPushButton(self.tr("Delete for good…"), self)
        self.delete_button.clicked.connect(self.delete_selected)
        self.empty_button = QPushButton(self.tr("Empty the trash…"), self)
        self.empty_button.clicked.connect(self.empty)
        for button in (self.restore_button, self.delete_button, self.empty_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for chat in self._store.conversations.list_trash():
            when = chat.deleted_at.astimezone().strftime("%Y-%m-%d %H:%M") if chat.deleted_at else ""
            item = QListWidgetItem(self.tr("%1 (deleted %2)").replace("%1", chat.title or self.tr("New chat"))
                                   .replace("%2", when))
            item.setData(_ID, chat.id)
            item.setData(_BRANCH, 0)
            self.list.addItem(item)
        for branch in self._store.branches.list_trash():
            first = " ".join(branch.message.text.split())
            first = first if len(first) <= _WORDS else first[:_WORDS - 1] + "…"
            stamp = branch.message.trashed
            when = stamp.astimezone().strftime("%Y-%m-%d %H:%M") if stamp else ""
            item = QListWidgetItem(
                self.tr("A version in «%1»: %2 (%n message(s), deleted %3)", "", branch.size)
                .replace("%1", branch.conversation_title or self.tr("New chat"))
                .replace("%2", first).replace("%3", when))
            item.setData(_ID, branch.message.conversation_id)
            item.setData(_BRANCH, branch.message.id)
            self.list.addItem(item)
        empty = self.list.count() == 0
        self.empty_label.setVisible(empty)
        self.list.setVisible(not empty)
        self.empty_button.setEnabled(not empty)
        self._selection_changed()

    def selected_ids(self) -> list[int]:
        """The selected conversations (not the versions)."""
        return [int(item.data(_ID)) for item in self.list.selectedItems() if not item.data(_BRANCH)]

    def selected_versions(self) -> list[tuple[int, int]]:
        """The selected versions: (conversation id, first message id)."""
        return [(int(item.data(_ID)), int(item.data(_BRANCH))) for item in self.list.selectedItems()
                if item.data(_BRANCH)]

    def _selection_changed(self) -> None:
        chosen = bool(self.list.selectedItems())
        self.restore_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def restore_selected(self) -> None:
        for conversation_id, message_id in self.selected_versions():
            self._store.branches.restore(message_id)
            self.restored.emit(conversation_id)
        for conversation_id in self.selected_ids():
            self.restored.emit(conversation_id)
        self.refresh()

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, self.tr("Delete for good"), text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        versions = [message_id for _cid, message_id in self.selected_versions()]
        if (ids or versions) and self._confirm(self.tr(
                "Delete %n item(s) for good? This cannot be undone.", "", len(ids) + len(versions))):
            self._store.conversations.purge(ids)
            self._store.branches.purge(versions)
            self.refresh()

    def empty(self) -> None:
        count = self.list.count()
        if count and self._confirm(self.tr("Delete all %n item(s) in the trash for good? "
                                           "This cannot be undone.", "", count)):
            self._store.branches.purge()
            self._store.conversations.purge()
            self.refresh()
