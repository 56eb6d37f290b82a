"""Translations: the app's compiled .qm (resources/translations) and Qt's own, per language."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

TRANSLATIONS_DIR = Path(__file__).resolve().parents[3] / "resources" / "translations"
CATALOG = "internlm2_desktop"


def system_language(locale_name: str | None = None) -> str:
    """The catalogue for the desktop's language: Simplified Chinese for any zh_*, else English."""
    name = QLocale.system().name() if locale_name is None else locale_name
    return "zh_CN" if name.lower().startswith("zh") else "en"


def resolve_language(setting: str, locale_name: str | None = None) -> str:
    """A language setting ("system", "en", "zh_CN") as the catalogue to install."""
    return system_language(locale_name) if setting == "system" else setting


class Translations:
    """Holds the installed translators so the language can change at run time."""

    def __init__(self) -> None:
        self._installed: list[QTranslator] = []
        self.language = "en"

    def apply(self, language: str) -> bool:
        """Install the translators for `language` ('en' removes them, 'system' follows the
        desktop). False when the app's catalogue for it is missing (the window stays in English)."""
        language = resolve_language(language)
        app = QCoreApplication.instance()
        if app is None:
            return False
        for translator in self._installed:
            app.removeTranslator(translator)
        self._installed.clear()
        self.language = language
        if language == "en":
            QLocale.setDefault(QLocale(QLocale.Language.English))
            return True
        ours = QTranslator(app)
        if not ours.load(f"{CATALOG}_{language}", str(TRANSLATIONS_DIR)):
            return False
        qt_own = QTranslator(app)
        if qt_own.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt_own)
            self._installed.append(qt_own)
        app.installTranslator(ours)
        self._installed.append(ours)
        QLocale.setDefault(QLocale(language))
        return True
