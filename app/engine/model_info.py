"""The typed facts of a loaded backend, made on the inference thread for the window."""

from __future__ import annotations

from pathlib import Path

from app.engine.backend import Backend
from app.engine.token_cache import vocab_fingerprint
from app.engine.types import ModelInfo


def compute_device(backend: Backend) -> str:
    """Where the model computes and keeps its cache: "cpu", "cuda" or "mps"."""
    choice = getattr(backend, "choice", None)  # the torch backend's DeviceChoice
    if choice is not None:
        return str(choice.device).split(":", 1)[0]
    offloaded = getattr(backend, "offloaded", None)
    if offloaded is not None:
        return "cuda" if offloaded else "cpu"
    return "cuda" if backend.device.startswith("GPU") else "cpu"


def describe(backend: Backend, path: Path | str | None = None, kv_type: str = "f16") -> ModelInfo:
    """The ModelInfo of a loaded backend (the vocabulary fingerprint takes ~0.1 s once)."""
    where = path if path is not None else getattr(backend, "path", "")
    return ModelInfo(model=backend.model_name, backend=backend.name, device=backend.device,
                     device_reason=backend.device_reason, compute=compute_device(backend),
                     n_ctx=backend.n_ctx, kv_type=str(getattr(backend, "kv_type", kv_type)),
                     is_chat=backend.is_chat, path=str(where or ""), vocab=vocab_fingerprint(backend.tokenizer),
                     vocab_size=int(backend.tokenizer.vocab_size), tokenizer=backend.tokenizer)
