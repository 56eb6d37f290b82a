"""One window per database: a second start hands its arguments to the first and exits.

The first instance listens on a QLocalServer whose name is derived from the database file (so
`--db` elsewhere, or another INTERNLM2_DESKTOP_DATA, is a separate instance). A second start
connects, sends its arguments as one JSON line (paths made absolute: the first instance has
another working directory), waits for the answer and exits 0; the first raises its window and
opens the model it was given. Two processes never write one database at once: if the first
does not answer, the second says so and exits without opening the file.

The socket is in this user's private runtime folder (`instance_socket.py`), never in the
shared temporary folder where another user could create it first. A socket file that is not
ours is neither talked to nor removed (the guard stays off, logged); a peer that is another
user (Linux: SO_PEERCRED) is hung up on, on either end; a socket that answers is never
removed. One message is bounded: MAX_MESSAGE bytes and MESSAGE_MS to arrive, at most
MAX_ARGS arguments of MAX_ARG_CHARS each, MAX_CLIENTS connections at a time; past any bound
the connection is cut and nothing is handed to the window.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import sys
import time
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.ui.startup import instance_socket

_log = logging.getLogger(__name__)
_ACK = b"ok\n"
CONNECT_MS = 1000
ANSWER_MS = 5000
MESSAGE_MS = 2000
MAX_MESSAGE = 64 * 1024
MAX_ARGS = 64
MAX_ARG_CHARS = 4096
MAX_CLIENTS = 4
_MAX_ANSWER = 64
_POLL_MS = 20


class HandOver(Enum):
    """What a second start found."""

    NONE_RUNNING = "none"  # no first instance: this one is the first
    HANDED_OVER = "handed"  # the first window took the arguments
    NO_ANSWER = "no_answer"  # a first instance is there but did not answer


def server_name(db_path: Path) -> str:
    """The local server's name for a database file (short: socket paths are limited)."""
    key = str(Path(db_path).expanduser().resolve())
    return "internlm2-desktop-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def absolute_args(argv: list[str]) -> list[str]:
    """argv with --db/--model values made absolute (the first instance runs elsewhere)."""
    out: list[str] = []
    expect_path = False
    for arg in argv:
        if expect_path:
            out.append(str(Path(arg).expanduser().absolute()))
            expect_path = False
            continue
        flag, eq, value = arg.partition("=")
        if flag in ("--db", "--model") and eq:
            out.append(f"{flag}={Path(value).expanduser().absolute()}")
        else:
            out.append(arg)
            expect_path = arg in ("--db", "--model")
    return out


def parse_message(line: bytes) -> list[str] | None:
    """The argv of one message, or None when it is not one we accept."""
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    argv = data.get("argv") if isinstance(data, dict) else None
    if not isinstance(argv, list) or len(argv) > MAX_ARGS:
        return None
    if not all(isinstance(arg, str) and len(arg) <= MAX_ARG_CHARS and "\x00" not in arg
               for arg in argv):
        return None
    return list(argv)


def _address(db_path: Path) -> str | None:
    """The full socket path in the private runtime folder (a pipe name on Windows); None
    when no folder can be trusted."""
    name = server_name(db_path)
    if sys.platform == "win32":
        try:
            who = getpass.getuser()
        except (OSError, KeyError, ImportError):  # no user name in the environment
            who = "user"
        user = hashlib.sha256(who.encode("utf-8")).hexdigest()[:8]
        return f"{name}-{user}"
    folder = instance_socket.runtime_folder()
    if folder is None:
        return None
    path = instance_socket.socket_path(folder, name)
    return None if path is None else str(path)


class InstanceGuard(QObject):
    """`hand_over(argv)` from a second start; `listen()` in the first, then `received(argv)`."""

    received = Signal(list)  # the arguments of a later start

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(db_path)
        self.address = _address(db_path)
        self.refused = "" if self.address else "no private folder for the socket"
        self._server: QLocalServer | None = None
        self._clients: set[QLocalSocket] = set()

    def _foreign(self) -> str:
        """Why the socket file there must be left alone ('' when it is ours or absent)."""
        if self.address is None or sys.platform == "win32":
            return ""
        return instance_socket.socket_problem(Path(self.address))

    def hand_over(self, argv: list[str], answer_ms: int = ANSWER_MS) -> HandOver:
        """Send argv to a running first instance, if there is one (blocking, a few ms)."""
        if self.address is None:
            return HandOver.NONE_RUNNING
        problem = self._foreign()
        if problem:
            self.refused = f"{self.address} is {problem}"
            _log.warning("instance socket not used: %s", self.refused)
            return HandOver.NONE_RUNNING
        socket = QLocalSocket()
        socket.connectToServer(self.address)
        if not socket.waitForConnected(CONNECT_MS):
            # No server (or a stale socket file a crash left): this start is the first.
            return HandOver.NONE_RUNNING
        if not instance_socket.same_user(int(socket.socketDescriptor())):
            self.refused = f"{self.address} is served by another user"
            _log.warning("instance socket not used: %s", self.refused)
            socket.abort()
            return HandOver.NONE_RUNNING
        line = json.dumps({"argv": absolute_args(argv)}).encode("utf-8") + b"\n"
        socket.write(line)
        socket.waitForBytesWritten(answer_ms)
        answer = b""
        deadline = time.monotonic() + answer_ms / 1000
        # Short waits: PySide holds the GIL inside waitForReadyRead, and the answer may
        # already be buffered (a wait only sees new data).
        while _ACK not in answer and len(answer) <= _MAX_ANSWER and time.monotonic() < deadline:
            if socket.bytesAvailable() or socket.waitForReadyRead(_POLL_MS):
                answer += bytes(socket.read(_MAX_ANSWER + 1).data())
            elif socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
                break  # the first instance hung up without answering
        socket.disconnectFromServer()
        return HandOver.HANDED_OVER if _ACK in answer else HandOver.NO_ANSWER

    def listen(self) -> bool:
        """Start answering later starts. A socket file left by a crash (ours, nobody answers
        on it) is removed first; one that answers, or is not ours, never is. False (logged)
        when the server cannot start: the app runs on without the guard."""
        if self.address is None:
            _log.warning("single-instance guard not started: %s", self.refused)
            return False
        problem = self._foreign()
        if problem:
            _log.warning("single-instance guard not started: %s is %s", self.address, problem)
            return False
        path = Path(self.address)
        if sys.platform != "win32" and (path.exists() or path.is_symlink()):
            if instance_socket.answers(path):
                _log.warning("single-instance guard not started: another instance answers "
                             "on %s", path)
                return False
            path.unlink(missing_ok=True)  # ours, in our private folder, and nobody answers
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.setMaxPendingConnections(MAX_CLIENTS)
        if not server.listen(self.address):
            _log.warning("single-instance guard not started: %s", server.errorString())
            server.deleteLater()
            return False
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for client in list(self._clients):
            client.abort()
        self._clients.clear()

    def _accept(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            if len(self._clients) >= MAX_CLIENTS or not instance_socket.same_user(
                    int(socket.socketDescriptor())):
                _log.warning("refused a connection to the instance socket (busy or another user)")
                socket.abort()
                socket.deleteLater()
                continue
            self._clients.add(socket)
            buffer = bytearray()
            timer = QTimer(socket)
            timer.setSingleShot(True)
            timer.timeout.connect(lambda s=socket: self._cut(s, "it did not arrive in time"))
            timer.start(MESSAGE_MS)
            socket.readyRead.connect(lambda s=socket, b=buffer: self._read(s, b))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            if socket.bytesAvailable():
                self._read(socket, buffer)

    def _forget(self, socket: QLocalSocket) -> None:
        self._clients.discard(socket)
        socket.deleteLater()

    def _cut(self, socket: QLocalSocket, why: str) -> None:
        if socket in self._clients:
            _log.warning("ignored a message from a second start: %s", why)
            self._clients.discard(socket)
            socket.abort()
            socket.deleteLater()

    def _read(self, socket: QLocalSocket, buffer: bytearray) -> None:
        if socket not in self._clients:
            return
        buffer += bytes(socket.read(MAX_MESSAGE + 1 - len(buffer)).data())
        if b"\n" not in buffer:
            if len(buffer) > MAX_MESSAGE:
                self._cut(socket, f"longer than {MAX_MESSAGE} bytes")
            return
        line = bytes(buffer).split(b"\n", 1)[0]
        buffer.clear()
        argv = parse_message(line)
        if argv is None:
            self._cut(socket, "not a message of ours")
            return
        self._clients.discard(socket)
        socket.write(_ACK)
        socket.flush()
        socket.disconnectFromServer()
        self.received.emit(argv)
