#!/usr/bin/env bash
# Install the app into .venv (llama.cpp backend; INTERNLM2_WITH_TORCH=1 adds PyTorch) and start it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_env.sh app
if [ "${INTERNLM2_WITH_TORCH:-0}" = "1" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[torch]"
fi
exec .venv/bin/python main.py "$@"
