"""Shared fixtures: a tiny random InternLM2 checkpoint built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.tiny_model import TinySpec, build_tiny_checkpoint  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chat checkpoint folder: GQA 4/2 heads, 2 layers, bf16, sharded in two files."""
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-chat"), TinySpec(shards=2))


@pytest.fixture(scope="session")
def tiny_base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A base (non-chat) checkpoint folder in one safetensors file."""
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-base"), TinySpec(chat=False, seed=1))


@pytest.fixture(autouse=True)
def _isolated_app_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own data, cache, log and config folders: never the user's."""
    for var, sub in (("INTERNLM2_DESKTOP_DATA", "data"), ("INTERNLM2_DESKTOP_CACHE", "cache"),
                     ("INTERNLM2_DESKTOP_LOGS", "logs"), ("INTERNLM2_DESKTOP_CONFIG", "config")):
        monkeypatch.setenv(var, str(tmp_path / "appdirs" / sub))
