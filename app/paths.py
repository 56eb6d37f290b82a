"""Where the app keeps its data, cache, logs and models (platformdirs, or a portable folder)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from app import APP_ID

_PORTABLE_MARKER = "portable.txt"


def _portable_root() -> Path | None:
    """The folder beside the executable when a `portable.txt` marker file sits there."""
    base = Path(sys.executable).resolve().parent if getattr(sys, "frozen", False) else None
    if base is not None and (base / _PORTABLE_MARKER).exists():
        return base / "data"
    return None


def _root(env: str, kind: str) -> Path:
    override = os.environ.get(env)
    if override:
        return Path(override)
    portable = _portable_root()
    if portable is not None:
        return portable / kind
    getter = {
        "data": platformdirs.user_data_dir,
        "cache": platformdirs.user_cache_dir,
        "log": platformdirs.user_log_dir,
        "config": platformdirs.user_config_dir,
    }[kind]
    return Path(getter(APP_ID, appauthor=False))


def data_dir() -> Path:
    """Conversations database and converted models (INTERNLM2_DESKTOP_DATA overrides)."""
    return _root("INTERNLM2_DESKTOP_DATA", "data")


def cache_dir() -> Path:
    """Saved document KV states and other re-creatable files (INTERNLM2_DESKTOP_CACHE overrides)."""
    return _root("INTERNLM2_DESKTOP_CACHE", "cache")


def log_dir() -> Path:
    """Crash and diagnostic logs (INTERNLM2_DESKTOP_LOGS overrides)."""
    return _root("INTERNLM2_DESKTOP_LOGS", "log")


def config_dir() -> Path:
    """Settings (INTERNLM2_DESKTOP_CONFIG overrides)."""
    return _root("INTERNLM2_DESKTOP_CONFIG", "config")


def models_dir() -> Path:
    """Converted GGUF files and locally added models."""
    return data_dir() / "models"


def start_folder(last: str | Path | None = None) -> Path:
    """Where an Open or Save dialog starts: the folder used last (or the folder of the file
    used last) when it still exists, else the Downloads folder, else the home folder."""
    if last:
        path = Path(last).expanduser()
        folder = path if path.is_dir() else path.parent
        if folder.is_dir() and str(folder) not in ("", "."):
            return folder
    home = Path.home()
    downloads = Path(platformdirs.user_downloads_dir())
    return downloads if downloads.is_dir() else home
