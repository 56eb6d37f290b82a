#!/usr/bin/env bash
# The light bundle on the test path (scripts/test.sh): rebuild it when its inputs changed, then
# always run its --selftest on the tiny test model (packaging/README.md, "CI").
#
# The inputs' hash (packaging/inputs_hash.sh: app source and data, spec, build scripts, pinned
# versions, llama.cpp flags) is written beside the bundle; an unchanged hash and an existing
# bundle skip only the build, never the selftest.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=packaging/dist/light/internlm2-desktop/internlm2-desktop
want="$(packaging/inputs_hash.sh light)"
have="$(cat packaging/dist/light/BUILD_INPUTS 2>/dev/null || true)"
if [ "$want" = "$have" ] && [ -x "$exe" ]; then
  echo "light bundle up to date (inputs $want): not rebuilt"
else
  echo "light bundle inputs ${have:-none} -> $want: building"
  packaging/build.sh light
fi
.venv/bin/python packaging/bundle_selftest.py "$exe"
