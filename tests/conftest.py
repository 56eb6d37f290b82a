"""Shared fixtures: a tiny random InternLM2 checkpoint built once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.tiny_model import TinySpec, build_tiny_checkpoint  # noqa: E402

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from app.storage import ConversationStore
    from app.ui.window.main_window import MainWindow
    from app.ui.workers.inference_worker import InferenceClient


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


STOP_PROMPT = "Say something short."


@pytest.fixture(scope="session")
def stop_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """A chat checkpoint whose greedy reply to STOP_PROMPT ends with <|im_end|> after k tokens.

    Returns (checkpoint folder, its F32 GGUF, k).
    """
    from app.internlm2.chat_format import Message, build_chat_prompt
    from app.internlm2.gguf_export import export_gguf
    from app.internlm2.tokenizer import InternLM2Tokenizer
    from tests.tiny_model import make_reply_stop

    folder = build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-stop"), TinySpec(seed=7, dtype="F32"))
    tok = InternLM2Tokenizer.from_folder(folder)
    k = make_reply_stop(folder, build_chat_prompt([Message("user", STOP_PROMPT)]).ids(tok))
    gguf = export_gguf(folder, folder.parent / "stop-f32.gguf", "f32")
    return folder, gguf, k


@pytest.fixture(scope="session")
def tiny_gguf(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny chat model exported to an F32 GGUF (exact parity with transformers in fp32)."""
    from app.internlm2.gguf_export import export_gguf

    return export_gguf(tiny_model, tmp_path_factory.mktemp("tiny-gguf") / "tiny-f32.gguf", "f32")


@pytest.fixture(scope="session")
def q4_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Q4_K_M tiny model whose rows (256) llama.cpp repacks: the layouts the CPU policy pairs
    (the prompt reader, the shallow decoder). Trained length 1,024, so a longer conversation
    changes the rope base."""
    from app.internlm2.gguf_export import export_gguf
    from app.internlm2.gguf_quantize import quantize_gguf

    root = tmp_path_factory.mktemp("q4")
    spec = TinySpec(hidden=256, intermediate=512, heads=4, kv_heads=2, tokenizer="synthetic", dtype="F32",
                    seed=5, max_positions=1024)
    folder = build_tiny_checkpoint(root / "ckpt", spec)
    f32 = export_gguf(folder, root / "tiny-f32.gguf", "f32")
    out = root / "tiny-q4_k_m.gguf"
    quantize_gguf(f32, out, "q4_k_m", threads=1)
    return out


def _close_windows() -> None:
    """Close every main window still open (a test's window outlives its body until qtbot's
    teardown, which comes after this fixture's)."""
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtWidgets import QApplication

    from app.ui.window.main_window import MainWindow

    if QApplication.instance() is None:
        return
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow) and widget.isVisible():
            widget.close()


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    """A real conversation database in the test's folder."""
    from app.storage import ConversationStore

    s = ConversationStore(tmp_path / "chat.sqlite3")
    yield s
    _close_windows()  # as the app does: windows close (and stop listening) before the store
    s.close()


@pytest.fixture()
def client() -> Iterator[InferenceClient]:
    """The real inference worker thread (Qt is imported only by the tests that use it)."""
    from app.ui.workers.inference_worker import InferenceClient

    c = InferenceClient()
    yield c
    c.shutdown()


@pytest.fixture()
def window(qtbot: QtBot, store: ConversationStore, client: InferenceClient,
           stop_model: tuple[Path, Path, int]) -> MainWindow:
    """The real window offscreen with the stop model loaded on the llama.cpp backend (the
    tests that need another window, or none loaded, define their own `window`)."""
    from tests.ui_helpers import load, make_window, quick_settings

    w = make_window(qtbot, store, client, quick_settings())
    load(qtbot, w, stop_model[1])
    return w
