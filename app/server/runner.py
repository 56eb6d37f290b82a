"""Binding the port and running uvicorn: in the foreground (`serve`) or on a thread (tests, window).

The socket is bound before the model loads, so a taken port is reported at once in one line,
and handed to uvicorn as it is (no second bind, no window for another program to take it).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.sentences import say
from app.server.engine_adapter import EngineAdapter
from app.server.errors import ServerStartError
from app.server.scheduler import GenerationQueue
from app.server.security import LOOPBACK_NAMES, Guard

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
_MAX_CONNECTIONS = 64  # open connections at once; uvicorn answers 503 beyond (file descriptors are finite)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name localhost."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; a taken port or a bad address is one sentence."""
    name = "127.0.0.1" if host.lower() == "localhost" else host.strip("[]")
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(name).version == 6 else socket.AF_INET
    except ValueError:
        raise ServerStartError(say("{host} is not an IP address.", host=host),
                               say("Use --host 127.0.0.1 (this computer only) or an address of this computer.")) from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: no sharing a port with another program
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((name, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48, 10048) or isinstance(exc, PermissionError) and port < 1024:
            raise ServerStartError(say("Port {port} on {host} is already in use or not allowed.", port=port, host=host),
                                   say("Choose another with --port, or stop the program that uses it.")) from None
        raise ServerStartError(say("Cannot listen on {host}:{port}.", host=host, port=port),
                               say("Check the address with --host, or choose another --port."),
                               str(exc.strerror or exc)) from None
    sock.setblocking(False)
    return sock


@dataclass(frozen=True)
class ServerOptions:
    """How the server listens and whom it serves."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    api_key: str | None = None  # None: no key required (--no-api-key)
    allowed_origins: frozenset[str] = frozenset()
    max_body_bytes: int = 8 * 1024 * 1024
    max_waiting: int = 4
    body_timeout_s: float = 30.0
    extra_hosts: frozenset[str] = field(default_factory=frozenset)

    def guard(self) -> Guard:
        hosts = (LOOPBACK_NAMES | {self.host.strip("[]").lower()} | self.extra_hosts
                 if is_loopback(self.host) else None)
        return Guard(self.api_key, self.allowed_origins, hosts, self.max_body_bytes, self.body_timeout_s)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


class LocalServer:
    """A running server: the generation queue, the ASGI app and uvicorn on its socket."""

    def __init__(self, adapter: EngineAdapter, options: ServerOptions, sock: socket.socket,
                 dispatch: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        """`dispatch`: where the model work runs (default: the queue's own thread; see scheduler)."""
        import uvicorn

        from app.server.api import create_app

        self.adapter = adapter
        self.options = options
        self.queue = GenerationQueue(options.max_waiting, dispatch=dispatch)
        self._sock = sock
        self.url = url_of(sock)
        app = create_app(adapter, self.queue, options.guard())
        config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False,
                                server_header=False, timeout_keep_alive=5, timeout_graceful_shutdown=3,
                                limit_concurrency=_MAX_CONNECTIONS)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl+C (uvicorn handles the signal), then stop cleanly."""
        try:
            self._server.run(sockets=[self._sock])
        finally:
            self._close()

    def start(self, timeout: float = 20.0) -> LocalServer:
        """Serve on a thread; returns once it accepts requests."""
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="local-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServerStartError(say("The local server did not start."),
                                       say("Try again; the log file says what stopped it."))
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel what runs and waits, stop uvicorn, join its thread."""
        self.queue.close(0)
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()

    def _close(self) -> None:
        self.queue.close(timeout=10.0)
        with contextlib.suppress(OSError):
            self._sock.close()
