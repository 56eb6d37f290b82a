"""Loading llama-cpp-python safely: lazy import, CPU feature checks, the AMX crash guard."""

from __future__ import annotations

import contextlib
import logging
import platform
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from app.errors import UserError
from app.sentences import say


class LlamaCppUnavailable(UserError):
    """llama-cpp-python is missing, or its build cannot run on this CPU."""


# Build flags as printed by llama_print_system_info -> the /proc/cpuinfo flag each one needs.
_NEEDS = {"AVX": "avx", "AVX2": "avx2", "FMA": "fma", "F16C": "f16c", "BMI2": "bmi2",
          "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi", "AVX512_VNNI": "avx512_vnni",
          "AVX512_BF16": "avx512_bf16", "AMX_INT8": "amx_int8"}


_log = logging.getLogger("llama.cpp")
_log_callback: Any = None


def import_llama_cpp() -> ModuleType:
    """Import llama_cpp (only when a model loads: it is not needed to open the window).

    llama.cpp's own log lines go to the app's log (debug level), not to the terminal.
    """
    global _log_callback
    try:
        import llama_cpp
    except ImportError as exc:
        raise LlamaCppUnavailable(
            say("The llama.cpp backend is not installed (llama-cpp-python is missing)."),
            say("Reinstall the app, or choose the PyTorch backend in Settings."),
        ) from exc
    if _log_callback is None:
        def _to_logging(level: int, text: bytes, _data: Any) -> None:
            _log.debug("%s", text.decode("utf-8", errors="replace").rstrip())

        _log_callback = llama_cpp.llama_log_callback(_to_logging)
        llama_cpp.llama_log_set(_log_callback, None)
    return llama_cpp


@lru_cache(maxsize=1)
def build_features() -> dict[str, bool]:
    """CPU features the installed llama.cpp was compiled to use (from llama_print_system_info)."""
    info = import_llama_cpp().llama_print_system_info().decode(errors="replace")
    return {k: v == "1" for k, v in re.findall(r"([A-Z0-9_]+) = ([01])", info)}


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU's feature flags on Linux x86; None where they cannot be read (then no check)."""
    if platform.machine().lower() not in ("x86_64", "amd64") or not cpuinfo.exists():
        return None
    for line in cpuinfo.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return None


def missing_cpu_features(build: dict[str, bool], flags: set[str] | None) -> list[str]:
    """Instruction sets the build uses that this CPU lacks (empty when it can run)."""
    if flags is None:
        return []
    return [name for name, on in build.items() if on and name in _NEEDS and _NEEDS[name] not in flags]


def check_cpu() -> None:
    """Refuse, with a sentence, to run a llama.cpp build this CPU cannot execute."""
    missing = missing_cpu_features(build_features(), cpu_flags())
    if missing:
        raise LlamaCppUnavailable(
            say("This build of the llama.cpp backend needs CPU instructions this computer lacks ({missing}).",
                missing=", ".join(missing)),
            say("Rebuild llama-cpp-python for this CPU (scripts/llama_wheel.sh with "
                "INTERNLM2_LLAMA_CMAKE_ARGS) or use the PyTorch backend."),
        )


def amx_guard_needed(build: dict[str, bool], flags: set[str] | None) -> bool:
    """True where llama.cpp's AMX weight repacking could run: it segfaults on Q8_0/Q4_K_M.

    (An open llama.cpp issue in ggml_backend_amx_mul_mat; the app's own build compiles no AMX
    kernels, but a user-provided llama-cpp-python may.) Unknown CPU flags count as yes.
    """
    if not build.get("AMX_INT8", False):
        return False
    return flags is None or bool({"amx_int8", "amx_tile"} & flags)


@contextlib.contextmanager
def safe_model_params(extra_bufts: bool = True) -> Iterator[None]:
    """While a llama_cpp.Llama is built: extra (repacking) buffer types off if AMX could run,
    or if the caller's policy turns them off (`extra_bufts`, app/engine/llamacpp_policy.py)."""
    import_llama_cpp()
    if extra_bufts and not amx_guard_needed(build_features(), cpu_flags()):
        yield
        return
    import llama_cpp.llama_cpp as low  # the module llama_cpp.Llama reads its defaults from

    original = low.llama_model_default_params

    def _params() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    low.llama_model_default_params = _params
    try:
        yield
    finally:
        low.llama_model_default_params = original


def build_has_avx512() -> bool:
    """Whether the installed llama.cpp was compiled with AVX512 kernels."""
    return build_features().get("AVX512", False)


def repacking_allowed() -> bool:
    """Whether this build may repack the weights on this CPU (not where the AMX guard holds)."""
    return not amx_guard_needed(build_features(), cpu_flags())
