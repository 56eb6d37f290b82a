#!/usr/bin/env bash
# Build (once) and cache a llama-cpp-python wheel, keyed by version and build flags.
#
# pip's own wheel cache ignores CMAKE_ARGS, so a wheel built for one set of flags would be
# reused for another. This script keys its cache on the version, the flags, the platform and
# the Python tag, builds from source only on a miss (about 5 minutes on 2 cores), and prints
# the path of the wheel on stdout. While it builds, stderr shows a line per stage with the time
# so far (the full build log is kept and its end shown if the build fails).
#
#   scripts/llama_wheel.sh            the wheel's path (built first on a miss)
#   scripts/llama_wheel.sh --cached   the wheel's path if it is cached; exit status 1 if not
#
# Default flags on x86-64 (see docs/llama-cpp-build.md): GGML_BACKEND_DL with one CPU library
# per instruction-set level from AVX2 up (haswell, alderlake, skylakex, icelake, zen4), and the
# app loads the best one this CPU can run (app/engine/llamacpp_runtime.py). No -march=native and
# no AMX variant: the wheel runs on any x86-64 CPU with AVX2 (Intel from 2013, AMD from 2017),
# reads prompts 1.5-2.2x faster where AVX512 is there, and never compiles the AMX kernels that
# crash on recent Xeons. The source is patched first (scripts/llama_patch.py): llama-cpp-python
# 0.3.36 would build fourteen variants and ship none of them.
#   INTERNLM2_LLAMA_CPU=avx2   one library with the x86-64-v3 set only (the build before 0.3)
#   INTERNLM2_LLAMA_CPU=host   one library for CPUs like this one: x86-64-v3 plus the AVX512 sets
#                              this CPU has (AMX still off); it refuses, with a sentence, to load
#                              on a CPU without them, so never ship it.
#   INTERNLM2_LLAMA_CMAKE_ARGS replaces the flags altogether.
set -euo pipefail

version="${INTERNLM2_LLAMA_VERSION:-0.3.36}"
python="${PYTHON:-python3}"
mode="${INTERNLM2_LLAMA_CPU:-variants}"
avx2_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
case "$(uname -s)-$(uname -m)" in
  Darwin-arm64) default_args="-DGGML_METAL=ON -DGGML_NATIVE=OFF" ;;
  *-x86_64|*-AMD64)
    case "$mode" in
      variants) default_args="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DINTERNLM2_CPU_VARIANTS=haswell,alderlake,skylakex,icelake,zen4 -DLLAVA_BUILD=OFF" ;;
      avx2|portable) default_args="$avx2_args" ;;
      host)
        default_args="$avx2_args"
        if [ -r /proc/cpuinfo ]; then
          flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
          has() { case "$flags" in *" $1 "*) return 0 ;; esac; return 1; }
          if has avx512f && has avx512bw && has avx512vl && has avx512dq && has avx512cd; then
            default_args="${default_args/-DGGML_AVX512=OFF/-DGGML_AVX512=ON}"
            has avx512vbmi && default_args="$default_args -DGGML_AVX512_VBMI=ON"
            has avx512_vnni && default_args="$default_args -DGGML_AVX512_VNNI=ON"
            has avx512_bf16 && default_args="$default_args -DGGML_AVX512_BF16=ON"
          fi
        fi ;;
      *) echo "INTERNLM2_LLAMA_CPU=$mode: expected variants, avx2 or host." >&2; exit 2 ;;
    esac ;;
  *) default_args="-DGGML_NATIVE=OFF" ;;
esac
cmake_args="${INTERNLM2_LLAMA_CMAKE_ARGS:-$default_args}"
pytag="$("$python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
patch_sum="$(sha256sum "$here/llama_patch.py" | cut -c1-16)"
key="$(printf '%s|%s|%s|%s|%s' "$version" "$cmake_args" "$(uname -sm)" "$pytag" "$patch_sum" | sha256sum | cut -c1-16)"
cache_root="${INTERNLM2_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/internlm2-desktop/wheels}"
dir="$cache_root/llama-cpp-python-$version-$key"

wheel="$(ls "$dir"/llama_cpp_python-*.whl 2>/dev/null | head -n 1 || true)"
if [ "${1:-}" = "--cached" ]; then
  [ -n "$wheel" ] && echo "$wheel"
  [ -n "$wheel" ]
  exit
fi

# One line per stage of the build on stderr, with the time so far; the compile stage every
# tenth of the way (ninja's "[done/total]" lines).
_elapsed() { printf '%d min %02d s' $((SECONDS / 60)) $((SECONDS % 60)); }
_progress() {
  local stage="" line done total step next=10
  while IFS= read -r line; do
    step=""
    case "$line" in
      *"Collecting llama-cpp-python"*|*"Downloading llama_cpp_python"*) step="downloading the source" ;;
      *"Configuring"*|*"The C compiler identification"*) step="configuring the build (CMake)" ;;
      *"Created wheel for llama-cpp-python"*) step="wheel created" ;;
    esac
    if [ -n "$step" ] && [ "$step" != "$stage" ]; then
      stage="$step"
      echo "  [$(_elapsed)] $stage" >&2
    fi
    if [[ "$line" =~ ^[[:space:]]*\[([0-9]+)/([0-9]+)\] ]]; then
      done="${BASH_REMATCH[1]}"
      total="${BASH_REMATCH[2]}"
      if [ "$total" -gt 0 ] && [ $((done * 100 / total)) -ge "$next" ]; then
        echo "  [$(_elapsed)] compiling llama.cpp: $done of $total steps ($((done * 100 / total))%)" >&2
        next=$(( (done * 100 / total) / 10 * 10 + 10 ))
      fi
    fi
  done
}

if [ -z "$wheel" ]; then
  echo "llama-cpp-python $version: no cached wheel for these flags, so it is compiled from source now." >&2
  echo "  This takes about 15 minutes on 2 cores (longer on a slow laptop), once: the wheel is then" >&2
  echo "  cached in $cache_root and reused." >&2
  echo "  CMAKE_ARGS=$cmake_args" >&2
  mkdir -p "$cache_root"
  tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  SECONDS=0
  set +e
  echo "  [$(_elapsed)] downloading the source" >&2
  "$python" -m pip download -q --no-deps --no-binary :all: -d "$tmp/sdist" "llama-cpp-python==$version" \
    > "$tmp/download.log" 2>&1 || { echo "Could not download llama-cpp-python $version's source:" >&2; tail -n 20 "$tmp/download.log" >&2; exit 1; }
  tar -xzf "$tmp"/sdist/llama_cpp_python-*.tar.gz -C "$tmp/sdist"
  src="$(ls -d "$tmp"/sdist/llama_cpp_python-*/ | head -n 1)"
  "$python" "$here/llama_patch.py" "$src"
  CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
    "$python" -m pip wheel -v --no-deps --no-cache-dir -w "$tmp" "$src" 2>&1 | tee "$tmp/build.log" | _progress
  status="${PIPESTATUS[0]}"
  set -e
  if [ "$status" -ne 0 ]; then
    echo "llama-cpp-python failed to build after $(_elapsed); the end of its log:" >&2
    tail -n 40 "$tmp/build.log" >&2
    exit "$status"
  fi
  mkdir -p "$dir"
  printf '%s\n' "$cmake_args" > "$tmp/CMAKE_ARGS"
  mv "$tmp"/llama_cpp_python-*.whl "$tmp/CMAKE_ARGS" "$dir/"
  wheel="$(ls "$dir"/llama_cpp_python-*.whl | head -n 1)"
fi
echo "$wheel"
