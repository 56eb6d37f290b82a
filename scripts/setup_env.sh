#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv and install the app into it.
#
#   scripts/setup_env.sh app    the app: llama.cpp backend, Qt window (no torch;
#                               INTERNLM2_WITH_TORCH=1 adds the PyTorch backend)
#   scripts/setup_env.sh test   the app + the PyTorch backend (CPU torch) + test tools
#
# It installs once: a stamp in .venv holds the hash of what the install depends on
# (pyproject.toml, these scripts, the mode and the version/flag variables), and a later run
# with the same hash returns at once. Delete .venv/.setup-* to force a re-install.
#
# llama-cpp-python comes from scripts/llama_wheel.sh: built from source once per version and
# build flags (a C/C++ compiler is needed then), then reused from the wheel cache. Set PYTHON
# to pick the interpreter (>= 3.10).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-app}"
python="${PYTHON:-python3}"
venv=".venv"
case "$mode" in
  app|test) ;;
  *) echo "usage: $0 app|test" >&2; exit 2 ;;
esac

# What the install depends on, per mode; "test" installs everything "app" does.
_hash() {
  local extras="$1"
  { cat pyproject.toml scripts/setup_env.sh scripts/llama_wheel.sh scripts/llama_patch.py
    printf '%s|%s|%s|%s|%s\n' "$extras" "${INTERNLM2_LLAMA_VERSION:-}" \
      "${INTERNLM2_LLAMA_CMAKE_ARGS:-}" "${INTERNLM2_LLAMA_CPU:-}" "${INTERNLM2_TEST_TORCH:-}" "$("$python" -V 2>&1)"
  } | sha256sum | cut -c1-32
}
case "$mode" in
  app) extras="$([ "${INTERNLM2_WITH_TORCH:-0}" = "1" ] && echo torch || echo none)" ;;
  test) extras="torch,dev" ;;
esac
want="$(_hash "$extras")"
stamp="$venv/.setup-$mode"
_up_to_date() { [ -x "$venv/bin/python" ] && [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
if _up_to_date "$stamp" "$want" || { [ "$mode" = app ] && _up_to_date "$venv/.setup-test" "$(_hash torch,dev)"; }; then
  exit 0  # installed, and pyproject.toml has not changed since
fi

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "Python 3.10 or newer is needed ($python is $("$python" -V 2>&1 || echo missing)). Install it" >&2
  echo "(Debian/Ubuntu: sudo apt install python3 python3-venv) or set PYTHON=/path/to/python3." >&2
  exit 1
fi
echo "Installing the app into $venv ($mode)..." >&2
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv"; then
    echo "Could not create $venv: install the venv module (Debian/Ubuntu: sudo apt install python3-venv)." >&2
    exit 1
  fi
fi
py="$venv/bin/python"
rm -f "$venv"/.setup-*  # a half-done install is never taken for a finished one
"$py" -m pip install -q --disable-pip-version-check --upgrade pip wheel

if ! wheel="$(PYTHON="$py" scripts/llama_wheel.sh --cached)"; then
  # A miss: llama-cpp-python is compiled here. Say what is missing before a long build fails.
  missing=()
  command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || command -v clang >/dev/null 2>&1 || missing+=("a C compiler")
  command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || command -v clang++ >/dev/null 2>&1 || missing+=("a C++ compiler")
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Building llama-cpp-python needs ${missing[*]}, which this computer lacks. Install one:" >&2
    echo "  Debian/Ubuntu: sudo apt install build-essential cmake    Fedora: sudo dnf install gcc-c++ cmake" >&2
    echo "  macOS: xcode-select --install    then run this again." >&2
    exit 1
  fi
  # Build tools for the wheel (CMake and Ninja from PyPI unless the system has CMake).
  "$py" -m pip install -q --disable-pip-version-check scikit-build-core cmake ninja || {
    echo "Could not install CMake from PyPI; install it (Debian/Ubuntu: sudo apt install cmake) and run this again." >&2
    exit 1
  }
  wheel="$(PYTHON="$py" scripts/llama_wheel.sh)"
fi

spec="-e ."
# The wheel first, forced: a wheel of the same version with other build flags (the CPU variants
# build replacing the AVX2-only one) counts as installed already and would be skipped.
"$py" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel"
case "$mode" in
  app)
    [ "$extras" = torch ] && spec="-e .[torch]"
    # shellcheck disable=SC2086
    "$py" -m pip install -q --disable-pip-version-check "$wheel" $spec ;;
  test)
    # torch is pinned here, for the tests only: 2.13.0 is a CPU build on the CI machines; an
    # unpinned torch would pull a multi-GB CUDA build. The app itself asks only torch>=2.4.
    "$py" -m pip install -q --disable-pip-version-check "$wheel" "torch==${INTERNLM2_TEST_TORCH:-2.13.0}" \
      -e ".[torch,dev]" ;;
esac
echo "$want" > "$stamp"
echo "Installed; the next start skips this step until pyproject.toml changes." >&2
