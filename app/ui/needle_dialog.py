"""The needle-in-a-haystack check from the Help menu: the `needle` command, run and shown here.

The check runs in its own process (QProcess with the same executable and `main.py needle`),
so the window stays responsive, Cancel ends it at once, and the conversation's model and
cache are left as they are; the check loads its own copy of the model (about the model's
size again in memory while it runs). Its table streams into the dialog and the heat map is
shown when it finishes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QProcessEnvironment
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.paths import cache_dir

_MAIN = Path(__file__).resolve().parents[2] / "main.py"


def needle_command(model: Path, chars: int, depths: str, out: Path) -> tuple[str, list[str]]:
    """The program and arguments that run the check (a frozen app runs its own executable)."""
    args = ["needle", "--model", str(model), "--chars", str(chars), "--depths", depths, "--out", str(out)]
    if getattr(sys, "frozen", False):
        return sys.executable, args
    return sys.executable, [str(_MAIN), *args]


class NeedleDialog(QDialog):
    """Settings of the check, its live output, and the heat map."""

    def __init__(self, model: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Needle-in-a-haystack check"))
        self.resize(720, 640)
        self.model = model
        self.out = cache_dir() / "needle" / "needle-heatmap.png"
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr(
            "Hides a sentence at several depths of a long filler text and asks the model for it. "
            "With the real weights this checks the long-context claim on this computer; it reads "
            "the whole text once per depth, which takes minutes on a CPU."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.model_label = QLabel(str(model) if model else self.tr("No model is loaded."), self)
        form.addRow(self.tr("Model"), self.model_label)
        self.chars = QSpinBox(self)
        self.chars.setRange(1_000, 1_000_000)
        self.chars.setSingleStep(10_000)
        self.chars.setValue(200_000)
        form.addRow(self.tr("Characters"), self.chars)
        self.depths = QLineEdit("0,25,50,75,100", self)
        form.addRow(self.tr("Depths (%)"), self.depths)
        layout.addLayout(form)
        self.output = QPlainTextEdit(self)
        self.output.setTabChangesFocus(True)
        self.output.setReadOnly(True)
        self.output.setFont(QFont("monospace"))
        layout.addWidget(self.output, 1)
        self.picture = QLabel(self)
        layout.addWidget(self.picture)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.run_button = QPushButton(self.tr("Run"), self)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.buttons.addButton(self.run_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.buttons)
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.finished.connect(self._finished)
        self.run_button.setEnabled(model is not None)
        self.cancel_button.setEnabled(False)

    def start(self) -> None:
        if self.model is None or self.process.state() != QProcess.ProcessState.NotRunning:
            return
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.unlink(missing_ok=True)
        program, args = needle_command(self.model, self.chars.value(), self.depths.text().strip(), self.out)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        self.process.setProcessEnvironment(env)
        self.output.clear()
        self.picture.clear()
        self.output.appendPlainText(self.tr("Running the check…"))
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.process.start(program, args)

    def cancel(self) -> None:
        if self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.kill()
            self.output.appendPlainText(self.tr("Cancelled."))

    def _read(self) -> None:
        text = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        self.output.appendPlainText(text.rstrip("\n"))

    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self.run_button.setEnabled(self.model is not None)
        self.cancel_button.setEnabled(False)
        if code == 0 and self.out.exists():
            self.picture.setPixmap(QPixmap(str(self.out)))
        elif code != 0:
            self.output.appendPlainText(self.tr("The check did not finish (exit status %1).").replace("%1", str(code)))

    def done(self, result: int) -> None:
        self.cancel()
        self.process.waitForFinished(3000)
        super().done(result)
