"""Time from launch to the window's first paint: the source run and the bundle, side by side.

    .venv/bin/python bench/startup.py [--runs 5] [--bundle PATH] [--xvfb]

Each run launches the app with INTERNLM2_DESKTOP_QUIT_AFTER_PAINT=1 (app/ui/startup/startup_probe.py:
the window quits on its first paint and prints the time) in fresh, empty app folders, so no
model loads. Two figures per run: launch -> first paint on this script's clock (includes the
interpreter's or the bundle's own start), and the app's own 'since process start'. The target
is under 1.5 s on the CI machine; printed, not asserted. Also prints which heavy modules the
window imported (none of torch, transformers, llama_cpp is the rule).

Without a display it uses Qt's offscreen platform (or Xvfb with --xvfb, closer to a real
desktop: the xcb plugin, fonts and GL context are loaded as on a user's machine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUNDLE = ROOT / "packaging" / "dist" / "light" / "internlm2-desktop" / "internlm2-desktop"
HEAVY = ("torch", "transformers", "llama_cpp", "numpy", "sentencepiece", "gguf", "pypdf", "docx")


def _env(tmp: Path, platform: str) -> dict[str, str]:
    env = dict(os.environ, INTERNLM2_DESKTOP_QUIT_AFTER_PAINT="1")
    for kind in ("DATA", "CACHE", "LOGS", "CONFIG"):
        env[f"INTERNLM2_DESKTOP_{kind}"] = str(tmp / kind.lower())
    if platform:
        env["QT_QPA_PLATFORM"] = platform
    return env


def _one(cmd: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    start = time.time()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("first-paint:")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"{cmd[0]} exited {out.returncode} without painting:\n{out.stderr[-2000:]}")
    fields = dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
    own = fields.get("since-process-start", "unknown")
    return float(fields["epoch"]) - start, (None if own == "unknown" else float(own))


def _series(label: str, cmd: list[str], runs: int, platform: str) -> None:
    walls: list[float] = []
    owns: list[float] = []
    for i in range(runs + 1):  # the first run warms the disk cache and is not counted
        with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
            wall, own = _one(cmd, _env(Path(tmp), platform))
        if i == 0:
            continue
        walls.append(wall)
        if own is not None:
            owns.append(own)
    own_text = f"{statistics.median(owns):.3f} s" if owns else "n/a"
    print(f"{label:10} launch->first paint: median {statistics.median(walls):.3f} s "
          f"(min {min(walls):.3f}, max {max(walls):.3f}; {runs} runs); app's own since-start {own_text}; "
          f"target < 1.5 s: {'met' if statistics.median(walls) < 1.5 else 'NOT met'}")


def _heavy_imports(platform: str) -> list[str]:
    code = ("import sys; import app.ui.startup.application, app.ui.window.main_window; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    env = dict(os.environ, QT_QPA_PLATFORM=platform or os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE,
                        help=f"the bundle's executable (default: {DEFAULT_BUNDLE.relative_to(ROOT)})")
    parser.add_argument("--xvfb", action="store_true", help="run under xvfb-run instead of offscreen")
    args = parser.parse_args()
    platform = ""
    prefix: list[str] = []
    if args.xvfb:
        if shutil.which("xvfb-run") is None:
            print("xvfb-run is not installed", file=sys.stderr)
            return 2
        prefix = ["xvfb-run", "-a"]
        platform = "xcb"
    elif not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        platform = "offscreen"
    print(f"platform: {platform or 'the desktop'}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    heavy = _heavy_imports(platform)
    print(f"heavy modules the window imports at start: {', '.join(heavy) if heavy else 'none'}")
    _series("source", [*prefix, sys.executable, str(ROOT / "main.py")], args.runs, platform)
    if args.bundle.exists():
        _series("bundle", [*prefix, str(args.bundle)], args.runs, platform)
    else:
        print(f"bundle     not built ({args.bundle}); packaging/build.sh light builds it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
