"""scripts/llama_patch.py: the llama-cpp-python source patched for CPU variants picked at run time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import llama_patch  # noqa: E402

TOP = """project(llama_cpp)
    llama_cpp_python_install_target(ggml-base)
    llama_cpp_python_install_target(ggml-cpu)
    llama_cpp_python_install_target(ggml-cuda)
"""
GGML = """function(ggml_add_cpu_backend_variant tag_name)
    set(GGML_CPU_TAG_NAME ${tag_name})
endfunction()
"""


def _tree(tmp_path: Path, top: str = TOP, ggml: str = GGML) -> Path:
    root = tmp_path / "llama_cpp_python-0.3.36"
    (root / "vendor/llama.cpp/ggml/src").mkdir(parents=True)
    (root / "CMakeLists.txt").write_text(top)
    (root / "vendor/llama.cpp/ggml/src/CMakeLists.txt").write_text(ggml)
    return root


def test_patch_installs_the_variants_and_filters_them(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert llama_patch.main([str(root)]) == 0
    top = (root / "CMakeLists.txt").read_text()
    ggml = (root / "vendor/llama.cpp/ggml/src/CMakeLists.txt").read_text()
    # The install rule follows ggml-cpu's and names every x86 variant llama.cpp defines.
    assert top.index("install_target(ggml-cpu)") < top.index("install_target(ggml-cpu-${variant})") \
        < top.index("install_target(ggml-cuda)")
    for variant in ("haswell", "alderlake", "skylakex", "icelake", "zen4", "sapphirerapids"):
        assert f" {variant}" in top.split("foreach(variant", 1)[1].split(")", 1)[0]
    # The filter is the first thing the variant function does.
    body = ggml.split("function(ggml_add_cpu_backend_variant tag_name)\n", 1)[1]
    assert body.lstrip().startswith("# internlm2-desktop:")
    assert "INTERNLM2_CPU_VARIANTS" in body.split("set(GGML_CPU_TAG_NAME", 1)[0]
    # Idempotent: a second run changes nothing.
    assert llama_patch.main([str(root)]) == 0
    assert (root / "CMakeLists.txt").read_text() == top
    assert (root / "vendor/llama.cpp/ggml/src/CMakeLists.txt").read_text() == ggml


def test_a_changed_source_is_refused_with_a_sentence(tmp_path: Path) -> None:
    root = _tree(tmp_path, top=TOP.replace("install_target(ggml-cpu)", "install_target(ggml-cpu-new)"))
    with pytest.raises(SystemExit, match="not the one scripts/llama_patch.py knows"):
        llama_patch.main([str(root)])
    with pytest.raises(SystemExit, match="not an unpacked llama-cpp-python source"):
        llama_patch.main([str(tmp_path / "nowhere")])


def test_the_wheel_script_refuses_an_unknown_cpu_mode(tmp_path: Path) -> None:
    env = {**os.environ, "INTERNLM2_LLAMA_CPU": "fastest", "INTERNLM2_WHEEL_CACHE": str(tmp_path)}
    done = subprocess.run(["bash", str(ROOT / "scripts/llama_wheel.sh"), "--cached"], env=env,
                          capture_output=True, text=True, timeout=60)
    if os.uname().machine not in ("x86_64", "AMD64"):
        return  # the mode only chooses among x86 builds
    assert done.returncode == 2
    assert "expected variants, avx2 or host" in done.stderr
