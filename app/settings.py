"""The window's settings: typed values over `store.settings`, with defaults and sampling helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from app.engine.loader import LoadSpec
from app.internlm2.chat_format import DEFAULT_SYSTEM_PROMPT, OFFICIAL_SAMPLING, Sampling
from app.settings_keys import HUB_ENDPOINT, HUB_PROXY
from app.storage import ConversationStore

THEMES = ("system", "light", "dark")
LANGUAGES = ("system", "en", "zh_CN")  # "system": the desktop's language (zh_* -> zh_CN)
BACKENDS = ("auto", "llamacpp", "torch")
KV_TYPES = ("f16", "q8_0", "f32")
MAX_THREADS = 256  # the Settings dialog's range (the backend then keeps at most one per CPU)
_SAMPLING_KEYS = ("temperature", "top_p", "top_k", "repetition_penalty", "max_new_tokens")
_PREFIX = "ui."
# Settings read by other layers keep their own keys (the model manager reads hub.*).
_SHARED_KEYS = {"hub_endpoint": HUB_ENDPOINT, "hub_proxy": HUB_PROXY}


def _key(name: str) -> str:
    return _SHARED_KEYS.get(name, _PREFIX + name)


def sampling_to_dict(sampling: Sampling) -> dict[str, Any]:
    """The stored form of sampling settings (the seed is not kept)."""
    return {key: getattr(sampling, key) for key in _SAMPLING_KEYS}


def sampling_from_dict(data: Mapping[str, Any] | None, base: Sampling = OFFICIAL_SAMPLING) -> Sampling:
    """Sampling from a stored dict; missing or malformed values fall back to `base`."""
    values: dict[str, Any] = {}
    for key in _SAMPLING_KEYS:
        if not data or key not in data:
            continue
        kind = int if key in ("top_k", "max_new_tokens") else float
        try:
            values[key] = kind(data[key])
        except (TypeError, ValueError):
            continue
    return replace(base, **values)


@dataclass
class AppSettings:
    """Everything the settings dialog edits; stored one key per field under `ui.`."""

    theme: str = "system"
    language: str = "system"
    model_path: str = ""
    backend: str = "auto"
    threads: int = 0  # 0: let the backend choose
    gpu_layers: int = -1  # -1: all the build can offload
    kv_type: str = "f16"
    n_ctx: int = 4096
    sampling: dict[str, Any] = field(default_factory=lambda: sampling_to_dict(OFFICIAL_SAMPLING))
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    hub_endpoint: str = ""  # a mirror of the model hub (blank: HF_ENDPOINT or the hub itself)
    hub_proxy: str = ""  # e.g. http://proxy:8080 (blank: the system's proxy settings)
    show_list: bool = True  # View menu: the conversation list
    show_side: bool = True  # View menu: the conversation settings panel
    show_document: bool = True  # View menu: the document pane (when a document is attached)
    server_enabled: bool = False  # Settings > Local server: serve the model to other programs
    server_port: int = 8080
    server_api_key: str = ""  # generated when the dialog first shows it

    @classmethod
    def load(cls, store: ConversationStore) -> AppSettings:
        stored = store.settings.as_dict()
        settings = cls()
        for item in fields(cls):
            key = _key(item.name)
            if key in stored and isinstance(stored[key], type(getattr(settings, item.name))):
                setattr(settings, item.name, stored[key])
        if settings.theme not in THEMES:
            settings.theme = "system"
        if settings.language not in LANGUAGES:
            settings.language = "system"
        if settings.backend not in BACKENDS:
            settings.backend = "auto"
        if settings.kv_type not in KV_TYPES:
            settings.kv_type = "f16"
        if isinstance(settings.threads, bool) or not 0 <= settings.threads <= MAX_THREADS:
            settings.threads = 0  # automatic
        if not 1024 <= settings.server_port <= 65535:
            settings.server_port = 8080
        return settings

    def save(self, store: ConversationStore) -> None:
        with store.db.transaction():
            for name, value in asdict(self).items():
                store.settings.set(_key(name), value)

    def default_sampling(self) -> Sampling:
        return sampling_from_dict(self.sampling)

    def load_spec(self, path: Path | str) -> LoadSpec:
        """How to open a model with these settings."""
        return LoadSpec(Path(path), backend=self.backend, n_ctx=self.n_ctx,
                        n_gpu_layers=None if self.gpu_layers < 0 else self.gpu_layers,
                        n_threads=self.threads or None, kv_type=self.kv_type)
