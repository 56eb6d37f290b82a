"""Before the window starts on Linux/X11: are the system libraries of Qt's xcb plugin there?

Without them Qt aborts with "Could not load the Qt platform plugin xcb ... This application
failed to start" and a core dump, which tells a newcomer nothing. main.py asks
`missing_qt_libraries_sentence()` first and prints one sentence with the apt command instead.
No Qt is imported here: the libraries are opened the way Qt opens them (dlopen by soname).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping, Sequence

# soname -> Debian/Ubuntu package, for Qt 6's xcb platform plugin and QtGui (what
# `readelf -d libqxcb.so libQt6XcbQpa.so.6 libQt6Gui.so.6` lists beyond the C runtime).
QT_XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
}


def qt_platform(argv: Sequence[str], environ: Mapping[str, str], system: str = sys.platform) -> str:
    """The platform plugin Qt will pick: `-platform NAME`, else QT_QPA_PLATFORM (its first
    choice), else Wayland in a Wayland session and xcb otherwise (Linux); '' elsewhere."""
    for i, arg in enumerate(argv):
        if arg in ("-platform", "--platform") and i + 1 < len(argv):
            return argv[i + 1].split(":", 1)[0]
        if arg.startswith(("-platform=", "--platform=")):
            return arg.split("=", 1)[1].split(":", 1)[0]
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";", 1)[0].split(":", 1)[0].strip()
    if chosen:
        return chosen
    if not system.startswith("linux"):
        return ""
    if environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def _can_open(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(can_open: Callable[[str], bool] | None = None) -> list[str]:
    """The sonames of QT_XCB_LIBRARIES that cannot be opened."""
    can_open = can_open or _can_open
    return [name for name in QT_XCB_LIBRARIES if not can_open(name)]


def missing_sentence(missing: Sequence[str]) -> str:
    """One sentence: what is missing and the apt command that installs it."""
    packages = sorted({QT_XCB_LIBRARIES[name] for name in missing})
    shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
    return (f"The window cannot open: Qt's X11 (xcb) plugin needs system libraries that are not "
            f"installed ({shown}). Install them with: sudo apt install {' '.join(packages)} "
            f"(Fedora: sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-image "
            f"xcb-util-keysyms xcb-util-renderutil libxkbcommon-x11), then start the app again.")


def missing_qt_libraries_sentence(argv: Sequence[str] | None = None,
                                  environ: Mapping[str, str] | None = None,
                                  can_open: Callable[[str], bool] | None = None) -> str:
    """'' when the window can start (or the platform is not xcb); else the sentence to print."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or qt_platform(argv, environ) != "xcb":
        return ""
    missing = missing_libraries(can_open)
    return missing_sentence(missing) if missing else ""
