"""One window per database: a second start hands its arguments to the first and exits.

The first instance listens on a QLocalServer whose name is derived from the database file (so
`--db` elsewhere, or another INTERNLM2_DESKTOP_DATA, is a separate instance). A second start
connects, sends its arguments as one JSON line (paths made absolute: the first instance has
another working directory), waits for the answer and exits 0; the first raises its window and
opens the model it was given. Two processes never write one database at once: if the first
does not answer, the second says so and exits without opening the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

_log = logging.getLogger(__name__)
_ACK = b"ok\n"
CONNECT_MS = 1000
ANSWER_MS = 5000
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


class InstanceGuard(QObject):
    """`hand_over(argv)` from a second start; `listen()` in the first, then `received(argv)`."""

    received = Signal(list)  # the arguments of a later start

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(db_path)
        self._server: QLocalServer | None = None

    def hand_over(self, argv: list[str], answer_ms: int = ANSWER_MS) -> HandOver:
        """Send argv to a running first instance, if there is one (blocking, a few ms)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_MS):
            # No server (or a stale socket file a crash left): this start is the first.
            return HandOver.NONE_RUNNING
        line = json.dumps({"argv": absolute_args(argv)}).encode("utf-8") + b"\n"
        socket.write(line)
        socket.waitForBytesWritten(answer_ms)
        answer = b""
        deadline = time.monotonic() + answer_ms / 1000
        # Short waits: PySide holds the GIL inside waitForReadyRead, and the answer may
        # already be buffered (a wait only sees new data).
        while _ACK not in answer and time.monotonic() < deadline:
            if socket.bytesAvailable() or socket.waitForReadyRead(_POLL_MS):
                answer += bytes(socket.readAll().data())
            elif socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
                break  # the first instance hung up without answering
        socket.disconnectFromServer()
        return HandOver.HANDED_OVER if _ACK in answer else HandOver.NO_ANSWER

    def listen(self) -> bool:
        """Start answering later starts. A socket file left by a crash is removed first.
        False (logged) when the server cannot start: the app runs on without the guard."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            if server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
                QLocalServer.removeServer(self.name)  # nobody answered hand_over: it is stale
                ok = server.listen(self.name)
            else:
                ok = False
            if not ok:
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

    def _accept(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            buffer = bytearray()
            socket.readyRead.connect(lambda s=socket, b=buffer: self._read(s, b))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket, buffer)

    def _read(self, socket: QLocalSocket, buffer: bytearray) -> None:
        buffer += bytes(socket.readAll().data())
        if b"\n" not in buffer:
            return
        line = bytes(buffer).split(b"\n", 1)[0]
        buffer.clear()
        try:
            argv = json.loads(line.decode("utf-8")).get("argv", [])
            argv = [str(a) for a in argv] if isinstance(argv, list) else []
        except (ValueError, AttributeError):
            _log.warning("ignored a malformed message from a second start")
            socket.disconnectFromServer()
            return
        socket.write(_ACK)
        socket.flush()
        self.received.emit(argv)
