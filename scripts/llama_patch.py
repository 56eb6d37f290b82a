"""Patch an unpacked llama-cpp-python source tree for a build with CPU variants picked at run time.

llama.cpp's GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS builds one CPU library per instruction-set
level (libggml-cpu-haswell.so, libggml-cpu-zen4.so, ...) and, at run time, loads the one with
the best score among those the CPU can run. llama-cpp-python 0.3.36 does not ship that build:

1. its install rules name `ggml-cpu` only, so the variant libraries never reach the wheel;
2. llama.cpp builds fourteen x86 variants (about 2 minutes each on 2 cores), ten of them for
   CPUs without AVX2, which this app does not support, and one (sapphirerapids) with the AMX
   kernels that crash on quantized models (docs/llama-cpp-build.md).

This script adds the install rule and an INTERNLM2_CPU_VARIANTS list (comma-separated) that
keeps only the variants named. Each edit checks its anchor and fails with a sentence if the
source changed, so a new llama-cpp-python version cannot be built half-patched. Idempotent.

    python scripts/llama_patch.py SOURCE_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

MARK = "# internlm2-desktop:"

# Every x86 variant llama.cpp defines; the install rule skips the ones not built.
ALL_X86 = ("x64 sse42 sandybridge ivybridge piledriver haswell skylakex cannonlake cascadelake "
           "icelake cooperlake zen4 alderlake sapphirerapids")

INSTALL_ANCHOR = "    llama_cpp_python_install_target(ggml-cpu)\n"
INSTALL_ADD = (f"    {MARK} the CPU variants of a GGML_BACKEND_DL build\n"
               f"    foreach(variant {ALL_X86})\n"
               "        llama_cpp_python_install_target(ggml-cpu-${variant})\n"
               "    endforeach()\n")

FILTER_ANCHOR = "function(ggml_add_cpu_backend_variant tag_name)\n"
FILTER_ADD = (f"    {MARK} build only the variants INTERNLM2_CPU_VARIANTS names (all when unset)\n"
              "    if (DEFINED INTERNLM2_CPU_VARIANTS)\n"
              "        string(REPLACE \",\" \";\" _internlm2_variants \"${INTERNLM2_CPU_VARIANTS}\")\n"
              "        if (NOT tag_name IN_LIST _internlm2_variants)\n"
              "            return()\n"
              "        endif()\n"
              "    endif()\n")


def patch_file(path: Path, anchor: str, addition: str) -> bool:
    """Insert `addition` after `anchor` in `path`; False if it was already there."""
    text = path.read_text(encoding="utf-8")
    if addition in text:
        return False
    if text.count(anchor) != 1:
        raise SystemExit(f"{path}: expected exactly one line {anchor.strip()!r} to patch; this "
                         "llama-cpp-python version is not the one scripts/llama_patch.py knows. "
                         "Build with INTERNLM2_LLAMA_CPU=portable or update the patch.")
    path.write_text(text.replace(anchor, anchor + addition, 1), encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    top = root / "CMakeLists.txt"
    ggml = root / "vendor" / "llama.cpp" / "ggml" / "src" / "CMakeLists.txt"
    for path in (top, ggml):
        if not path.is_file():
            raise SystemExit(f"{path} is missing: {root} is not an unpacked llama-cpp-python source.")
    patch_file(top, INSTALL_ANCHOR, INSTALL_ADD)
    patch_file(ggml, FILTER_ANCHOR, FILTER_ADD)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
