#!/usr/bin/env bash
# Install the app into .venv once (llama.cpp backend; INTERNLM2_WITH_TORCH=1 adds PyTorch) and
# start it. The install runs again only when pyproject.toml changed (scripts/setup_env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_env.sh app
exec .venv/bin/python main.py "$@"
