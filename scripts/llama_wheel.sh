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
# Default flags (see docs/llama-cpp-build.md): GGML_NATIVE=OFF with an explicit x86-64-v3
# feature set (AVX, AVX2, FMA, F16C, BMI2). No -march=native: the wheel is portable to any
# x86-64 CPU from 2015 on and never compiles the AMX kernels that crash on recent Xeons.
# Override with INTERNLM2_LLAMA_CMAKE_ARGS (e.g. add -DGGML_AVX512=ON for a local build), or
# set INTERNLM2_LLAMA_CPU=host for a wheel only for CPUs like this one: the x86-64-v3 flags plus
# the AVX512 sets this CPU has (AMX still off). Measured on an AVX512 Xeon (bench/README.md,
# "CPU sweep"): prefill 1.5x faster, decode the same. Such a wheel refuses, with a sentence, to
# load on a CPU without them (app/engine/llamacpp_runtime.py), so never ship it.
set -euo pipefail

version="${INTERNLM2_LLAMA_VERSION:-0.3.36}"
python="${PYTHON:-python3}"
case "$(uname -s)-$(uname -m)" in
  Darwin-arm64) default_args="-DGGML_METAL=ON -DGGML_NATIVE=OFF" ;;
  *-x86_64|*-AMD64)
    default_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ;;
  *) default_args="-DGGML_NATIVE=OFF" ;;
esac
if [ "${INTERNLM2_LLAMA_CPU:-portable}" = "host" ] && [ -r /proc/cpuinfo ]; then
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  has() { case "$flags" in *" $1 "*) return 0 ;; esac; return 1; }
  if has avx512f && has avx512bw && has avx512vl && has avx512dq && has avx512cd; then
    default_args="${default_args/-DGGML_AVX512=OFF/-DGGML_AVX512=ON}"
    has avx512vbmi && default_args="$default_args -DGGML_AVX512_VBMI=ON"
    has avx512_vnni && default_args="$default_args -DGGML_AVX512_VNNI=ON"
    has avx512_bf16 && default_args="$default_args -DGGML_AVX512_BF16=ON"
  fi
fi
cmake_args="${INTERNLM2_LLAMA_CMAKE_ARGS:-$default_args}"
pytag="$("$python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
key="$(printf '%s|%s|%s|%s' "$version" "$cmake_args" "$(uname -sm)" "$pytag" | sha256sum | cut -c1-16)"
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
  echo "  This takes about 5 minutes on 2 cores (up to 15 on a slow laptop), once: the wheel is then" >&2
  echo "  cached in $cache_root and reused." >&2
  echo "  CMAKE_ARGS=$cmake_args" >&2
  mkdir -p "$cache_root"
  tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  SECONDS=0
  set +e
  CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
    "$python" -m pip wheel -v --no-deps --no-cache-dir --no-binary llama-cpp-python \
    -w "$tmp" "llama-cpp-python==$version" 2>&1 | tee "$tmp/build.log" | _progress
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
