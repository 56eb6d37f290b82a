#!/usr/bin/env bash
# Build the one-folder InternLM2 Desktop app with PyInstaller (Linux; macOS with the same steps).
#
#   packaging/build.sh light|full [--python PY] [--archive]
#
#   light   llama.cpp backend only (no torch): the laptop app
#   full    adds the PyTorch backend (torch + transformers) for CUDA machines
#
# Reproducible: a dedicated virtual environment per flavour (packaging/build/venv-FLAVOUR),
# every package pinned by packaging/constraints-FLAVOUR.txt, llama-cpp-python from
# scripts/llama_wheel.sh (one CPU library per level from AVX2 to AVX512-BF16, picked at run time,
# no AMX kernels; Metal on Apple Silicon), the third-party licence list generated from that environment. --python PY builds
# with an existing environment instead (PY must have the app's dependencies and pyinstaller).
# INTERNLM2_TORCH_INDEX (full only) is the index torch comes from, e.g.
# https://download.pytorch.org/whl/cu128 for a CUDA build (default: pip's own index).
#
# Output: packaging/dist/FLAVOUR/internlm2-desktop/ (run ./internlm2-desktop; install.sh adds
# the menu entry), its size on stdout, BUILD_INPUTS (the inputs' hash, see inputs_hash.sh) and
# with --archive packaging/dist/internlm2-desktop-VERSION-linux-ARCH-FLAVOUR.tar.gz.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-}"
case "$flavour" in light|full) shift ;; *) echo "usage: $0 light|full [--python PY] [--archive]" >&2; exit 2 ;; esac
python_env=""
archive=0
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python_env="$2"; shift 2 ;;
    --archive) archive=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
started=$(date +%s)
inputs="$(packaging/inputs_hash.sh "$flavour")"  # before the build: edits made during it force the next one
work="packaging/build/$flavour"
dist="packaging/dist/$flavour"
mkdir -p "$work"

if [ -z "$python_env" ]; then
  venv="packaging/build/venv-$flavour"
  [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
  py="$venv/bin/python"
  pip=("$py" -m pip install -q --disable-pip-version-check)
  wheel="$(PYTHON="$py" scripts/llama_wheel.sh)"
  extras="package"
  index=()
  if [ "$flavour" = full ]; then
    extras="package,torch"
    [ -n "${INTERNLM2_TORCH_INDEX:-}" ] && index=(--extra-index-url "$INTERNLM2_TORCH_INDEX")
  fi
  echo "== $flavour: installing pinned dependencies into $venv"
  # Forced: the same version built with other flags would count as installed and be skipped.
  "${pip[@]}" --no-deps --force-reinstall "$wheel"
  "${pip[@]}" ${index[@]+"${index[@]}"} -c "packaging/constraints-$flavour.txt" "$wheel" -e ".[$extras]"
  if [ "$flavour" = light ] && "$py" -c "import torch" 2>/dev/null; then
    echo "torch is installed in $venv: the light flavour must not see it" >&2; exit 1
  fi
else
  py="$python_env"
fi

echo "== $flavour: third-party licence list"
"$py" -m app.licences --flavour "$flavour" --out "$work/third_party_licences.json"

echo "== $flavour: PyInstaller"
INTERNLM2_FLAVOUR="$flavour" INTERNLM2_LICENCES_FILE="$work/third_party_licences.json" \
  "$py" -m PyInstaller --noconfirm --log-level WARN --distpath "$dist" --workpath "$work/pyinstaller" \
  packaging/internlm2-desktop.spec

app_dir="$dist/internlm2-desktop"
if [ "$(uname -s)" = Linux ]; then
  cp packaging/linux/internlm2-desktop.desktop packaging/linux/install.sh "$app_dir/"
  cp resources/icons/internlm2-desktop.png "$app_dir/internlm2-desktop.png"
  chmod +x "$app_dir/install.sh"
fi
echo "$inputs" > "$dist/BUILD_INPUTS"
size="$(du -sh "$app_dir" | cut -f1)"
echo "== $flavour: $app_dir is $size ($(find "$app_dir" -type f | wc -l) files), built in $(( $(date +%s) - started )) s"
if [ "$archive" = 1 ]; then
  version="$("$py" -c 'import app; print(app.__version__)')"
  tarball="packaging/dist/internlm2-desktop-$version-$(uname -s | tr A-Z a-z)-$(uname -m)-$flavour.tar.gz"
  tar -C "$dist" -czf "$tarball" internlm2-desktop
  echo "== $flavour: $tarball is $(du -sh "$tarball" | cut -f1)"
fi
