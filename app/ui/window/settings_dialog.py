"""The Settings dialog (theme, language, model defaults, default sampling) and the shortcuts help."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.engine.llamacpp_policy import default_threads
from app.settings import (
    BACKENDS,
    KV_TYPES,
    LANGUAGES,
    MAX_THREADS,
    THEMES,
    AppSettings,
    sampling_to_dict,
)
from app.ui.chat.sampling_form import SamplingForm
from app.ui.window.local_server import client_example, new_api_key


def _combo(parent: QWidget, items: list[tuple[str, str]], current: str) -> QComboBox:
    box = QComboBox(parent)
    for value, label in items:
        box.addItem(label, value)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


class SettingsDialog(QDialog):
    """Edits a copy of AppSettings; `result_settings()` after accept."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self._settings = settings
        layout = QVBoxLayout(self)
        look = QGroupBox(self.tr("Appearance"), self)
        look_form = QFormLayout(look)
        theme_names = {"system": self.tr("Follow the system"), "light": self.tr("Light"), "dark": self.tr("Dark")}
        self.theme = _combo(look, [(t, theme_names[t]) for t in THEMES], settings.theme)
        language_names = {"system": self.tr("Follow the system"), "en": "English", "zh_CN": "简体中文"}
        self.language = _combo(look, [(code, language_names[code]) for code in LANGUAGES], settings.language)
        look_form.addRow(self.tr("Theme"), self.theme)
        look_form.addRow(self.tr("Language"), self.language)
        layout.addWidget(look)
        model = QGroupBox(self.tr("Model"), self)
        model_form = QFormLayout(model)
        path_row = QHBoxLayout()
        self.model_path = QLineEdit(settings.model_path, model)
        self.model_path.setPlaceholderText(self.tr("Opened at start (a .gguf file or a checkpoint folder)"))
        browse = QPushButton(self.tr("Browse…"), model)
        browse.clicked.connect(self._browse)
        path_row.addWidget(self.model_path, 1)
        path_row.addWidget(browse)
        model_form.addRow(self.tr("Default model"), path_row)
        backend_names = {"auto": self.tr("Choose from the file"), "llamacpp": "llama.cpp", "torch": "PyTorch"}
        self.backend = _combo(model, [(b, backend_names[b]) for b in BACKENDS], settings.backend)
        model_form.addRow(self.tr("Backend"), self.backend)
        self.threads = QSpinBox(model)
        self.threads.setRange(0, MAX_THREADS)
        # 0 is "automatic": the count the backend picks (one per physical core, one left for
        # the window past four), shown so the user knows what an override changes.
        self.threads.setSpecialValueText(self.tr("automatic (%1)").replace("%1", str(default_threads())))
        self.threads.setToolTip(self.tr("Threads llama.cpp computes with; automatic: one per physical core, "
                                        "one left for the window on machines with more than four"))
        self.threads.setValue(settings.threads)
        model_form.addRow(self.tr("CPU threads"), self.threads)
        self.gpu_layers = QSpinBox(model)
        self.gpu_layers.setRange(-1, 999)
        self.gpu_layers.setSpecialValueText(self.tr("all"))
        self.gpu_layers.setValue(settings.gpu_layers)
        model_form.addRow(self.tr("GPU layers"), self.gpu_layers)
        self.kv_type = _combo(model, [(k, k) for k in KV_TYPES], settings.kv_type)
        self.kv_type.setToolTip(self.tr("q8_0 halves the memory the context needs"))
        model_form.addRow(self.tr("KV cache type"), self.kv_type)
        self.n_ctx = QSpinBox(model)
        self.n_ctx.setRange(512, 262144)
        self.n_ctx.setSingleStep(1024)
        self.n_ctx.setValue(settings.n_ctx)
        model_form.addRow(self.tr("Context (tokens)"), self.n_ctx)
        layout.addWidget(model)
        hub = QGroupBox(self.tr("Downloads"), self)
        hub_form = QFormLayout(hub)
        self.hub_endpoint = QLineEdit(settings.hub_endpoint, hub)
        self.hub_endpoint.setPlaceholderText(self.tr("https://huggingface.co, or a mirror"))
        self.hub_endpoint.setToolTip(self.tr("Where models are downloaded from: set a mirror if the hub "
                                             "is slow or unreachable where you are."))
        hub_form.addRow(self.tr("Model hub address"), self.hub_endpoint)
        self.hub_proxy = QLineEdit(settings.hub_proxy, hub)
        self.hub_proxy.setPlaceholderText(self.tr("none (use the system's settings)"))
        hub_form.addRow(self.tr("Proxy"), self.hub_proxy)
        layout.addWidget(hub)
        chat = QGroupBox(self.tr("New conversations"), self)
        chat_layout = QVBoxLayout(chat)
        self.sampling = SamplingForm(chat)
        self.sampling.set_sampling(settings.default_sampling())
        chat_layout.addWidget(self.sampling)
        layout.addWidget(chat)
        layout.addWidget(self._server_group(settings))
        note = QLabel(self.tr("Model settings apply the next time a model is opened."), self)
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _server_group(self, settings: AppSettings) -> QGroupBox:
        group = QGroupBox(self.tr("Local server"), self)
        form = QFormLayout(group)
        self.server_enabled = QCheckBox(self.tr("Serve the model to other programs (OpenAI-compatible API)"), group)
        self.server_enabled.setChecked(settings.server_enabled)
        form.addRow(self.server_enabled)
        self.server_port = QSpinBox(group)
        self.server_port.setRange(1024, 65535)
        self.server_port.setValue(settings.server_port)
        form.addRow(self.tr("Port"), self.server_port)
        self.server_address = QLineEdit(group)
        self.server_address.setReadOnly(True)
        form.addRow(self.tr("Address"), self.server_address)
        self.server_key = QLineEdit(settings.server_api_key or new_api_key(), group)
        self.server_key.setReadOnly(True)
        key_row = QHBoxLayout()
        key_row.addWidget(self.server_key, 1)
        new_key = QPushButton(self.tr("New key"), group)
        new_key.clicked.connect(lambda: self.server_key.setText(new_api_key()))
        key_row.addWidget(new_key)
        form.addRow(self.tr("API key"), key_row)
        copy = QPushButton(self.tr("Copy example"), group)
        copy.setToolTip(self.tr("Copies a curl command and a Python example that use this address and key"))
        copy.clicked.connect(self._copy_example)
        form.addRow(copy)
        note = QLabel(self.tr("Only programs on this computer can connect, and only with the key. While a "
                              "program uses the model, your own replies wait their turn."), group)
        note.setWordWrap(True)
        form.addRow(note)
        self.server_port.valueChanged.connect(self._show_address)
        self._show_address()
        return group

    def _show_address(self) -> None:
        self.server_address.setText(f"http://127.0.0.1:{self.server_port.value()}/v1")

    def _copy_example(self) -> None:
        QGuiApplication.clipboard().setText(client_example(self.server_port.value(), self.server_key.text()))

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Default model"), self.model_path.text(),
                                              self.tr("GGUF models (*.gguf)"))
        if path:
            self.model_path.setText(path)

    def result_settings(self) -> AppSettings:
        return replace(self._settings, theme=str(self.theme.currentData()),
                       language=str(self.language.currentData()),
                       model_path=self.model_path.text().strip(),
                       backend=str(self.backend.currentData()), threads=self.threads.value(),
                       gpu_layers=self.gpu_layers.value(), kv_type=str(self.kv_type.currentData()),
                       n_ctx=self.n_ctx.value(), sampling=sampling_to_dict(self.sampling.sampling()),
                       hub_endpoint=self.hub_endpoint.text().strip(), hub_proxy=self.hub_proxy.text().strip(),
                       server_enabled=self.server_enabled.isChecked(), server_port=self.server_port.value(),
                       server_api_key=self._server_key_result())

    def _server_key_result(self) -> str:
        """The shown key is kept once the server is on (or a key was kept before); a key only
        shown while the server stays off is not stored."""
        if self.server_enabled.isChecked() or self._settings.server_api_key:
            return self.server_key.text()
        return ""


class ShortcutsDialog(QDialog):
    """The keyboard shortcuts, in one table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        form = QFormLayout(self)
        rows = [
            ("Ctrl+N", self.tr("New conversation")),
            ("Ctrl+F", self.tr("Search all conversations")),
            ("Enter / Ctrl+Enter", self.tr("Send the message")),
            ("Shift+Enter", self.tr("New line in the message")),
            ("Esc", self.tr("Stop the reply")),
            ("Alt+Left / Alt+Right", self.tr("Previous / next version of the message at the cursor "
                                             "(else of the last one with versions)")),
            ("Alt+Up / Alt+Down", self.tr("Go to the previous / next message with versions")),
            ("Alt+Y / Alt+A / Alt+N", self.tr("Answer the waiting tool call: allow once / always for "
                                              "this conversation / deny")),
            ("Ctrl+O", self.tr("Open a model")),
            ("Ctrl+S", self.tr("Export the conversation")),
            ("F2", self.tr("Rename the selected conversation")),
            ("Delete", self.tr("Move the selected conversation to the trash")),
            ("Ctrl+,", self.tr("Settings")),
            ("F1", self.tr("This help")),
        ]
        for keys, what in rows:
            form.addRow(QLabel(f"<b>{keys}</b>", self), QLabel(what, self))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
