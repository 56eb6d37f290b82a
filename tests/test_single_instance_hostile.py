"""The single-instance socket against hostile neighbours: a folder or socket someone else made
first, a live (or merely busy) server, a peer that is another user, and messages that are too
large, too slow, too many or not ours. The tests build each of them for real."""

from __future__ import annotations

import json
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
from pytestqt.qtbot import QtBot

from app.ui.startup import instance_socket, single_instance
from app.ui.startup.single_instance import HandOver, InstanceGuard

_NOBODY = 65534


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
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
    assert guard.listen()
    yield guard
    guard.close()


def _make_not_ours(path: Path) -> None:
    """A foreign owner where the test may chown (root), else a link (not a socket either)."""
    if os.geteuid() == 0:
        os.chown(path, _NOBODY, _NOBODY, follow_symlinks=False)
    else:
        target = path.with_name(path.name + ".real")
        path.rename(target)
        path.symlink_to(target)


# -- the folder ---------------------------------------------------------------------------

def _squat_folder(folder: Path, how: str) -> None:
    if how == "open to all":
        folder.mkdir()
        os.chmod(folder, 0o777)
    elif how == "a link":
        real = folder.with_name(folder.name + "-real")
        real.mkdir(mode=0o700)
        folder.symlink_to(real)
    elif how == "another user's":
        folder.mkdir(mode=0o700)
        if os.geteuid() == 0:
            os.chown(folder, _NOBODY, _NOBODY)
        else:  # cannot give it away: a file where the folder should be is refused as well
            folder.rmdir()
            folder.write_text("squatted")


@pytest.mark.parametrize("how", ["open to all", "a link", "another user's"])
def test_a_runtime_folder_not_private_to_us_is_refused_and_the_guard_stays_off(
        qapp: object, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    loose = tmp_path / "xdg"
    _squat_folder(loose, how)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(loose))
    # XDG_RUNTIME_DIR refused: our own 0700 folder in the temporary folder instead.
    own = instance_socket.runtime_folder()
    assert own == shared_tmp / f"internlm2-desktop-{os.geteuid()}"
    assert own.stat().st_mode & 0o777 == 0o700
    own.rmdir()
    # Someone made that one first: no trusted folder, no guard, nothing sent anywhere.
    _squat_folder(own, how)
    assert instance_socket.runtime_folder() is None
    guard = InstanceGuard(db)
    assert guard.address is None and guard.refused
    assert guard.hand_over(["--model", "secret.gguf"]) is HandOver.NONE_RUNNING
    assert not guard.listen()


# -- a socket that is not ours, one that answers -------------------------------------------

class _Squatter:
    """A listening socket file that records whoever connects."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.sock.setblocking(False)

    def was_contacted(self) -> bool:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def close(self) -> None:
        self.sock.close()


def test_a_squatters_socket_gets_no_arguments_and_is_not_removed(qapp: object, db: Path) -> None:
    guard = InstanceGuard(db)
    assert guard.address is not None
    path = Path(guard.address)
    squatter = _Squatter(path)
    try:
        _make_not_ours(path)
        before = os.lstat(path)
        assert guard.hand_over(["--model", "/home/me/secret.gguf"]) is HandOver.NONE_RUNNING
        assert not squatter.was_contacted()  # not even connected to
        assert not guard.listen()
        after = os.lstat(path)
        assert (after.st_ino, after.st_uid) == (before.st_ino, before.st_uid)
    finally:
        squatter.close()


def test_a_live_servers_socket_is_never_removed_by_a_second_instance(
        qtbot: QtBot, db: Path, first: InstanceGuard) -> None:
    assert first.address is not None
    inode = os.stat(first.address).st_ino
    second = InstanceGuard(db)
    assert not second.listen()  # someone answers: not stale
    assert first.listening and os.stat(first.address).st_ino == inode
    got: list[list[str]] = []
    first.received.connect(got.append)
    result: list[HandOver] = []
    thread = threading.Thread(target=lambda: result.append(InstanceGuard(db).hand_over(["-x"])))
    thread.start()
    qtbot.waitUntil(lambda: bool(result) and bool(got), timeout=10000)
    thread.join()
    assert result == [HandOver.HANDED_OVER] and got == [["-x"]]  # the first still serves


def test_a_busy_server_that_never_accepts_is_not_taken_for_stale(qapp: object, db: Path) -> None:
    guard = InstanceGuard(db)
    assert guard.address is not None
    busy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    busy.bind(guard.address)
    busy.listen(1)  # alive, accepts nothing
    try:
        inode = os.stat(guard.address).st_ino
        assert guard.hand_over([], answer_ms=200) is HandOver.NO_ANSWER
        assert not guard.listen()
        assert os.stat(guard.address).st_ino == inode
    finally:
        busy.close()


# -- messages -----------------------------------------------------------------------------

def _raw_client(address: str, payload: bytes, results: list[bytes]) -> threading.Thread:
    """Connect, send `payload`, read until the server hangs up (or 10 s): results[0]."""
    def run() -> None:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(10)
        client.connect(address)
        answer = b""
        try:
            client.sendall(payload)
            while chunk := client.recv(4096):
                answer += chunk
        except (BrokenPipeError, ConnectionResetError):
            pass
        except TimeoutError:
            answer += b"<still open after 10 s>"
        finally:
            client.close()
        results.append(answer)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _hostile_messages() -> dict[str, bytes]:
    line = {"argv": ["--model", "m.gguf"]}
    return {
        "oversized, no newline": b"x" * (single_instance.MAX_MESSAGE * 16),
        "oversized JSON line": json.dumps({"argv": ["a" * single_instance.MAX_MESSAGE]}).encode()
                               + b"\n",
        "not JSON": b"\xff\xfe not json\n",
        "JSON but not an object": b"[1, 2, 3]\n",
        "argv not a list": b'{"argv": "--model m"}\n',
        "argv of numbers": b'{"argv": [1, 2]}\n',
        "too many arguments": json.dumps({"argv": ["-x"] * (single_instance.MAX_ARGS + 1)}
                                         ).encode() + b"\n",
        "an argument too long": json.dumps({"argv": ["y" * (single_instance.MAX_ARG_CHARS + 1)]}
                                           ).encode() + b"\n",
        "a NUL in an argument": json.dumps({"argv": ["a\x00b"]}).encode() + b"\n",
        "slow: half a line, then silence": json.dumps(line).encode()[:10],
    }


@pytest.mark.parametrize("kind", sorted(_hostile_messages()))
def test_a_hostile_message_is_cut_off_and_never_reaches_the_window(
        qtbot: QtBot, first: InstanceGuard, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setattr(single_instance, "MESSAGE_MS", 300)
    got: list[list[str]] = []
    first.received.connect(got.append)
    results: list[bytes] = []
    assert first.address is not None
    thread = _raw_client(first.address, _hostile_messages()[kind], results)
    qtbot.waitUntil(lambda: bool(results), timeout=15000)  # bounded: cut, not left hanging
    thread.join()
    assert results == [b""] and got == []  # hung up on: no "ok", nothing handed over


def test_more_connections_than_allowed_are_cut_and_the_server_still_serves(
        qtbot: QtBot, db: Path, first: InstanceGuard, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(single_instance, "MESSAGE_MS", 1000)
    assert first.address is not None
    results: list[bytes] = []
    threads = [_raw_client(first.address, b"", results)
               for _ in range(single_instance.MAX_CLIENTS + 2)]
    qtbot.waitUntil(lambda: len(results) == len(threads), timeout=15000)
    for thread in threads:
        thread.join()
    assert results == [b""] * len(threads)
    got: list[list[str]] = []
    first.received.connect(got.append)
    after: list[HandOver] = []
    thread = threading.Thread(target=lambda: after.append(InstanceGuard(db).hand_over(["-y"])))
    thread.start()
    qtbot.waitUntil(lambda: bool(after) and bool(got), timeout=10000)  # still serving
    thread.join()
    assert after == [HandOver.HANDED_OVER] and got == [["-y"]]


# -- a peer that is another user ----------------------------------------------------------

_OTHER_USER_CLIENT = """
import json, socket, sys
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.settimeout(10)
client.connect(sys.argv[1])
answer = b""
try:  # the server may hang up before, during or after the send: all are a refusal
    client.sendall(json.dumps({"argv": ["--model", "/tmp/evil.gguf"]}).encode() + b"\\n")
    while chunk := client.recv(64):
        answer += chunk
except (BrokenPipeError, ConnectionResetError, TimeoutError):
    pass
print(json.dumps({"answer": answer.decode("latin-1")}))
"""


def test_a_peer_of_another_user_is_hung_up_on(
        qtbot: QtBot, first: InstanceGuard, runtime_dir: Path) -> None:
    """As if the folder and socket modes had been opened up: the peer check still holds.
    A client as another user needs root (setpriv); without root only the check's answer for
    this same user is seen."""
    assert first.address is not None
    a, b = socket.socketpair()
    try:
        assert instance_socket.peer_uid(a.fileno()) == os.geteuid()
        assert instance_socket.same_user(a.fileno())
    finally:
        a.close()
        b.close()
    if os.geteuid() != 0:
        return
    os.chmod(runtime_dir, 0o711)
    os.chmod(first.address, 0o777)
    got: list[list[str]] = []
    first.received.connect(got.append)
    child = subprocess.Popen(
        ["setpriv", f"--reuid={_NOBODY}", f"--regid={_NOBODY}", "--clear-groups",
         "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search",
         sys.executable, "-c", _OTHER_USER_CLIENT, first.address],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    qtbot.waitUntil(lambda: child.poll() is not None, timeout=30000)
    out, err = child.communicate()
    assert child.returncode == 0, err
    assert json.loads(out)["answer"] == "" and got == []
