"""The status bar's widgets: model, backend and device (why, as a tooltip), the context meter,
the last reply's speed, and prefill or loading progress with the time left."""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from app.engine.activity import Activity
from app.engine.types import ModelInfo


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
        self.progress.setMaximumHeight(12)  # no taller than a label: showing it does not grow the bar
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

    def set_model(self, info: ModelInfo | None) -> None:
        """The loaded model, or "No model loaded" (never a model that is not there)."""
        if info is None:
            self.model.setText(self.tr("No model loaded"))
            self.device.clear()
            self.device.setToolTip("")
            self.clear_figures()
            return
        self.model.setText(info.model or self.tr("model"))
        backend = {"llamacpp": "llama.cpp", "torch": "PyTorch"}.get(info.backend, info.backend)
        device = self.device_text(info.device)
        self.device.setText(self.tr("%1 on %2").replace("%1", backend).replace("%2", device))
        self.device.setToolTip(self.reason_text(info.device_reason))
        self.set_context(0, info.n_ctx)

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

    def clear_figures(self) -> None:
        """No context meter and no speed (no model, or nothing measured yet)."""
        self.context.hide()
        self.context_label.clear()
        self.clear_speed()

    def set_speed(self, ttft_s: float, tok_s: float, new_tokens: int) -> None:
        """The speed of the open conversation's last reply (cleared when it wrote nothing)."""
        if not new_tokens:
            self.clear_speed()
            return
        self.speed.setText(self.tr("First token %1 s · %2 tokens/s")
                           .replace("%1", f"{ttft_s:.2f}").replace("%2", f"{tok_s:.1f}"))

    def clear_speed(self) -> None:
        self.speed.clear()

    def set_activity(self, activity: Activity) -> None:
        """Say "Stopping…" while Stop waits for the running job (progress says the rest)."""
        if activity is Activity.STOPPING:
            self.progress_label.setText(self.tr("Stopping…"))
        elif self.progress_label.text() == self.tr("Stopping…"):
            self.progress_label.clear()

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
