"""Loading llama-cpp-python safely: lazy import, the CPU variant picked at run time, CPU
feature checks, the AMX crash guard."""

from __future__ import annotations

import contextlib
import ctypes
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
_backends_loaded = False


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
    load_cpu_variant()
    return llama_cpp


# The CPU variants scripts/llama_wheel.sh builds -> the /proc/cpuinfo flags each needs (llama.cpp's
# ggml/src/CMakeLists.txt); ggml loads the one with the highest score this CPU can run.
_X86_V3 = frozenset({"avx", "avx2", "fma", "f16c", "bmi2", "sse4_2"})
_AVX512 = frozenset({"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"})
VARIANT_NEEDS: dict[str, frozenset[str]] = {
    "haswell": _X86_V3,
    "alderlake": _X86_V3 | {"avx_vnni"},
    "skylakex": _X86_V3 | _AVX512,
    "icelake": _X86_V3 | _AVX512 | {"avx512vbmi", "avx512_vnni"},
    "zen4": _X86_V3 | _AVX512 | {"avx512vbmi", "avx512_vnni", "avx512_bf16"},
}


def library_dir() -> Path:
    """Where llama_cpp loads its shared libraries from (LLAMA_CPP_LIB_PATH, else llama_cpp/lib)."""
    import llama_cpp.llama_cpp as low

    return Path(low._base_path)


def cpu_variants(lib_dir: Path | None = None) -> list[str]:
    """The CPU variants of a GGML_BACKEND_DL build (libggml-cpu-zen4.so -> "zen4"); empty for a
    build with its CPU code linked in (one instruction set, chosen when it was compiled)."""
    folder = library_dir() if lib_dir is None else lib_dir
    names = []
    for p in folder.glob("*ggml-cpu-*"):
        stem = p.name.split(".", 1)[0]  # libggml-cpu-zen4.so / ggml-cpu-zen4.dll
        names.append(stem.split("ggml-cpu-", 1)[1])
    return sorted(set(names))


@lru_cache(maxsize=4)
def _ggml_library(lib_dir: Path) -> ctypes.CDLL | None:
    """The libggml that libllama itself uses, which holds the backend registry.

    The wheel carries identical copies under three names (libggml.so, .so.0, .so.0.25.3), and
    the dynamic linker tells libraries apart by file, so opening another copy would load a
    second registry that libllama never reads. The copy already mapped is the one (Linux);
    else the SONAME libllama asks for.
    """
    try:
        for line in Path("/proc/self/maps").read_text(errors="replace").splitlines():
            path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
            if Path(path).parent == lib_dir and re.fullmatch(r"libggml\.so(\.\d+)*", Path(path).name):
                return ctypes.CDLL(path)
    except OSError:
        pass
    for name in ("libggml.so.0", "libggml.0.dylib", "libggml.dylib", "ggml.dll", "libggml.so"):
        if (lib_dir / name).is_file():
            return ctypes.CDLL(str(lib_dir / name))
    return None


def load_cpu_variant() -> None:
    """Load the best CPU variant of a GGML_BACKEND_DL build (the app's own, scripts/llama_wheel.sh).

    Such a build links no CPU code: ggml scores each libggml-cpu-*.so against this CPU's
    features (cpuid) and registers the best one it can run. Once per process; nothing to do
    for a build with its CPU code linked in. Where no variant can run (a CPU without AVX2),
    nothing is registered and check_cpu() says so.
    """
    global _backends_loaded
    if _backends_loaded:
        return
    _backends_loaded = True
    lib_dir = library_dir()
    if not cpu_variants(lib_dir):
        return
    ggml = _ggml_library(lib_dir)
    if ggml is None:
        return
    load_all = ggml.ggml_backend_load_all_from_path
    load_all.argtypes = [ctypes.c_char_p]
    load_all.restype = None
    load_all(str(lib_dir).encode())
    _log.info("llama.cpp CPU variants %s; loaded: %s", ", ".join(cpu_variants(lib_dir)), loaded_cpu_variant() or "none")


def cpu_backend_registered() -> bool:
    """Whether llama.cpp has a CPU backend (always, except a GGML_BACKEND_DL build none of whose
    variants this CPU can run)."""
    lib_dir = library_dir()
    ggml = _ggml_library(lib_dir)
    if ggml is None:
        return True  # a build laid out some other way: llama.cpp itself reports a missing backend
    by_name = ggml.ggml_backend_reg_by_name
    by_name.argtypes = [ctypes.c_char_p]
    by_name.restype = ctypes.c_void_p
    return bool(by_name(b"CPU"))


def loaded_cpu_variant(maps: Path = Path("/proc/self/maps")) -> str | None:
    """The CPU variant this process loaded ("zen4"), where the OS says (Linux); else None."""
    try:
        text = maps.read_text(errors="replace")
    except OSError:
        return None
    found = re.search(r"ggml-cpu-([A-Za-z0-9_.]+?)\.(?:so|dylib|dll)", text)
    return found.group(1) if found else None


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
    import_llama_cpp()
    if cpu_variants() and not cpu_backend_registered():
        raise LlamaCppUnavailable(
            say("This computer's processor lacks the instructions the llama.cpp backend needs (AVX2)."),
            say("Choose the PyTorch backend in Settings."),
        )
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
