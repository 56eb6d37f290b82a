#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv and install the app into it.
#
#   scripts/setup_env.sh app    the app: llama.cpp backend, Qt window (no torch)
#   scripts/setup_env.sh test   the app + the PyTorch backend (CPU torch) + test tools
#
# llama-cpp-python comes from scripts/llama_wheel.sh: built from source once per version and
# build flags, then reused from the wheel cache. Set PYTHON to pick the interpreter (>= 3.10).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-app}"
python="${PYTHON:-python3}"
venv=".venv"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install -q --disable-pip-version-check --upgrade pip wheel
# Build tools for the llama.cpp wheel (used only on a cache miss).
"$py" -m pip install -q --disable-pip-version-check scikit-build-core cmake ninja
wheel="$(PYTHON="$py" scripts/llama_wheel.sh)"

case "$mode" in
  app)
    "$py" -m pip install -q --disable-pip-version-check "$wheel" -e . ;;
  test)
    # torch is pinned here, for the tests only: 2.13.0 is a CPU build on the CI machines; an
    # unpinned torch would pull a multi-GB CUDA build. The app itself asks only torch>=2.4.
    "$py" -m pip install -q --disable-pip-version-check "$wheel" "torch==${INTERNLM2_TEST_TORCH:-2.13.0}" \
      -e ".[torch,dev]" ;;
  *) echo "usage: $0 app|test" >&2; exit 2 ;;
esac
