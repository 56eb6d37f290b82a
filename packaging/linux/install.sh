#!/usr/bin/env bash
# Add InternLM2 Desktop to your applications menu (this user only; no root needed).
#
#   ./install.sh            run from the unpacked internlm2-desktop folder (keep the folder where it is)
#   ./install.sh --remove   take the menu entry and the icon away again (your conversations stay)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
if [ "${1:-}" = "--remove" ]; then
  rm -f "$apps/internlm2-desktop.desktop" "$icons/internlm2-desktop.png"
  echo "Removed the menu entry. Your conversations are still in ${XDG_DATA_HOME:-$HOME/.local/share}/internlm2-desktop."
  exit 0
fi
mkdir -p "$apps" "$icons"
cp "$here/internlm2-desktop.png" "$icons/internlm2-desktop.png"
sed -e "s|^Exec=.*|Exec=\"$here/internlm2-desktop\"|" -e "s|^TryExec=.*|TryExec=$here/internlm2-desktop|" \
    "$here/internlm2-desktop.desktop" > "$apps/internlm2-desktop.desktop"
chmod +x "$apps/internlm2-desktop.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
echo "InternLM2 Desktop is in your applications menu (it starts $here/internlm2-desktop)."
