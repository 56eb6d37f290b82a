"""A second start on the same database hands over to the first window (or says why not):
the guard's protocol in-process, and a real second `python main.py` in a child process.
Hostile neighbours: a squatter's socket or folder, a live server's socket, another user's
peer, oversized, slow and malformed messages."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalServer
from pytestqt.qtbot import QtBot

from app.storage import ConversationStore
from app.ui.startup.application import bring_forward
from app.ui.startup.single_instance import HandOver, InstanceGuard, absolute_args, server_name
from app.ui.workers.inference_worker import InferenceClient
from tests.ui_helpers import make_window, quick_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private runtime folder per test (short: socket paths are limited to ~100 bytes);
    child processes inherit it through the environment."""
    folder = Path(tempfile.mkdtemp(prefix="rt-"))
    os.chmod(folder, 0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "chat.sqlite3"


@pytest.fixture()
def first(qapp: object, db: Path) -> Iterator[InstanceGuard]:
    guard = InstanceGuard(db)
    assert guard.hand_over([]) is HandOver.NONE_RUNNING  # nobody there yet
    assert guard.listen()
    yield guard
    guard.close()


def _hand_over_in_thread(guard: InstanceGuard, argv: list[str]) -> list[HandOver]:
    """The second start blocks while it waits for the answer, so it runs on its own thread
    here (the first instance's event loop is the test's)."""
    result: list[HandOver] = []
    thread = threading.Thread(target=lambda: result.append(guard.hand_over(argv)))
    thread.start()
    return result


def test_second_start_hands_its_arguments_to_the_first(
        qtbot: QtBot, db: Path, first: InstanceGuard, tmp_path: Path) -> None:
    got: list[list[str]] = []
    first.received.connect(got.append)
    result = _hand_over_in_thread(InstanceGuard(tmp_path / "." / "chat.sqlite3"),
                                  ["--model", "rel/model.gguf"])
    qtbot.waitUntil(lambda: bool(result) and bool(got), timeout=10000)
    assert result == [HandOver.HANDED_OVER]
    assert got == [["--model", str(Path.cwd() / "rel" / "model.gguf")]]


def test_another_database_is_another_instance(tmp_path: Path, first: InstanceGuard) -> None:
    other = InstanceGuard(tmp_path / "other.sqlite3")
    assert other.name != first.name
    assert other.hand_over(["--db", str(tmp_path / "other.sqlite3")]) is HandOver.NONE_RUNNING


def test_a_first_instance_that_does_not_answer_is_reported(qapp: object, db: Path) -> None:
    hung = QLocalServer()
    address = InstanceGuard(db).address
    assert address is not None and hung.listen(address)  # accepts connections, never reads them
    try:
        assert InstanceGuard(db).hand_over(["--model", "x.gguf"], answer_ms=300) is HandOver.NO_ANSWER
    finally:
        hung.close()


def test_a_socket_left_by_a_crash_does_not_block_the_next_start(
        qapp: object, db: Path, runtime_dir: Path) -> None:
    path = str(runtime_dir / server_name(db))
    assert InstanceGuard(db).address == path  # in the private runtime folder, not in /tmp
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)  # the file stays after close(), as after a SIGKILL; nobody listens
    stale.close()
    guard = InstanceGuard(db)
    try:
        assert guard.hand_over([]) is HandOver.NONE_RUNNING
        assert guard.listen() and guard.listening
    finally:
        guard.close()


def test_absolute_args() -> None:
    assert absolute_args(["--db=a.sqlite3", "--model", "m.gguf", "-x"]) == [
        f"--db={Path.cwd() / 'a.sqlite3'}", "--model", str(Path.cwd() / "m.gguf"), "-x"]


def test_real_second_start_raises_the_window_loads_its_model_and_exits_0(
        qtbot: QtBot, db: Path, first: InstanceGuard, stop_model: tuple[Path, Path, int]) -> None:
    store = ConversationStore(db)
    client = InferenceClient()
    try:
        window = make_window(qtbot, store, client, quick_settings())
        window.showMinimized()
        first.received.connect(lambda argv: bring_forward(window, argv))
        gguf = stop_model[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen(  # a relative --model: the child runs in the model's folder
            [sys.executable, str(ROOT / "main.py"), "--db", str(db), "--model", gguf.name],
            cwd=gguf.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with qtbot.waitSignal(window.controller.modelChanged, timeout=60000):
            qtbot.waitUntil(lambda: child.poll() is not None, timeout=60000)
        out, err = child.communicate()
        assert child.returncode == 0, err
        assert "already open" in out and str(db) in out
        assert not window.isMinimized() and window.isVisible()
        assert window.controller.model and window.settings.model_path == str(gguf)
        assert store.conversations.list_recent() == []  # the child never opened the database
    finally:
        client.shutdown()
        store.close()
