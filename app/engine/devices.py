"""Choosing the device for the PyTorch backend, and saying why in a sentence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.engine.types import EngineError
from app.sentences import say


@dataclass(frozen=True)
class DeviceChoice:
    """Where the model runs, in which dtype, and the reason shown in the status bar."""

    device: str  # "cuda", "cuda:1", "mps", "cpu"
    dtype_name: str  # "bfloat16", "float16", "float32"
    label: str  # e.g. "NVIDIA H100 80GB HBM3 (CUDA, bf16)"
    reason: str

    @property
    def dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype_name)


def _cuda_reason(torch: Any) -> str:
    if torch.version.cuda is None:
        return "this PyTorch is a CPU-only build (install a CUDA build of torch to use the GPU)"
    return "PyTorch sees no CUDA GPU (check the NVIDIA driver)"


def pick_device(preference: str = "auto", dtype: str | None = None) -> DeviceChoice:
    """CUDA (bf16) -> Apple MPS (fp16) -> CPU (fp32), or the user's explicit choice.

    An explicit "cuda" or "mps" that is not available raises EngineError with the reason.
    """
    import torch

    pref = preference.lower()
    if pref.startswith("cuda") or pref == "auto":
        if torch.cuda.is_available():
            index = int(pref.split(":", 1)[1]) if ":" in pref else 0
            name = torch.cuda.get_device_name(index)
            bf16 = torch.cuda.is_bf16_supported()
            dt = dtype or ("bfloat16" if bf16 else "float16")
            return DeviceChoice(f"cuda:{index}", dt, f"{name} (CUDA, {_short(dt)})",
                                "a CUDA GPU is available")
        if pref != "auto":
            raise EngineError(say("No CUDA GPU can be used: {reason}.", reason=_cuda_reason(torch)),
                              say("Choose the CPU or the llama.cpp backend in Settings."))
    mps = getattr(torch.backends, "mps", None)
    if pref in ("auto", "mps") and mps is not None and mps.is_available():
        dt = dtype or "float16"
        return DeviceChoice("mps", dt, f"Apple GPU (MPS, {_short(dt)})", "Apple Metal (MPS) is available")
    if pref == "mps":
        raise EngineError(say("Apple's MPS GPU backend is not available on this computer."),
                          say("Choose the CPU or the llama.cpp backend in Settings."))
    dt = dtype or "float32"
    why = "chosen in Settings" if pref == "cpu" else f"no GPU: {_cuda_reason(torch)}"
    return DeviceChoice("cpu", dt, f"CPU ({_short(dt)})", why)


def _short(dtype: str) -> str:
    return {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(dtype, dtype)
