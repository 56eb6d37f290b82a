"""Sampling settings as a form (temperature, top-p, top-k, repetition penalty, max new tokens),
with the model's official defaults one click away."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QPushButton, QSpinBox, QWidget

from app.internlm2.chat_format import OFFICIAL_SAMPLING, Sampling


class SamplingForm(QWidget):
    """Edits a Sampling; `changed(Sampling)` after every user edit (not after set_sampling)."""

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet = False
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.temperature = self._double(0.0, 2.0, 0.05)
        self.temperature.setToolTip(self.tr("0 always picks the likeliest word; higher is more varied."))
        self.top_p = self._double(0.0, 1.0, 0.05)
        self.top_k = QSpinBox(self)
        self.top_k.setRange(0, 1000)
        self.top_k.setSpecialValueText(self.tr("off"))
        self.repetition = self._double(0.5, 2.0, 0.005, decimals=3)
        self.max_tokens = QSpinBox(self)
        self.max_tokens.setRange(1, 32768)
        self.max_tokens.setSingleStep(128)
        form.addRow(self.tr("Temperature"), self.temperature)
        form.addRow(self.tr("Top-p"), self.top_p)
        form.addRow(self.tr("Top-k"), self.top_k)
        form.addRow(self.tr("Repetition penalty"), self.repetition)
        form.addRow(self.tr("Longest reply (tokens)"), self.max_tokens)
        self.defaults_button = QPushButton(self.tr("Official defaults"), self)
        self.defaults_button.setToolTip(self.tr("Temperature 0.8, top-p 0.8, 1024 tokens: the model's own chat() settings"))
        self.defaults_button.clicked.connect(self.reset)
        form.addRow(self.defaults_button)
        for box in (self.temperature, self.top_p, self.top_k, self.repetition, self.max_tokens):
            box.valueChanged.connect(self._edited)
        self.set_sampling(OFFICIAL_SAMPLING)

    def _double(self, low: float, high: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setRange(low, high)
        box.setSingleStep(step)
        box.setDecimals(decimals)
        return box

    def sampling(self) -> Sampling:
        return Sampling(temperature=self.temperature.value(), top_p=self.top_p.value(),
                        top_k=self.top_k.value(), repetition_penalty=self.repetition.value(),
                        max_new_tokens=self.max_tokens.value())

    def set_sampling(self, sampling: Sampling) -> None:
        self._quiet = True
        try:
            self.temperature.setValue(sampling.temperature)
            self.top_p.setValue(sampling.top_p)
            self.top_k.setValue(sampling.top_k)
            self.repetition.setValue(sampling.repetition_penalty)
            self.max_tokens.setValue(sampling.max_new_tokens)
        finally:
            self._quiet = False

    def reset(self) -> None:
        self.set_sampling(OFFICIAL_SAMPLING)
        self.changed.emit(self.sampling())

    def _edited(self) -> None:
        if not self._quiet:
            self.changed.emit(self.sampling())
