"""First-launch advice: which model and which backend suit this computer, in one sentence.

A CUDA GPU with enough free memory -> the PyTorch backend in bf16; Apple Silicon -> a GGUF on
Metal; anything else -> a Q4_K_M GGUF on the CPU. The hardware facts are injectable for tests.
"""

from __future__ import annotations

import importlib.util
import logging
import platform
from dataclasses import dataclass
from typing import Literal

from app.internlm2.catalog import CatalogModel, load_catalog

log = logging.getLogger(__name__)

CUDA_HEADROOM = 1.5
"""Free GPU memory needed, as a multiple of the bf16 weights (the rest: KV cache, activations)."""


@dataclass(frozen=True)
class Hardware:
    """What matters about this computer for the choice."""

    system: str  # platform.system(): "Linux", "Darwin", "Windows"
    machine: str  # platform.machine(): "x86_64", "arm64", ...
    torch_installed: bool = False
    cuda_name: str | None = None  # the first CUDA GPU PyTorch sees
    cuda_free_bytes: int | None = None

    @property
    def apple_silicon(self) -> bool:
        return self.system == "Darwin" and self.machine.lower() in ("arm64", "aarch64")


@dataclass(frozen=True)
class Recommendation:
    """The model and backend to start with, and the sentence that says so."""

    model: CatalogModel
    backend: Literal["torch", "llamacpp"]
    device: Literal["cuda", "metal", "cpu"]
    gguf_type: str | None  # the GGUF to convert to; None for the PyTorch backend
    sentence: str


def detect_hardware() -> Hardware:
    """The facts, from platform and (when installed) PyTorch. Slow the first time: call it off the GUI thread."""
    hw = Hardware(platform.system(), platform.machine())
    if importlib.util.find_spec("torch") is None:
        return hw
    try:
        import torch

        if not torch.cuda.is_available():
            return Hardware(hw.system, hw.machine, torch_installed=True)
        free, _total = torch.cuda.mem_get_info(0)
        return Hardware(hw.system, hw.machine, True, torch.cuda.get_device_name(0), int(free))
    except Exception as error:  # a broken driver must not stop the app from starting
        log.warning("could not query the GPU: %s", error)
        return Hardware(hw.system, hw.machine, torch_installed=True)


def recommend(hw: Hardware, catalog: list[CatalogModel] | None = None) -> Recommendation:
    """The recommended catalog model and how to run it on `hw`."""
    models = catalog if catalog is not None else load_catalog()
    model = next((m for m in models if m.recommended), models[0])
    needed = int(model.size_bytes * CUDA_HEADROOM)
    if hw.cuda_name is not None and hw.torch_installed and (hw.cuda_free_bytes or 0) >= needed:
        return Recommendation(
            model, "torch", "cuda", None,
            f"Recommended: {model.name} on the PyTorch backend in bf16 on your {hw.cuda_name} "
            f"({_gb(hw.cuda_free_bytes or 0)} free).")
    quant = model.default_quant
    if hw.apple_silicon:
        return Recommendation(
            model, "llamacpp", "metal", quant,
            f"Recommended: {model.name} as a {quant.upper()} GGUF on the llama.cpp backend "
            f"with Apple's Metal GPU.")
    why = ""
    if hw.cuda_name is not None and not hw.torch_installed:
        why = " (the PyTorch backend is not installed)"
    elif hw.cuda_name is not None:
        why = f" ({hw.cuda_name} has {_gb(hw.cuda_free_bytes or 0)} free, {_gb(needed)} needed)"
    return Recommendation(
        model, "llamacpp", "cpu", quant,
        f"Recommended: {model.name} as a {quant.upper()} GGUF on the llama.cpp backend "
        f"on the CPU{why}.")


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"
