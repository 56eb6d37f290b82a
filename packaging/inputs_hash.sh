#!/usr/bin/env bash
# Print a hash of everything a bundle is built from: the app's source and data, the spec, the
# build scripts, the pinned versions and the llama.cpp build flags. scripts/ci_bundle.sh
# rebuilds the bundle only when this changes (packaging/README.md).
#
#   packaging/inputs_hash.sh light|full
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:?usage: $0 light|full}"
{
  echo "flavour=$flavour"
  echo "platform=$(uname -sm)"
  echo "llama_cmake=${INTERNLM2_LLAMA_CMAKE_ARGS:-default} cpu=${INTERNLM2_LLAMA_CPU:-variants}"
  echo "torch_index=${INTERNLM2_TORCH_INDEX:-}"
  inputs=(main.py app resources models/catalog.toml LICENSE pyproject.toml packaging scripts/llama_wheel.sh scripts/llama_patch.py)
  { git ls-files -co --exclude-standard -- "${inputs[@]}" 2>/dev/null \
      || find "${inputs[@]}" -type f -not -path 'packaging/build/*' -not -path 'packaging/dist/*'; } \
    | grep -v -E '(^|/)__pycache__/|\.pyc$' | LC_ALL=C sort | while read -r f; do
      [ -f "$f" ] && printf '%s  %s\n' "$(sha256sum < "$f" | cut -c1-64)" "$f"
    done
} | sha256sum | cut -c1-16
