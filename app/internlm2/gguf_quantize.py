"""K-quants (Q4_K_M, Q5_K_M, Q6_K) through llama.cpp's quantizer, in a child process.

llama_model_quantize is a long C call that can neither be interrupted nor survive a crash of
its own. It runs in a child started with the `spawn` method (which works the same in a frozen
PyInstaller app, given multiprocessing.freeze_support() at start-up): cancelling kills the
child, a crash becomes a typed error, and the child's llama.cpp log goes to a file whose last
line explains a failure. Progress is the output file's growth, polled while the child runs.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import threading
from collections.abc import Callable
from pathlib import Path

from app.internlm2.errors import ExportCancelled, ExportError
from app.sentences import say

# name -> (llama_cpp ftype constant name, approximate bits per weight of the whole file)
_FTYPES: dict[str, tuple[str, float]] = {
    "q4_k_m": ("LLAMA_FTYPE_MOSTLY_Q4_K_M", 5.0),
    "q5_k_m": ("LLAMA_FTYPE_MOSTLY_Q5_K_M", 5.8),
    "q6_k": ("LLAMA_FTYPE_MOSTLY_Q6_K", 6.6),
}
K_QUANTS: tuple[str, ...] = tuple(_FTYPES)
_POLL_S = 0.2


def estimate_quantized_bytes(n_params: int, out_type: str) -> int:
    """A generous estimate of the quantized file size (for disk checks and progress)."""
    return int(n_params * _FTYPES[out_type][1] / 8) + (1 << 20)


def _quantize_child(src: str, dst: str, ftype_name: str, threads: int, log: str) -> None:
    """Child-process body: send llama.cpp's output to `log`, quantize, exit with its status."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    import llama_cpp

    from app.engine.llamacpp_runtime import load_cpu_variant

    load_cpu_variant()  # the app's build links no CPU code until a variant is loaded
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, ftype_name)
    params.nthread = threads
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params)
    os._exit(0 if rc == 0 else 3)


def _last_log_line(log: Path) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def quantize_gguf(src: Path, dst: Path, out_type: str, *,
                  progress: Callable[[str, int, int], None] | None = None,
                  cancel: threading.Event | None = None, threads: int = 0,
                  n_params: int | None = None) -> None:
    """Quantize the GGUF `src` (F16, BF16 or F32) to `dst` with llama.cpp.

    Raises ExportCancelled (the child killed, `dst` removed) or ExportError when llama.cpp
    fails or crashes. `dst` is written in place: the caller gives a temporary name. `n_params`
    (default: guessed from the size of `src`) sizes the progress total.
    """
    if out_type not in _FTYPES:
        raise ExportError(say("{type} is not a llama.cpp K-quant type.", type=out_type),
                          say("Choose one of: {choices}.", choices=", ".join(K_QUANTS)))
    if importlib.util.find_spec("llama_cpp") is None:  # a sentence here, not a child's traceback
        raise ExportError(say("llama-cpp-python is not installed, so K-quants cannot be made."),
                          say("Install llama-cpp-python or choose f16, bf16 or q8_0."))
    log = dst.with_name(dst.name + ".log")
    total = estimate_quantized_bytes(n_params or src.stat().st_size // 2, out_type)
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=_quantize_child, daemon=True,
                        args=(str(src), str(dst), _FTYPES[out_type][0], threads, str(log)))
    try:
        child.start()
        if progress is not None:
            progress("quantize", 0, total)
        while True:
            child.join(_POLL_S)
            if cancel is not None and cancel.is_set():  # honoured even if the child just ended
                child.kill()
                child.join()
                raise ExportCancelled(say("The conversion was cancelled."))
            if not child.is_alive():
                break
            if progress is not None:
                size = dst.stat().st_size if dst.exists() else 0
                progress("quantize", min(size, total - 1), total)
        if child.exitcode != 0:
            detail = _last_log_line(log)
            crashed = child.exitcode is not None and child.exitcode < 0
            how = f"signal {-(child.exitcode or 0)}" if crashed else f"exit code {child.exitcode}"
            raise ExportError(say("llama.cpp's quantizer crashed.") if crashed else say("llama.cpp's quantizer failed."),
                              say("Try another type such as q8_0 or f16."), f"{how}: {detail}" if detail else how)
        if progress is not None:
            size = dst.stat().st_size
            progress("quantize", size, size)
    except BaseException:
        if child.is_alive():
            child.kill()
            child.join()
        dst.unlink(missing_ok=True)
        raise
    finally:
        log.unlink(missing_ok=True)
        if child.exitcode is not None:
            child.close()
