"""The status bar's widgets: model, backend and device (why, as a tooltip), the context meter,
the last reply's speed, and prefill or loading progress with the time left."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget


def time_left_text(seconds: float) -> str:
    """'about 3 min left' / 'about 20 s left' / '' when unknown (the status bar and the pane)."""
    if seconds < 0:
        return ""
    if seconds >= 90:
        return QCoreApplication.translate("StatusPanel", "about %1 min left").replace("%1", str(round(seconds / 60)))
    return QCoreApplication.translate("StatusPanel", "about %1 s left").replace("%1", str(max(1, round(seconds))))


class StatusPanel(QWidget):
    """One row of labels for the status bar (permanent widgets)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        self.progress_label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(False)
        self.speed = QLabel(self)
        self.context_label = QLabel(self)
        self.context = QProgressBar(self)
        self.context.setMaximumWidth(110)
        self.context.setTextVisible(False)
        self.context.setMaximumHeight(12)
        self.model = QLabel(self.tr("No model loaded"), self)
        self.device = QLabel(self)
        for widget in (self.progress_label, self.progress, self.speed, self.context_label,
                       self.context, self.model, self.device):
            row.addWidget(widget)
        self.progress.hide()
        self.context.hide()

    def set_model(self, info: dict[str, Any]) -> None:
        if not info:
            self.model.setText(self.tr("No model loaded"))
            self.device.clear()
            self.device.setToolTip("")
            self.context.hide()
            self.context_label.clear()
            return
        self.model.setText(str(info.get("model") or self.tr("model")))
        backend = {"llamacpp": "llama.cpp", "torch": "PyTorch"}.get(str(info.get("backend")),
                                                                    str(info.get("backend")))
        device = self.device_text(str(info.get("device", "")))
        self.device.setText(self.tr("%1 on %2").replace("%1", backend).replace("%2", device))
        self.device.setToolTip(self.reason_text(str(info.get("device_reason", ""))))
        self.set_context(0, int(info.get("n_ctx", 0)))

    def device_text(self, device: str) -> str:
        """The engine's device line (English, Qt-free) in the user's language."""
        match = re.fullmatch(r"CPU, (\d+) threads", device)
        if match:
            return self.tr("CPU, %1 threads").replace("%1", match.group(1))
        match = re.fullmatch(r"GPU offload \((\w+) layers\) \+ CPU, (\d+) threads", device)
        if match:
            layers = self.tr("all") if match.group(1) == "all" else match.group(1)
            return (self.tr("GPU offload (%1 layers) + CPU, %2 threads")
                    .replace("%1", layers).replace("%2", match.group(2)))
        return device  # a device name (e.g. the GPU's): shown as the engine gives it

    def reason_text(self, reason: str) -> str:
        """The engine's reason for the device, translated when it is one of the known ones."""
        known = {
            "this llama.cpp build has no GPU support": self.tr("this llama.cpp build has no GPU support"),
            "GPU offload is switched off in Settings": self.tr("GPU offload is switched off in Settings"),
            "this llama.cpp build can offload to the GPU": self.tr("this llama.cpp build can offload to the GPU"),
        }
        return known.get(reason, reason)

    def set_context(self, used: int, n_ctx: int) -> None:
        if n_ctx <= 0:
            return
        self.context.setRange(0, n_ctx)
        self.context.setValue(min(used, n_ctx))
        self.context.show()
        self.context_label.setText(self.tr("Context: %1 / %2 tokens")
                                   .replace("%1", f"{used:,}").replace("%2", f"{n_ctx:,}"))

    def set_stats(self, stats: dict[str, Any]) -> None:
        ttft = float(stats.get("ttft_s") or 0.0)
        tok_s = float(stats.get("tok_s") or 0.0)
        if not stats.get("new_tokens"):
            self.speed.clear()
            return
        self.speed.setText(self.tr("First token %1 s · %2 tokens/s")
                           .replace("%1", f"{ttft:.2f}").replace("%2", f"{tok_s:.1f}"))

    def duration_text(self, seconds: float) -> str:
        """'about 3 min left' / 'about 20 s left' / '' when unknown."""
        return time_left_text(seconds)

    def set_prefill(self, done: int, total: int, seconds_left: float) -> None:
        if total <= 0 or done >= total:
            self.clear_progress()
            return
        left = self.duration_text(seconds_left)
        text = self.tr("Reading: %1 / %2 tokens").replace("%1", f"{done:,}").replace("%2", f"{total:,}")
        self.progress_label.setText(f"{text}, {left}" if left else text)
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.show()

    def set_loading(self, done: int, total: int) -> None:
        self.progress_label.setText(self.tr("Loading the model…"))
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)
        self.progress.show()

    def clear_progress(self) -> None:
        self.progress_label.clear()
        self.progress.hide()
