#!/usr/bin/env bash
# CUDA benchmark of a 200,000-character document on the PyTorch backend (bench/gpu_longdoc.py).
#   bash bench/gpu_longdoc.sh   # on a GPU machine; carry .whl/ (platformdirs) if missing there
set -uo pipefail
cd "$(dirname "$0")/.."
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
start=$(date +%s)
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 bench/gpu_longdoc.py "$@" 2>&1 | grep -v "^\s*$"
echo "total $(( $(date +%s) - start )) s"
