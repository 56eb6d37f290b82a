#!/usr/bin/env bash
# Install everything the tests need into .venv, then lint, type-check and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_env.sh test
py=.venv/bin/python
export QT_QPA_PLATFORM=offscreen
echo "== ruff"; "$py" -m ruff check .
echo "== mypy"; "$py" -m mypy app main.py
echo "== pytest"; "$py" -m pytest "$@"
# The light double-click bundle: rebuilt only when its inputs changed (about 2 min on 2 cores),
# its --selftest on the tiny model always (packaging/README.md, "CI").
echo "== bundle"; packaging/ci.sh
