"""Light, dark or the system's colours, with the Fusion style so both look the same everywhere."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

_DARK = {
    QPalette.ColorRole.Window: "#202124", QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#17181a", QPalette.ColorRole.AlternateBase: "#26282b",
    QPalette.ColorRole.Text: "#e8eaed", QPalette.ColorRole.Button: "#2d2f33",
    QPalette.ColorRole.ButtonText: "#e8eaed", QPalette.ColorRole.Highlight: "#3b82f6",
    QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2d2f33",
    QPalette.ColorRole.ToolTipText: "#e8eaed", QPalette.ColorRole.PlaceholderText: "#9aa0a6",
    QPalette.ColorRole.Link: "#8ab4f8",
}


def _system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6b6f75"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b6f75"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#6b6f75"))
    return palette


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the colours in use are dark (text lighter than the background)."""
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Base).lightness() < pal.color(QPalette.ColorRole.Text).lightness()


def error_colour() -> str:
    """Error text that reads well on the current background (a light red on dark)."""
    return "#ff8a80" if is_dark() else "#b00020"


def warning_colour() -> str:
    """Warning text that reads well on the current background (amber on dark)."""
    return "#ffb74d" if is_dark() else "#8a5300"


def apply_theme(app: QApplication, theme: str) -> None:
    """'light', 'dark' or 'system' (the desktop's light/dark preference). Switched at run
    time, every existing widget is polished again, so none keeps the old colours (a widget
    with a style sheet of its own, like the conversation list, would)."""
    app.setStyle("Fusion")
    style = app.style()
    dark = theme == "dark" or (theme == "system" and _system_is_dark())
    app.setPalette(dark_palette() if dark else style.standardPalette())
    for widget in app.allWidgets():
        style.unpolish(widget)
        style.polish(widget)
        widget.update()
