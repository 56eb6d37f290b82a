"""The window's columns: the chat is the widest and never collapses; the conversation list, the
document pane and the conversation settings panel can be hidden (View menu, remembered), and the
document pane shows itself when the open conversation has a document or one is being attached."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QSplitter, QWidget

if TYPE_CHECKING:
    from app.ui.window.main_window import MainWindow

CHAT_MIN_WIDTH = 380
# Default widths of the side columns; the chat takes the rest (stretch factor 1).
_WIDTHS = {"list": 220, "document": 300, "side": 250}
_MIN_WIDTHS = {"list": 150, "document": 220, "side": 200}
# The remembered choice per panel (AppSettings field names).
_SETTING = {"list": "show_list", "document": "show_document", "side": "show_side"}


class Panels(QObject):
    """Owns the splitter of one window build; `set_visible` is the one way a column changes."""

    def __init__(self, window: MainWindow, chat: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self.widgets: dict[str, QWidget] = {
            "list": window.conversations, "document": window.document_pane, "side": window.side}
        self._has_document = False
        splitter = QSplitter(window)
        splitter.setObjectName("columns")
        splitter.setChildrenCollapsible(False)
        chat.setMinimumWidth(CHAT_MIN_WIDTH)
        for name, widget in (("list", self.widgets["list"]), ("chat", chat),
                             ("document", self.widgets["document"]), ("side", self.widgets["side"])):
            splitter.addWidget(widget)
            splitter.setStretchFactor(splitter.indexOf(widget), 1 if name == "chat" else 0)
            if name != "chat":
                widget.setMinimumWidth(_MIN_WIDTHS[name])
        self.splitter = splitter
        width = max(window.width(), 800)
        sides = sum(_WIDTHS.values())
        splitter.setSizes([_WIDTHS["list"], max(CHAT_MIN_WIDTH, width - sides),
                           _WIDTHS["document"], _WIDTHS["side"]])
        for name in ("list", "side"):
            self.widgets[name].setVisible(self.wanted(name))
        self.widgets["document"].setVisible(False)

    def wanted(self, name: str) -> bool:
        """The user's remembered choice for a panel."""
        return bool(getattr(self._window.settings, _SETTING[name]))

    def set_visible(self, name: str, visible: bool, *, remember: bool = True) -> None:
        """Show or hide a panel; `remember` stores the choice (the View menu's check follows)."""
        self.widgets[name].setVisible(visible)
        settings = self._window.settings
        if remember and getattr(settings, _SETTING[name]) != visible:
            setattr(settings, _SETTING[name], visible)
            settings.save(self._window.store)
        action = self._window.actions_.get(f"view_{name}") if hasattr(self._window, "actions_") else None
        if action is not None and action.isChecked() != visible:
            action.blockSignals(True)
            action.setChecked(visible)
            action.blockSignals(False)

    def show_document_pane(self) -> None:
        """A document is being attached, dropped or does not fit: the pane comes forward."""
        self.set_visible("document", True)

    def conversation_shown(self, has_document: bool) -> None:
        """The open conversation changed: its document pane shows when it has a document
        (unless the user hid the pane), and hides when it has none."""
        self._has_document = has_document
        self.set_visible("document", has_document and self.wanted("document"), remember=False)
