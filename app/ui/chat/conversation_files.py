"""File > Export conversation… (Markdown or JSON) and File > Import conversation… (JSON).

The store does the formats (`export_markdown`, `export_json`, `import_json`); this module asks
for the file, writes it atomically (QSaveFile: a failed or cancelled write never leaves half a
file where an old one was) and tells the user what happened, in a sentence.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSaveFile, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.errors import UserError
from app.paths import start_folder
from app.sentences import say
from app.storage import Role
from app.storage.export import Archive, parse_archive
from app.ui.window.core_text import error_text

if TYPE_CHECKING:
    from app.ui.window.main_window import MainWindow

IMPORT_MAX_BYTES = 64 * 1024 * 1024  # an export holds at most a few documents of 200K chars


class FileWriteError(UserError):
    """The export could not be written where the user asked."""


def write_atomically(path: Path, text: str) -> None:
    """Write UTF-8 text through QSaveFile: the old file stays until the new one is complete."""
    out = QSaveFile(str(path))
    if not out.open(QSaveFile.OpenModeFlag.WriteOnly):
        raise FileWriteError(say("Could not write {path}.", path=str(path)),
                             say("Choose another folder, or check that you may write there."),
                             detail=out.errorString())
    data = text.encode("utf-8")
    if out.write(data) != len(data) or not out.commit():
        reason = out.errorString()
        out.cancelWriting()
        raise FileWriteError(say("Could not write {path}.", path=str(path)),
                             say("Check the free disk space and try again."), detail=reason)


def _read_archive(path: Path) -> Archive:
    """Read and check an export (on a helper thread: no store, no widgets)."""
    try:
        if path.stat().st_size > IMPORT_MAX_BYTES:
            raise UserError(say("{name} is too large to be an exported conversation.", name=path.name),
                            say("Choose a .json file written by Export conversation."))
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(say("Could not read {path}.", path=str(path)),
                        say("Check that the file is still there and that you may read it."),
                        detail=str(exc.strerror or exc)) from exc
    return parse_archive(data)


def suggested_name(title: str, suffix: str) -> str:
    """A file name from a conversation title (no path separators or odd characters)."""
    stem = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", " ", title).strip().strip(".")
    stem = " ".join(stem.split())[:80] or "conversation"
    return f"{stem}.{suffix}"


class ConversationFiles(QObject):
    """The export and import actions of one window (menus call export_current/import_file)."""

    importEnded = Signal(int)  # the imported conversation's id; 0: nothing was imported

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._folder = str(start_folder())
        self.last_message: QMessageBox | None = None

    # -- export -----------------------------------------------------------------------------
    def markdown_labels(self) -> dict[str, str]:
        """The Markdown transcript's words in the user's language."""
        return {
            "untitled": self.tr("Untitled conversation"), "model": self.tr("Model"),
            "created": self.tr("Created"), "system_prompt": self.tr("System prompt"),
            "documents": self.tr("Attached documents"), "characters": self.tr("characters"),
            "interrupted": self.tr("(stopped before the end)"), "error": self.tr("Error"),
            "tokens": self.tr("tokens"), "first_token": self.tr("first token"),
            "other_versions": self.tr("Other versions not shown here: %1 (the JSON export keeps them all)."),
            Role.SYSTEM.value: self.tr("System"), Role.USER.value: self.tr("User"),
            Role.ASSISTANT.value: self.tr("Assistant"), Role.ENVIRONMENT.value: self.tr("Tool output"),
        }

    def export_current(self) -> None:
        """Ask where (and Markdown or JSON), then write the shown conversation."""
        window = self._window
        cid = window.controller.conversation_id
        if not cid:
            window.statusBar().showMessage(self.tr("Open a conversation to export it."), 8000)
            return
        title = window.store.conversations.get(cid).title
        markdown, json_filter = self.tr("Markdown (*.md)"), self.tr("JSON, can be imported again (*.json)")
        start = str(Path(self._folder) / suggested_name(title, "md"))
        path, chosen = QFileDialog.getSaveFileName(window, self.tr("Export conversation"), start,
                                                   f"{markdown};;{json_filter}")
        if not path:
            return
        target = Path(path)
        as_json = target.suffix.lower() == ".json" or (chosen == json_filter and target.suffix.lower() != ".md")
        if not target.suffix:
            target = target.with_suffix(".json" if as_json else ".md")
        self.export_to(cid, target, "json" if as_json else "markdown")

    def export_to(self, conversation_id: int, path: Path, fmt: str) -> bool:
        """Write one conversation as 'markdown' or 'json'; the outcome goes to the user."""
        window = self._window
        if conversation_id == window.controller.reply_conversation:
            window.controller.checkpoint()  # a streaming reply goes out as far as it got
        store = window.store
        text = (store.export_json(conversation_id) if fmt == "json"
                else store.export_markdown(conversation_id, self.markdown_labels()))
        try:
            write_atomically(path, text)
        except FileWriteError as exc:
            self._warn(error_text(exc))
            return False
        self._folder = str(path.parent)
        window.statusBar().showMessage(self.tr("Exported to %1.").replace("%1", str(path)), 10000)
        return True

    # -- import -----------------------------------------------------------------------------
    def import_file(self) -> None:
        """Ask for an exported JSON file and add it as a new conversation."""
        path, _chosen = QFileDialog.getOpenFileName(
            self._window, self.tr("Import conversation"), self._folder,
            self.tr("Exported conversations (*.json);;All files (*)"))
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> None:
        """Import one exported conversation and open it. The file is read and checked off the
        GUI thread (up to IMPORT_MAX_BYTES of JSON, maybe a tree of 100,000 versions); the
        checked archive is then written in one transaction. `importEnded(id)` says how it went
        (0, and a sentence to the user, when nothing was imported)."""
        self._window.statusBar().showMessage(self.tr("Importing %1…").replace("%1", path.name))
        self._window.controller.documents.run(
            lambda: _read_archive(path),
            lambda archive: self._write_import(path, archive),
            lambda sentence: self._import_failed(path, sentence))

    def _write_import(self, path: Path, archive: Archive) -> None:
        window = self._window
        try:
            cid = window.store.import_archive(archive)
        except UserError as exc:
            self._import_failed(path, error_text(exc))
            return
        self._folder = str(path.parent)
        window.controller.conversationsChanged.emit()
        window.open_conversation(cid)
        window.statusBar().showMessage(self.tr("Imported “%1”.").replace(
            "%1", window.store.conversations.get(cid).title), 10000)
        self.importEnded.emit(cid)

    def _import_failed(self, path: Path, sentence: str) -> None:
        self._window.statusBar().clearMessage()
        self._warn(self.tr("Could not import %1: %2").replace("%1", path.name).replace("%2", sentence))
        self.importEnded.emit(0)

    def _warn(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Export and import"), text,
                          QMessageBox.StandardButton.Ok, self._window)
        box.setModal(False)
        box.show()
        self.last_message = box
