"""The needle check's results in the window: the heat map drawn with its axes, labels and a
legend, and the sizing advice (how long a run takes at this computer's measured speed)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

FOUND = QColor(46, 160, 67)
MISSED = QColor(207, 34, 46)
PENDING = QColor(150, 150, 150)
CHARS_PER_TOKEN = 4.6  # the English filler with the real InternLM2 tokenizer (measured 4.62)
SIZES = (200_000, 100_000, 50_000, 20_000, 10_000, 5_000)
COMFORTABLE_S = 10 * 60  # the default run is the largest that takes about this long or less
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def clean_answer(text: str, limit: int = 160) -> str:
    """A model's answer for a table cell: no control or direction characters, one line, short."""
    flat = re.sub(r"\s+", " ", _CONTROL.sub(" ", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def duration_text(seconds: float) -> str:
    """'3 h 20 min', '12 min', '40 s' (translated)."""
    if seconds >= 3600:
        hours, minutes = divmod(round(seconds / 60), 60)
        return QCoreApplication.translate("NeedleView", "%1 h %2 min").replace("%1", str(hours)).replace(
            "%2", str(minutes))
    if seconds >= 90:
        return QCoreApplication.translate("NeedleView", "%1 min").replace("%1", str(round(seconds / 60)))
    return QCoreApplication.translate("NeedleView", "%1 s").replace("%1", str(max(1, round(seconds))))


def estimated_seconds(chars: int, depths: int, prefill_tok_s: float) -> float:
    """About how long the check takes: each depth reads the whole text once; reading slows down
    as the text grows (attention over everything read before), so the measured short-prompt
    speed is scaled down with the length."""
    tokens = chars / CHARS_PER_TOKEN
    slowdown = 1.0 + tokens / 16_384
    return depths * tokens * slowdown / max(prefill_tok_s, 1e-6)


def suggested_chars(depths: int, prefill_tok_s: float | None) -> int:
    """The largest size that runs in about ten minutes here (20,000 when the speed is unknown)."""
    if not prefill_tok_s:
        return 20_000
    for size in SIZES:
        if estimated_seconds(size, depths, prefill_tok_s) <= COMFORTABLE_S:
            return size
    return SIZES[-1]


class HeatMap(QWidget):
    """Rows are depths (0% on top), columns document lengths; found green, missed red, not run
    yet grey; axis titles, tick labels and a legend are drawn with the widget's font."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.depths: list[float] = []
        self.lengths: list[int] = []
        self.found: dict[tuple[int, float], bool] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(160)

    def set_grid(self, lengths: Sequence[int], depths: Sequence[float]) -> None:
        self.lengths, self.depths = list(lengths), list(depths)
        self.found.clear()
        line = self.fontMetrics().height()
        self.setMaximumHeight(3 * line + 36 + 30 * max(len(self.depths), 1))  # rows of 30 px at most
        self.updateGeometry()
        self.update()

    def set_result(self, chars: int, depth: float, found: bool) -> None:
        self.found[(chars, depth)] = found
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        rows = max(len(self.depths), 1)
        return QSize(420, 70 + 34 * rows + 40)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        if not self.depths or not self.lengths:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        metrics = painter.fontMetrics()
        line = metrics.height()
        left = max(metrics.horizontalAdvance(f"{d:g}%") for d in self.depths) + line + 12
        top = 2 * line + 8
        legend_h = line + 12
        width = max(self.width() - left - 8, 40)
        height = max(self.height() - top - legend_h - 8, 20)
        cell_w, cell_h = width / len(self.lengths), height / len(self.depths)
        painter.setPen(text)
        painter.drawText(QRectF(left, 0, width, line), Qt.AlignmentFlag.AlignCenter,
                         self.tr("Document length (characters)"))
        for c, length in enumerate(self.lengths):
            painter.drawText(QRectF(left + c * cell_w, line + 4, cell_w, line),
                             Qt.AlignmentFlag.AlignCenter, f"{length:,}")
        painter.save()
        painter.translate(line / 2 + 2, top + height / 2)
        painter.rotate(-90)
        painter.drawText(QRectF(-height / 2, -line / 2, height, line), Qt.AlignmentFlag.AlignCenter,
                         self.tr("Needle depth"))
        painter.restore()
        for r, depth in enumerate(self.depths):
            painter.setPen(text)
            painter.drawText(QRectF(line + 4, top + r * cell_h, left - line - 8, cell_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{depth:g}%")
            for c, length in enumerate(self.lengths):
                result = self.found.get((length, depth))
                colour = PENDING if result is None else FOUND if result else MISSED
                painter.fillRect(QRectF(left + c * cell_w + 1, top + r * cell_h + 1, cell_w - 2, cell_h - 2), colour)
        y = top + height + 8
        x = float(left)
        for colour, label in ((FOUND, self.tr("found")), (MISSED, self.tr("not found")),
                              (PENDING, self.tr("not run yet"))):
            painter.fillRect(QRectF(x, y + 2, line - 4, line - 4), colour)
            painter.setPen(text)
            painter.drawText(QRectF(x + line, y, metrics.horizontalAdvance(label) + 4, line),
                             Qt.AlignmentFlag.AlignVCenter, label)
            x += line + metrics.horizontalAdvance(label) + 18
        painter.end()
