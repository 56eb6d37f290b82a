"""The needle check from the Help menu runs the needle command in its own process and shows it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.ui.window.needle_dialog import NeedleDialog


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
    # A readable table (one row per depth), the heat map filled in, the progress at its end.
    rows = [[dialog.table.item(r, c).text() for c in range(4)] for r in range(dialog.table.rowCount())]
    assert [r[0] for r in rows] == ["0%", "50%", "100%"] and all(r[1] == "3,000" for r in rows)
    assert all(r[2] in ("yes", "no") for r in rows)
    assert all(not any(ord(ch) < 32 for ch in r[3]) for r in rows)
    assert set(dialog.heatmap.found) == {(3000, 0.0), (3000, 50.0), (3000, 100.0)}
    assert dialog.progress.value() == dialog.progress.maximum()
    assert "Done: found" in dialog.progress_label.text()
    picture = dialog.heatmap.grab()
    assert picture.width() > 100 and dialog.out.exists()


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


def test_the_default_size_suits_the_measured_speed_and_a_long_run_offers_a_smaller_one(qtbot: QtBot) -> None:
    from app.ui.window.needle_view import estimated_seconds, suggested_chars

    slow = NeedleDialog(Path("model.gguf"), prefill_tok_s=60.0)  # a 2-core laptop CPU
    qtbot.addWidget(slow)
    assert slow.chars.value() < 200_000
    assert estimated_seconds(slow.chars.value(), 5, 60.0) <= 10 * 60
    slow.chars.setValue(200_000)
    assert "h" in slow.estimate.text() and slow.smaller_button.isVisibleTo(slow)
    slow.smaller_button.click()
    assert slow.chars.value() == suggested_chars(5, 60.0)
    fast = NeedleDialog(Path("model.gguf"), prefill_tok_s=20_000.0)  # a GPU
    qtbot.addWidget(fast)
    assert fast.chars.value() == 200_000 and not fast.smaller_button.isVisibleTo(fast)
    unknown = NeedleDialog(Path("model.gguf"))
    qtbot.addWidget(unknown)
    assert unknown.chars.value() == 20_000 and "hours" in unknown.estimate.text()


def test_answers_are_cleaned_of_control_characters() -> None:
    from app.ui.window.needle_view import clean_answer

    assert clean_answer("velvet\x1b[31m\u202eevil\n\n next\x00") == "velvet [31m evil next"
    assert len(clean_answer("x" * 1000)) == 160
