#!/usr/bin/env bash
# Regenerate the Simplified Chinese catalogue from the sources (the window's tr() strings and the
# core's say() sentences), then compile it. Translate the new entries (Qt Linguist, or edit the
# .ts) and run this again to rebuild the .qm the app loads. tests/test_translations.py checks
# that nothing the user can see is left untranslated.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
ts=resources/translations/internlm2_desktop_zh_CN.ts
mkdir -p build
"$py" scripts/core_strings.py > build/core_strings.py
mapfile -t ui < <(find app/ui -name '*.py' | sort)
.venv/bin/pyside6-lupdate -no-obsolete -locations none "${ui[@]}" build/core_strings.py -ts "$ts"
.venv/bin/pyside6-lrelease "$ts" -qm "${ts%.ts}.qm"
