"""Opening a model: which backend a path goes to, with what settings, and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.engine.backend import Backend
from app.engine.types import ModelLoadError
from app.sentences import say

BACKENDS = ("auto", "torch", "llamacpp")


@dataclass(frozen=True)
class LoadSpec:
    """What to load and how. `n_ctx` None: the backend's default (llama.cpp 4096, torch the trained length)."""

    path: Path
    backend: str = "auto"
    n_ctx: int | None = None
    device: str = "auto"  # torch: auto / cuda / mps / cpu
    n_gpu_layers: int | None = None  # llama.cpp: None = all where the build can offload
    n_threads: int | None = None
    kv_type: str = "f16"


def choose_backend(spec: LoadSpec) -> str:
    """'llamacpp' for a .gguf file, 'torch' for a checkpoint folder, or the explicit choice."""
    path = Path(spec.path)
    if not path.exists():
        raise ModelLoadError(say("There is no model at {path}.", path=path),
                             say("Pick a .gguf file or a checkpoint folder."))
    if spec.backend not in BACKENDS:
        raise ModelLoadError(say("Unknown backend {backend!r}.", backend=spec.backend),
                             say("Choose torch or llamacpp."))
    kind = "llamacpp" if path.is_file() else "torch"
    if spec.backend == "auto":
        return kind
    if spec.backend == "llamacpp" and kind == "torch":
        raise ModelLoadError(
            say("{name} is a checkpoint folder; the llama.cpp backend needs a GGUF file.", name=path.name),
            say("Convert it first: python main.py convert {path} model.gguf", path=path),
        )
    if spec.backend == "torch" and kind == "llamacpp":
        raise ModelLoadError(say("{name} is a GGUF file; the PyTorch backend needs the checkpoint folder.",
                                 name=path.name),
                             say("Pick the model's folder, or use the llama.cpp backend."))
    return spec.backend


def open_backend(spec: LoadSpec, progress: Callable[[int, int], None] | None = None) -> Backend:
    """Load the model in `spec` with the right backend (heavy imports happen here, not before)."""
    which = choose_backend(spec)
    if which == "llamacpp":
        from app.engine.llamacpp_backend import LlamaCppBackend

        return LlamaCppBackend(spec.path, n_ctx=spec.n_ctx or 4096, n_threads=spec.n_threads,
                               n_gpu_layers=spec.n_gpu_layers, kv_type=spec.kv_type, progress=progress)
    try:
        from app.engine.torch_backend import TorchBackend
    except ImportError as exc:
        raise ModelLoadError(
            say("The PyTorch backend is not installed (torch and transformers are missing)."),
            say("Install the app with its [torch] extra, or convert the model to GGUF for the llama.cpp backend."),
            str(exc),
        ) from exc
    return TorchBackend(spec.path, device=spec.device, n_ctx=spec.n_ctx, progress=progress)
