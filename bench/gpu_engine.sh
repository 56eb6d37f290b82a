#!/usr/bin/env bash
# CUDA benchmark of the PyTorch backend (fast decode, long context) against transformers.
#
#   bash bench/gpu_engine.sh            # on a GPU machine with torch + transformers, no internet
#
# Wheels of missing pure-Python packages (platformdirs...) may lie in .whl/ (see bench/README.md):
# they are installed into /tmp/site first. The checkpoint is GENERATED here with random weights
# of the real InternLM2-1.8B shape (bench/convert.py's builder), never copied. Budget: < 8 min.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 bench/gpu_engine.py "$@" 2>&1 | grep -v "^\s*$" || exit 1
# The compile cache across runs: a second process times its first reply again.
if (( $(date +%s) - start < 330 )); then
  python3 bench/gpu_engine.py --first-only 2>&1 | grep -E "first reply|decode step|compile" | tail -5
fi
echo "total $(( $(date +%s) - start )) s"
