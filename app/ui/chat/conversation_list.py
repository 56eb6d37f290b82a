"""The left pane: search box, New chat, the conversation list grouped by date (Today,
Yesterday, the last 7 days, then by month; rename in place, delete to the trash with Undo) and
search results: conversations whose title matches, then messages with the matched words
highlighted. A conversation imported from a file carries a small muted "imported" tag at the
right of its row (a tooltip says when); its title stays the row's text, so rename is unchanged."""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta

from PySide6.QtCore import (
    QDate,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.storage import ConversationStore, SearchHit

_ID = Qt.ItemDataRole.UserRole
_MESSAGE = Qt.ItemDataRole.UserRole + 1
_IMPORTED = Qt.ItemDataRole.UserRole + 2  # the tag's text on an imported conversation's row
_MARKS = ("\ue000", "\ue001")  # private-use characters: never in a snippet by accident
UNDO_MS = 15000


def snippet_html(snippet: str) -> str:
    """A search snippet as HTML: escaped, the matches in bold on a highlight."""
    text = html.escape(snippet).replace("\n", " ")
    return (text.replace(_MARKS[0], '<b style="background-color:#ffe58f; color:#000">')
            .replace(_MARKS[1], "</b>"))


def date_group(updated: datetime, today: date) -> str:
    """The list's group for a conversation last updated at `updated` (local time): "today",
    "yesterday", "week" (the 7 days before), else its month as "YYYY-MM"."""
    day = updated.astimezone().date()
    if day >= today:
        return "today"
    if day == today - timedelta(days=1):
        return "yesterday"
    if day > today - timedelta(days=7):
        return "week"
    return f"{day.year:04d}-{day.month:02d}"


class _TagDelegate(QStyledItemDelegate):
    """Paints a row as usual, its title elided short enough to leave room, at the right, for
    the row's tag (`_IMPORTED`) in the theme's muted colour (the highlighted text colour when
    the row is selected, so it stays readable in light and dark themes)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        tag = index.data(_IMPORTED)
        if not tag:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        metrics = opt.fontMetrics
        tag_width = metrics.horizontalAdvance(str(tag)) + 12
        room = max(0, opt.rect.width() - tag_width - 12)
        opt.text = metrics.elidedText(opt.text, Qt.TextElideMode.ElideRight, room)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText
        painter.save()
        painter.setPen(opt.palette.color(role))
        painter.setFont(opt.font)
        tag_rect = opt.rect.adjusted(opt.rect.width() - tag_width, 0, -6, 0)
        painter.drawText(tag_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), str(tag))
        painter.restore()


class ConversationList(QWidget):
    """Emits `opened(conversation_id, message_id)`; message_id is 0 unless from a search hit."""

    opened = Signal(int, int)
    newRequested = Signal()
    deleteRequested = Signal(int)
    undoRequested = Signal(int)
    trashRequested = Signal()

    def __init__(self, store: ConversationStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._filling = False
        self._deleted = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        self.new_button = QPushButton(self.tr("New chat"), self)
        self.new_button.setToolTip(self.tr("Start a new conversation (Ctrl+N)"))
        self.new_button.clicked.connect(self.newRequested)
        layout.addWidget(self.new_button)
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText(self.tr("Search all conversations (Ctrl+F)"))
        self.search_box.setClearButtonEnabled(True)
        layout.addWidget(self.search_box)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.run_search)
        self.search_box.textChanged.connect(lambda _text: self._search_timer.start())
        self.list = QListWidget(self)
        self.list.setObjectName("conversations")
        self.list.setStyleSheet("QListWidget#conversations::item { padding: 3px 2px; }")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(True)
        self.list.setItemDelegate(_TagDelegate(self.list))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemChanged.connect(self._renamed)
        self.list.currentItemChanged.connect(self._current_changed)
        layout.addWidget(self.list, 1)
        self.results = QListWidget(self)
        self.results.setObjectName("searchResults")
        self.results.setWordWrap(True)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.itemClicked.connect(self._hit_chosen)
        self.results.itemActivated.connect(self._hit_chosen)
        self.results.hide()
        layout.addWidget(self.results, 1)
        self.no_hits = QLabel(self)
        self.no_hits.setWordWrap(True)
        self.no_hits.hide()
        layout.addWidget(self.no_hits)
        self._undo_bar = QWidget(self)
        undo_row = QHBoxLayout(self._undo_bar)
        undo_row.setContentsMargins(0, 0, 0, 0)
        self.undo_label = QLabel(self.tr("Conversation moved to the trash."), self._undo_bar)
        self.undo_label.setWordWrap(True)
        self.undo_button = QPushButton(self.tr("Undo"), self._undo_bar)
        self.undo_button.clicked.connect(self._undo)
        self.trash_button = QPushButton(self.tr("Trash…"), self._undo_bar)
        self.trash_button.setToolTip(self.tr("Open the trash: restore or delete for good"))
        self.trash_button.clicked.connect(self.trashRequested)
        undo_row.addWidget(self.undo_label, 1)
        undo_row.addWidget(self.undo_button)
        undo_row.addWidget(self.trash_button)
        self._undo_bar.hide()
        layout.addWidget(self._undo_bar)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(self._undo_bar.hide)
        rename = QAction(self.tr("Rename"), self.list)
        rename.setShortcut(Qt.Key.Key_F2)
        rename.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        rename.triggered.connect(self.rename_current)
        delete = QAction(self.tr("Delete"), self.list)
        delete.setShortcut(Qt.Key.Key_Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self.delete_current)
        self.list.addActions([rename, delete])

    # -- the list -------------------------------------------------------------------------
    def refresh(self, current: int = 0) -> None:
        """Reload titles and order from the store under date headings; keep `current` selected."""
        self._filling = True
        try:
            self.list.clear()
            today = datetime.now().astimezone().date()
            group = ""
            for chat in self._store.conversations.list_recent():
                heading = date_group(chat.updated, today)
                if heading != group:
                    group = heading
                    self.list.addItem(self._heading(heading))
                item = QListWidgetItem(chat.title or self.tr("New chat"))
                item.setData(_ID, chat.id)
                item.setToolTip(chat.title)
                if chat.imported is not None:
                    item.setData(_IMPORTED, self.tr("imported"))
                    day = chat.imported.astimezone().date()
                    when = self.locale().toString(QDate(day.year, day.month, day.day),
                                                  QLocale.FormatType.ShortFormat)
                    item.setToolTip(self.tr("%1\nImported from a file on %2").replace(
                        "%1", chat.title or self.tr("New chat")).replace("%2", when))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
                if chat.id == current:
                    self.list.setCurrentItem(item)
        finally:
            self._filling = False

    def _heading(self, group: str) -> QListWidgetItem:
        """A date heading: not selectable, skipped by the arrow keys."""
        names = {"today": self.tr("Today"), "yesterday": self.tr("Yesterday"),
                 "week": self.tr("Previous 7 days")}
        if group in names:
            text = names[group]
        else:
            year, month = (int(part) for part in group.split("-"))
            text = self.locale().toString(QDate(year, month, 1), "MMMM yyyy")
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF() * 0.9, 7.0))
        item.setFont(font)
        return item

    def headings(self) -> list[str]:
        """The date headings shown, top to bottom (for tests)."""
        return [self.list.item(row).text() for row in range(self.list.count())
                if self.list.item(row).data(_ID) is None]

    def conversation_ids(self) -> list[int]:
        """The conversations listed, top to bottom (headings left out)."""
        ids = (self.list.item(row).data(_ID) for row in range(self.list.count()))
        return [int(cid) for cid in ids if cid is not None]

    def imported_ids(self) -> list[int]:
        """The listed conversations that carry the "imported" tag, top to bottom."""
        items = (self.list.item(row) for row in range(self.list.count()))
        return [int(item.data(_ID)) for item in items if item.data(_IMPORTED)]

    def current_id(self) -> int:
        item = self.list.currentItem()
        return int(item.data(_ID)) if item is not None and item.data(_ID) is not None else 0

    def item_for(self, conversation_id: int) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_ID) == conversation_id:
                return item
        return None

    def _current_changed(self, item: QListWidgetItem | None, _previous: object) -> None:
        if not self._filling and item is not None and item.data(_ID) is not None:
            self.opened.emit(int(item.data(_ID)), 0)

    def rename_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _renamed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        title = item.text().strip()
        self._store.conversations.rename(int(item.data(_ID)), title)
        if not title:
            self._filling = True
            item.setText(self.tr("New chat"))
            self._filling = False

    def delete_current(self) -> None:
        cid = self.current_id()
        if cid:
            self.deleteRequested.emit(cid)

    def show_undo(self, conversation_id: int, title: str) -> None:
        self._deleted = conversation_id
        self.undo_label.setText(self.tr("“%1” moved to the trash.").replace("%1", title or self.tr("New chat")))
        self._undo_bar.show()
        self._undo_timer.start(UNDO_MS)

    def _undo(self) -> None:
        if self._deleted:
            self.undoRequested.emit(self._deleted)
        self._deleted = 0
        self._undo_bar.hide()

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        self.list.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction(self.tr("Rename"), self.rename_current)
        menu.addAction(self.tr("Delete"), self.delete_current)
        menu.popup(self.list.viewport().mapToGlobal(pos))

    # -- search ---------------------------------------------------------------------------
    def run_search(self) -> None:
        query = self.search_box.text()
        self.results.clear()
        searching = bool(query.strip())
        self.list.setVisible(not searching)
        self.results.setVisible(searching)
        titles = self._store.conversations.matching_title(query) if searching else []
        hits = self._store.search(query, markers=_MARKS) if searching else []
        self.no_hits.setText(self.tr("No conversation or message matches “%1”.").replace("%1", query.strip()))
        self.no_hits.setVisible(searching and not hits and not titles)
        for chat in titles:
            self._add_title_hit(chat.id, chat.title)
        for hit in hits:
            self._add_hit(hit)

    def _add_title_hit(self, conversation_id: int, title: str) -> None:
        item = QListWidgetItem(self.results)
        item.setData(_ID, conversation_id)
        item.setData(_MESSAGE, 0)
        label = QLabel(f"<b>{html.escape(title)}</b><br><i>{html.escape(self.tr('title matches'))}</i>")
        self._show_label(item, label)

    def _add_hit(self, hit: SearchHit) -> None:
        item = QListWidgetItem(self.results)
        item.setData(_ID, hit.conversation_id)
        item.setData(_MESSAGE, hit.message_id)
        label = QLabel(f"<b>{html.escape(hit.conversation_title or self.tr('New chat'))}</b><br>"
                       f"{snippet_html(hit.snippet)}")
        self._show_label(item, label)

    def _show_label(self, item: QListWidgetItem, label: QLabel) -> None:
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setContentsMargins(4, 3, 4, 3)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        item.setSizeHint(label.sizeHint())
        self.results.setItemWidget(item, label)

    def hit_labels(self) -> list[str]:
        labels = []
        for row in range(self.results.count()):
            widget = self.results.itemWidget(self.results.item(row))
            if isinstance(widget, QLabel):
                labels.append(widget.text())
        return labels

    def _hit_chosen(self, item: QListWidgetItem) -> None:
        self.opened.emit(int(item.data(_ID)), int(item.data(_MESSAGE)))

    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()
