"""The needle check from the Help menu runs the needle command in its own process and shows it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.ui.needle_dialog import NeedleDialog


def test_needle_dialog_runs_the_check_and_shows_the_heat_map(qtbot: QtBot,
                                                             stop_model: tuple[Path, Path, int]) -> None:
    dialog = NeedleDialog(stop_model[1])
    qtbot.addWidget(dialog)
    dialog.chars.setValue(3000)
    dialog.depths.setText("0,50,100")
    dialog.run_button.click()
    assert not dialog.run_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.run_button.isEnabled(), timeout=120000)
    text = dialog.output.toPlainText()
    assert "did not finish" not in text, text
    for depth in ("0%", "50%", "100%"):
        assert depth in text
    assert not dialog.picture.pixmap().isNull()
    assert dialog.out.exists()


def test_needle_dialog_without_a_model_cannot_run(qtbot: QtBot) -> None:
    dialog = NeedleDialog(None)
    qtbot.addWidget(dialog)
    assert not dialog.run_button.isEnabled()
    dialog.start()
    assert dialog.process.state() == dialog.process.state().NotRunning


def test_cancel_ends_the_check(qtbot: QtBot, stop_model: tuple[Path, Path, int]) -> None:
    dialog = NeedleDialog(stop_model[1])
    qtbot.addWidget(dialog)
    dialog.chars.setValue(200_000)
    dialog.run_button.click()
    qtbot.waitUntil(lambda: dialog.process.state() == dialog.process.state().Running, timeout=10000)
    dialog.cancel()
    qtbot.waitUntil(lambda: dialog.run_button.isEnabled(), timeout=10000)
    assert "Cancelled." in dialog.output.toPlainText()
