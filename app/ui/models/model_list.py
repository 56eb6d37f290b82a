"""The list of the model manager: catalog models with their downloads and GGUFs, and added models."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from app.hub.errors import format_bytes
from app.hub.manager import ModelOverview, Phase
from app.hub.registry import LocalModel

_ROLE = Qt.ItemDataRole.UserRole
Key = tuple[str, str, str]
"""(what, catalog id or "", path or ""): what is "catalog", "folder", "gguf", "local" or "group"."""


class ModelList(QTreeWidget):
    """Model | Size | State, one row per catalog model with its files as children."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._in_use: str | None = None
        self.setHeaderLabels([self.tr("Model"), self.tr("Size"), self.tr("State")])
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def populate(self, views: list[ModelOverview], added: list[LocalModel], in_use: str | None) -> None:
        """Redraw from the states (keeps the selection)."""
        selected = self.selected_key()
        self._in_use = in_use
        self.clear()
        for view in views:
            item = self._item(None, ("catalog", view.model.id, ""), view.model.name,
                              format_bytes(view.model.size_bytes), self._state_text(view))
            if view.snapshot is not None:
                self._item(item, ("folder", view.model.id, str(view.snapshot)),
                           self.tr("Checkpoint folder (PyTorch)"),
                           format_bytes(view.hub.bytes_present), self._use_text(view.snapshot))
            for entry in view.ggufs:
                self._item(item, ("gguf", view.model.id, str(entry.path)),
                           self.tr("GGUF {0}").format((entry.gguf_type or "").upper()),
                           format_bytes(entry.size_bytes), self._use_text(entry.path))
            item.setExpanded(True)
        if added:
            group = self._item(None, ("group", "", ""), self.tr("Added by you"), "", "")
            for entry in added:
                state = self._use_text(entry.path) if entry.exists else self.tr("missing")
                self._item(group, ("local", "", str(entry.path)), entry.name,
                           format_bytes(entry.size_bytes), state)
            group.setExpanded(True)
        if selected is not None:
            self.select_key(selected)

    def _item(self, parent: QTreeWidgetItem | None, key: Key, *texts: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(list(texts))
        item.setData(0, _ROLE, key)
        if parent is None:
            self.addTopLevelItem(item)
        else:
            parent.addChild(item)
        return item

    def _state_text(self, view: ModelOverview) -> str:
        phase = view.phase
        if phase is Phase.CONVERTED:
            types = ", ".join((e.gguf_type or "").upper() for e in view.ggufs)
            text = self.tr("Converted ({0})").format(types)
        elif phase is Phase.DOWNLOADED:
            text = self.tr("Downloaded")
        elif phase is Phase.PARTIAL:
            share = view.hub.bytes_present / max(1, view.model.size_bytes)
            text = self.tr("Partly downloaded ({0}%): download to resume").format(int(min(share, 0.99) * 100))
        else:
            text = self.tr("Not downloaded")
        paths = [str(e.path) for e in view.ggufs] + ([str(view.snapshot)] if view.snapshot else [])
        if self._in_use is not None and self._in_use in paths:
            text += self.tr(", in use")
        return text

    def _use_text(self, path: Path) -> str:
        return self.tr("In use") if str(path) == self._in_use else self.tr("Ready")

    def state_of(self, model_id: str) -> str:
        for item in self.all_items():
            if tuple(item.data(0, _ROLE))[:2] == ("catalog", model_id):
                return item.text(2)
        raise KeyError(model_id)

    def set_state(self, model_id: str, text: str) -> None:
        """Show live progress in a catalog model's State column (until the next populate)."""
        for item in self.all_items():
            if tuple(item.data(0, _ROLE))[:2] == ("catalog", model_id):
                item.setText(2, text)

    def selected_key(self) -> Key | None:
        items = self.selectedItems()
        if not items:
            return None
        what, model_id, path = items[0].data(0, _ROLE)
        return (str(what), str(model_id), str(path))

    def select_key(self, key: Key) -> None:
        """Select a row by its key (catalog rows match on the id alone)."""
        for item in self.all_items():
            data = tuple(item.data(0, _ROLE))
            if data == key or (key[0] == "catalog" and data[:2] == key[:2]):
                self.setCurrentItem(item)
                return

    def all_items(self) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            if top is None:
                continue
            found.append(top)
            for j in range(top.childCount()):
                child = top.child(j)
                if child is not None:
                    found.append(child)
        return found
