"""The main window's menus and keyboard shortcuts (Ctrl+N, Ctrl+F, Esc, Ctrl+O, F1, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from app.ui.window.settings_dialog import SettingsDialog, ShortcutsDialog

if TYPE_CHECKING:
    from app.ui.window.main_window import MainWindow


def _settings(window: MainWindow) -> None:
    dialog = SettingsDialog(window.settings, window)
    dialog.setObjectName("settingsDialog")
    if dialog.exec():
        window.apply_settings(dialog.result_settings())
    dialog.deleteLater()


def _shortcuts(window: MainWindow) -> None:
    dialog = ShortcutsDialog(window)
    dialog.setObjectName("shortcutsDialog")
    dialog.setModal(False)
    dialog.show()
    window.shortcuts_dialog = dialog


def _needle(window: MainWindow) -> None:
    from pathlib import Path

    from app.ui.window.needle_dialog import NeedleDialog

    model = window.current_model_path()
    dialog = NeedleDialog(Path(model) if model else None, window, prefill_tok_s=window.prefill_speed)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()


def _trash(window: MainWindow) -> None:
    from app.ui.chat.trash_dialog import TrashDialog

    dialog = TrashDialog(window.store, window)
    dialog.setObjectName("trashDialog")
    dialog.restored.connect(window.controller.restore)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    window.trash_dialog = dialog


def _attach(window: MainWindow) -> None:
    window.panels.show_document_pane()
    window.document_pane.choose_file()


class WindowMenus(QObject):
    """Creates the menu bar of a window; `actions` by name (tests and the window use them)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.actions: dict[str, QAction] = {}
        bar = window.menuBar()
        self._menus = {"file": bar.addMenu(self.tr("&File")), "chat": bar.addMenu(self.tr("&Chat")),
                       "view": bar.addMenu(self.tr("&View")), "help": bar.addMenu(self.tr("&Help"))}
        w = window
        self._add("file", "new", self.tr("New conversation"), w.new_conversation, QKeySequence.StandardKey.New)
        self._add("file", "open", self.tr("Open a model…"), w.choose_model, QKeySequence.StandardKey.Open)
        self._add("file", "open_folder", self.tr("Open a checkpoint folder…"), w.choose_model_folder)
        self._add("file", "download", self.tr("Download a model…"), w.openModelManager.emit)
        self._menus["file"].addSeparator()
        self._add("file", "export", self.tr("Export conversation…"), w.files.export_current, "Ctrl+S")
        self._add("file", "import", self.tr("Import conversation…"), w.files.import_file)
        self._menus["file"].addSeparator()
        self._add("file", "settings", self.tr("Settings…"), lambda: _settings(w), "Ctrl+,")
        self._menus["file"].addSeparator()
        self._add("file", "quit", self.tr("Quit"), w.close, QKeySequence.StandardKey.Quit)
        self._add("chat", "search", self.tr("Search conversations"), w.conversations.focus_search,
                  QKeySequence.StandardKey.Find)
        self._add("chat", "stop", self.tr("Stop the reply"), w.controller.stop, "Esc")
        self._add("chat", "regenerate", self.tr("Regenerate the last reply"), w.controller.regenerate)
        self._add("chat", "rename", self.tr("Rename conversation"), w.conversations.rename_current)
        self._add("chat", "delete", self.tr("Delete conversation"), w.conversations.delete_current)
        self._add("chat", "trash", self.tr("Trash…"), lambda: _trash(w))
        self._panel("list", self.tr("Conversation list"), "Ctrl+Shift+L")
        self._panel("document", self.tr("Document panel"), "Ctrl+Shift+D")
        self._panel("side", self.tr("Conversation settings panel"), "Ctrl+Shift+P")
        self._add("file", "attach", self.tr("Attach a document…"), lambda: _attach(w))
        self._add("help", "needle", self.tr("Needle-in-a-haystack check…"), lambda: _needle(w))
        self._add("help", "shortcuts", self.tr("Keyboard shortcuts"), lambda: _shortcuts(w), "F1")
        self._add("help", "about", self.tr("About"), w.show_about)
        self.actions["stop"].setEnabled(False)

    def dispose(self) -> None:
        """Remove the menus and their actions (before the window builds new ones)."""
        self._window.menuBar().clear()
        for action in self.actions.values():
            action.setShortcut(QKeySequence())
            action.deleteLater()
        for menu in self._menus.values():
            menu.deleteLater()
        self.deleteLater()

    def _panel(self, name: str, text: str, shortcut: str) -> None:
        """A checkable View item that shows or hides a column (the choice is remembered)."""
        action = QAction(text, self._window)
        action.setCheckable(True)
        action.setChecked(self._window.panels.widgets[name].isVisibleTo(self._window))
        action.setShortcut(QKeySequence(shortcut))
        action.toggled.connect(lambda checked: self._window.panels.set_visible(name, checked))
        self._menus["view"].addAction(action)
        self.actions[f"view_{name}"] = action

    def _add(self, menu: str, key: str, text: str, slot: Callable[[], object],
             shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None) -> None:
        action = QAction(text, self._window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        self._menus[menu].addAction(action)
        self.actions[key] = action
