#!/usr/bin/env bash
# Build (once) and cache a llama-cpp-python wheel, keyed by version and build flags.
#
# pip's own wheel cache ignores CMAKE_ARGS, so a wheel built for one set of flags would be
# reused for another. This script keys its cache on the version, the flags, the platform and
# the Python tag, builds from source only on a miss (about 5 minutes on 2 cores), and prints
# the path of the wheel on stdout.
#
# Default flags (see docs/llama-cpp-build.md): GGML_NATIVE=OFF with an explicit x86-64-v3
# feature set (AVX, AVX2, FMA, F16C, BMI2). No -march=native: the wheel is portable to any
# x86-64 CPU from 2015 on and never compiles the AMX kernels that crash on recent Xeons.
# Override with INTERNLM2_LLAMA_CMAKE_ARGS (e.g. add -DGGML_AVX512=ON for a local build).
set -euo pipefail

version="${INTERNLM2_LLAMA_VERSION:-0.3.36}"
python="${PYTHON:-python3}"
case "$(uname -s)-$(uname -m)" in
  Darwin-arm64) default_args="-DGGML_METAL=ON -DGGML_NATIVE=OFF" ;;
  *-x86_64|*-AMD64)
    default_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ;;
  *) default_args="-DGGML_NATIVE=OFF" ;;
esac
cmake_args="${INTERNLM2_LLAMA_CMAKE_ARGS:-$default_args}"
pytag="$("$python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
key="$(printf '%s|%s|%s|%s' "$version" "$cmake_args" "$(uname -sm)" "$pytag" | sha256sum | cut -c1-16)"
cache_root="${INTERNLM2_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/internlm2-desktop/wheels}"
dir="$cache_root/llama-cpp-python-$version-$key"

wheel="$(ls "$dir"/llama_cpp_python-*.whl 2>/dev/null | head -n 1 || true)"
if [ -z "$wheel" ]; then
  echo "llama-cpp-python $version: no cached wheel for these flags, building from source (a few minutes)..." >&2
  echo "  CMAKE_ARGS=$cmake_args" >&2
  mkdir -p "$cache_root"
  tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
    "$python" -m pip wheel --no-deps --no-cache-dir --no-binary llama-cpp-python \
    -w "$tmp" "llama-cpp-python==$version" >&2
  mkdir -p "$dir"
  printf '%s\n' "$cmake_args" > "$tmp/CMAKE_ARGS"
  mv "$tmp"/llama_cpp_python-*.whl "$tmp/CMAKE_ARGS" "$dir/"
  wheel="$(ls "$dir"/llama_cpp_python-*.whl | head -n 1)"
fi
echo "$wheel"
