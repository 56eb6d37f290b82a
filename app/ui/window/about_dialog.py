"""Help > About: the app's name, version and licence, the model licence, the bundled third-party licences.

The third-party list is the one the build wrote into the bundle
(resources/third_party_licences.json, app/licences.py); a source run computes it from the
installed packages on a helper thread, so opening the dialog never blocks the window.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME, __version__
from app.ui.window.core_text import translated
from app.ui.workers.background import Background

ROOT = Path(__file__).resolve().parents[3]
LICENSE_FILE = ROOT / "LICENSE"
ICON_FILE = ROOT / "resources" / "icons" / "internlm2-desktop.png"


def app_icon() -> QIcon:
    """The app's icon (an empty icon if the file is missing)."""
    return QIcon(str(ICON_FILE)) if ICON_FILE.exists() else QIcon()


def model_licences() -> list[tuple[str, str]]:
    """(model name, licence note) for each catalog model; empty if the catalog cannot be read."""
    from app.internlm2.catalog import load_catalog

    try:
        return [(m.name, translated(m.licence)) for m in load_catalog()]
    except Exception:  # noqa: BLE001 - the dialog still shows the rest
        return []


def _third_party() -> list[tuple[str, str, str]]:
    """The third-party list (reads the installed packages' metadata: a helper thread's job)."""
    from app.licences import third_party_licences

    try:
        return [(i.name, i.version, i.licence) for i in third_party_licences()]
    except Exception:  # noqa: BLE001 - an empty table says it
        return []


class AboutDialog(QDialog):
    """Three tabs: About, Model licence, Third-party licences."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(self.tr("About %1").replace("%1", APP_NAME))
        self.setWindowIcon(app_icon())
        self.resize(640, 520)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._about_tab(), self.tr("About"))
        self.tabs.addTab(self._model_tab(), self.tr("Model licence"))
        self.third_party = QTableWidget(0, 3, self)
        self.third_party.setObjectName("thirdPartyTable")
        self.third_party.setHorizontalHeaderLabels([self.tr("Package"), self.tr("Version"), self.tr("Licence")])
        self.third_party.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.third_party.verticalHeader().setVisible(False)
        self.third_party.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.tabs.addTab(self.third_party, self.tr("Third-party licences"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self._loader = Background(_third_party, self)  # off the GUI thread (reads package metadata)
        self._loader.done.connect(self._fill_third_party)
        self._loader.start()

    def _about_tab(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        head = QLabel(page)
        head.setPixmap(app_icon().pixmap(64, 64))
        title = QLabel(f"<h2>{APP_NAME} {__version__}</h2>", page)
        frozen = self.tr("packaged app") if getattr(sys, "frozen", False) else self.tr("source run")
        text = QLabel(self.tr("Chat with the InternLM2-1.8B models offline and read long documents "
                              "whole.\n\nLicensed under the Apache License, Version 2.0 (below).\n"
                              "Python %1, %2.").replace("%1", sys.version.split()[0]).replace("%2", frozen),
                      page)
        text.setWordWrap(True)
        licence = QPlainTextEdit(page)
        licence.setTabChangesFocus(True)
        licence.setObjectName("appLicence")
        licence.setReadOnly(True)
        licence.setPlainText(LICENSE_FILE.read_text(encoding="utf-8") if LICENSE_FILE.exists()
                             else "Apache License, Version 2.0: https://www.apache.org/licenses/LICENSE-2.0")
        for widget in (head, title, text, licence):
            layout.addWidget(widget)
        return page

    def _model_tab(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        intro = QLabel(self.tr("The app does not include model weights: you download them from the "
                               "model hub, under their own licence."), page)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        notes = QPlainTextEdit(page)
        notes.setTabChangesFocus(True)
        notes.setObjectName("modelLicences")
        notes.setReadOnly(True)
        notes.setPlainText("\n\n".join(f"{name}\n{note}" for name, note in model_licences()))
        layout.addWidget(notes)
        return page

    def _fill_third_party(self, items: list[tuple[str, str, str]]) -> None:
        self.third_party.setRowCount(len(items))
        for row, values in enumerate(items):
            for col, value in enumerate(values):
                cell = QTableWidgetItem(value)
                cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.third_party.setItem(row, col, cell)
        self.third_party.resizeColumnsToContents()


def show_about(parent: QWidget) -> AboutDialog:
    """Open the About dialog (non-modal) and return it."""
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
