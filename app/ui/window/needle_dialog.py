"""The needle-in-a-haystack check from the Help menu: the `needle` command, run and shown here.

The check runs in its own process (QProcess with the same executable and `main.py needle
--events`), so the window stays responsive, Cancel ends it at once, and the conversation's model
and cache are left as they are; the check loads its own copy of the model (about the model's
size again in memory while it runs). Its JSON event lines fill a progress bar with the time
left, a results table and a heat map with axes and a legend as they come. The default size is
the largest that takes about ten minutes at this computer's measured reading speed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, QProcessEnvironment
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.paths import cache_dir
from app.ui.window.needle_view import (
    HeatMap,
    clean_answer,
    duration_text,
    estimated_seconds,
    suggested_chars,
)
from app.ui.window.status_panel import time_left_text

_MAIN = Path(__file__).resolve().parents[3] / "main.py"


def needle_command(model: Path, chars: int, depths: str, out: Path) -> tuple[str, list[str]]:
    """The program and arguments that run the check (a frozen app runs its own executable)."""
    args = ["needle", "--model", str(model), "--chars", str(chars), "--depths", depths, "--out", str(out),
            "--events"]
    if getattr(sys, "frozen", False):
        return sys.executable, args
    return sys.executable, [str(_MAIN), *args]


def _depth_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        return []
    return values if values and all(0 <= v <= 100 for v in values) else []


class NeedleDialog(QDialog):
    """Settings of the check, its progress, results table, heat map and raw output."""

    def __init__(self, model: Path | None, parent: QWidget | None = None, *,
                 prefill_tok_s: float | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Needle-in-a-haystack check"))
        self.resize(760, 720)
        self.model = model
        self.prefill_tok_s = prefill_tok_s
        self.out = cache_dir() / "needle" / "needle-heatmap.png"
        self._buffer = b""
        self._cells = 0
        self._done = 0
        self._started = 0.0
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr(
            "Hides a sentence at several depths of a long filler text and asks the model for it. "
            "With the real weights this checks the long-context claim on this computer; it reads "
            "the whole text once per depth."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.model_label = QLabel(str(model) if model else self.tr("No model is loaded."), self)
        self.model_label.setWordWrap(True)
        form.addRow(self.tr("Model"), self.model_label)
        self.depths = QLineEdit("0,25,50,75,100", self)
        form.addRow(self.tr("Depths (%)"), self.depths)
        self.chars = QSpinBox(self)
        self.chars.setRange(1_000, 1_000_000)
        self.chars.setSingleStep(10_000)
        self.chars.setGroupSeparatorShown(True)
        self.chars.setValue(suggested_chars(len(_depth_list(self.depths.text())), prefill_tok_s))
        form.addRow(self.tr("Characters"), self.chars)
        self.estimate = QLabel(self)
        self.estimate.setWordWrap(True)
        self.smaller_button = QPushButton(self)
        self.smaller_button.clicked.connect(self._use_suggested)
        estimate_row = QHBoxLayout()
        estimate_row.addWidget(self.estimate, 1)
        estimate_row.addWidget(self.smaller_button)
        form.addRow("", estimate_row)
        layout.addLayout(form)
        self.chars.valueChanged.connect(self._update_estimate)
        self.depths.textChanged.connect(self._update_estimate)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress_label = QLabel(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        self.heatmap = HeatMap(self)
        layout.addWidget(self.heatmap)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels([self.tr("Depth"), self.tr("Length"), self.tr("Found"),
                                              self.tr("Answer")])
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        layout.addWidget(self.table, 1)
        self.output = QPlainTextEdit(self)
        self.output.setTabChangesFocus(True)
        self.output.setReadOnly(True)
        self.output.setFont(QFont("monospace"))
        self.output.setMaximumHeight(110)
        layout.addWidget(self.output)
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
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.readyReadStandardError.connect(self._read_log)
        self.process.finished.connect(self._finished)
        self.run_button.setEnabled(model is not None)
        self.cancel_button.setEnabled(False)
        self._update_estimate()

    # -- sizing ----------------------------------------------------------------------------------
    def _update_estimate(self) -> None:
        depths = len(_depth_list(self.depths.text()))
        self.smaller_button.hide()
        if not depths:
            self.estimate.setText(self.tr("Depths are percentages from 0 to 100, separated by commas."))
            return
        if not self.prefill_tok_s:
            self.estimate.setText(self.tr("How long it takes is known once the model has answered a "
                                          "question here; on a laptop CPU 200,000 characters take hours."))
            return
        seconds = estimated_seconds(self.chars.value(), depths, self.prefill_tok_s)
        self.estimate.setText(self.tr("About %1 on this computer (it reads about %2 tokens/s).")
                              .replace("%1", duration_text(seconds))
                              .replace("%2", f"{self.prefill_tok_s:,.0f}"))
        suggested = suggested_chars(depths, self.prefill_tok_s)
        if suggested < self.chars.value() and seconds > 20 * 60:
            self.smaller_button.setText(self.tr("Use %1 characters").replace("%1", f"{suggested:,}"))
            self.smaller_button.show()

    def _use_suggested(self) -> None:
        self.chars.setValue(suggested_chars(len(_depth_list(self.depths.text())), self.prefill_tok_s))

    # -- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self.model is None or self.process.state() != QProcess.ProcessState.NotRunning:
            return
        depths = _depth_list(self.depths.text())
        if not depths:
            self._update_estimate()
            return
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.unlink(missing_ok=True)
        program, args = needle_command(self.model, self.chars.value(), ",".join(f"{d:g}" for d in depths), self.out)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        self.process.setProcessEnvironment(env)
        self.output.clear()
        self.table.setRowCount(0)
        self.heatmap.set_grid([self.chars.value()], depths)
        self._buffer, self._cells, self._done = b"", len(depths), 0
        self._started = time.monotonic()
        self.progress.setValue(0)
        self.progress_label.setText(self.tr("Loading the model…"))
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.process.start(program, args)

    def cancel(self) -> None:
        if self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.kill()
            self.output.appendPlainText(self.tr("Cancelled."))
            self.progress_label.setText(self.tr("Cancelled."))

    def _read_log(self) -> None:
        text = bytes(self.process.readAllStandardError().data()).decode("utf-8", errors="replace")
        self.output.appendPlainText(text.rstrip("\n"))

    def _read(self) -> None:
        self._buffer += bytes(self.process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                event = json.loads(line) if line.startswith("{") else None
            except ValueError:
                event = None
            if isinstance(event, dict):
                self._on_event(event)
            else:
                self.output.appendPlainText(line)  # the final table

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "start":
            self._cells = int(event.get("cells", self._cells)) or 1
            self.heatmap.set_grid([int(n) for n in event.get("lengths", [])],
                                  [float(d) for d in event.get("depths", [])])
        elif kind == "progress":
            total = max(int(event.get("total", 0)), 1)
            within = min(int(event.get("done", 0)) / total, 1.0)
            self.progress.setValue(int(1000 * (self._done + within) / self._cells))
            self.progress_label.setText(self._progress_text(event, within))
        elif kind == "cell":
            self._done += 1
            chars, depth, found = int(event["chars"]), float(event["depth"]), bool(event["found"])
            self.heatmap.set_result(chars, depth, found)
            row = self.table.rowCount()
            self.table.insertRow(row)
            answer = clean_answer(str(event.get("answer", "")))
            for col, value in enumerate((f"{depth:g}%", f"{chars:,}", self.tr("yes") if found else self.tr("no"),
                                         answer)):
                item = QTableWidgetItem(value)
                if col == 3:
                    item.setToolTip(answer)
                self.table.setItem(row, col, item)
            self.progress.setValue(int(1000 * self._done / self._cells))

    def _progress_text(self, event: dict[str, Any], within: float) -> str:
        """"Depth 2 of 5: 12,400 / 51,000 tokens, about 3 min left" (all depths together)."""
        cell_left = event.get("seconds_left")
        elapsed = time.monotonic() - self._started
        fraction = (self._done + within) / self._cells
        left: float | None = None
        if self._done and fraction > 0:
            left = elapsed / fraction - elapsed
        elif isinstance(cell_left, (int, float)) and cell_left >= 0:
            left = float(cell_left) * (self._cells - self._done)
        text = self.tr("Depth %1 of %2: %3 / %4 tokens read").replace("%1", str(self._done + 1)).replace(
            "%2", str(self._cells)).replace("%3", f"{int(event.get('done', 0)):,}").replace(
            "%4", f"{int(event.get('total', 0)):,}")
        return f"{text}, {time_left_text(left)}" if left is not None else text

    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self.run_button.setEnabled(self.model is not None)
        self.cancel_button.setEnabled(False)
        if code == 0:
            found = sum(1 for f in self.heatmap.found.values() if f)
            self.progress.setValue(1000)
            self.progress_label.setText(self.tr("Done: found %1 of %2.").replace("%1", str(found))
                                        .replace("%2", str(len(self.heatmap.found))))
        elif self.progress_label.text() != self.tr("Cancelled."):
            self.output.appendPlainText(self.tr("The check did not finish (exit status %1).").replace("%1", str(code)))
            self.progress_label.setText(self.tr("The check did not finish: see the output below."))

    def done(self, result: int) -> None:
        self.cancel()
        self.process.waitForFinished(3000)
        super().done(result)
