"""A fake Hugging Face hub on 127.0.0.1 for the download tests, with fault injection.

It answers the calls huggingface-hub and app.hub make, the way the real hub does:

- HEAD/GET /{repo}/resolve/{revision}/{filename}: small ("git") files are served directly
  with `ETag: "<git blob sha1>"`; large ("LFS") files answer 302 to a second server (the
  "CDN", another origin, as on the real hub) with `X-Linked-Etag: "<sha256>"` and
  `X-Linked-Size`. Every answer carries `X-Repo-Commit`; errors carry `X-Error-Code`.
- GET/HEAD /cdn/{sha256}: the file's bytes, honouring `Range: bytes=N-` with 206.
- Any request in absolute form (`GET http://host/path`), as sent to an HTTP proxy, is served
  too and recorded as proxied, so the same server can stand in for a proxy.

Faults: drop the connection after N bytes (once), answer an HTTP status, serve wrong bytes,
stall, throttle. `requests` records what came in.

Hostile modes (what a misbehaving or malicious mirror can answer): any ETag / X-Linked-Etag,
X-Repo-Commit or size value (`answer_etag`, `answer_commit`, `answer_size`), other bytes under
the announced hash and size (`substitute`), and a redirect of a file to any address
(`redirect`), e.g. an `ElsewhereServer` that serves its own bytes.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Request:
    """One request the fake hub received."""

    method: str
    path: str
    range: str | None
    proxied: bool
    server: str  # "hub" or "cdn"
    authorized: bool  # an Authorization header came with it

    @property
    def range_start(self) -> int | None:
        match = _RANGE.match(self.range or "")
        return int(match.group(1)) if match else None


@dataclass
class _Fault:
    kind: str  # "status", "drop", "corrupt", "stall"
    filename: str | None
    stage: str = "any"  # "resolve", "cdn" or "any"
    status: int = 500
    at_byte: int = 0  # where in the file a drop or stall happens
    times: int | None = None  # None: forever

    def applies(self, filename: str, stage: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.filename is not None and self.filename != filename:
            return False
        return self.stage in ("any", stage)


@dataclass
class FakeFile:
    """A file of the fake repo and the hashes the hub publishes for it."""

    name: str
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def git_sha1(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.git_sha1


def default_files(big_size: int = 4 * 1024 * 1024) -> dict[str, bytes]:
    """A tiny model repo: a few small JSON files, a tokenizer and one bigger weights file."""
    rng = random.Random(1234)
    return {
        "config.json": json.dumps({"model_type": "internlm2", "hidden_size": 64}).encode(),
        "generation_config.json": json.dumps({"eos_token_id": [2, 92542]}).encode(),
        "tokenizer_config.json": json.dumps({"add_bos_token": True}).encode(),
        "tokenizer.model": rng.randbytes(200_000),
        "model.safetensors": rng.randbytes(big_size),
    }


class FakeHub:
    """Two HTTP servers (hub and CDN) on 127.0.0.1 serving one repo; a context manager."""

    def __init__(
        self,
        repo_id: str = "fake-org/tiny-model",
        files: dict[str, bytes] | None = None,
        revision: str = "main",
        lfs_suffixes: tuple[str, ...] = (".safetensors", ".model", ".bin", ".gguf"),
    ) -> None:
        self.repo_id = repo_id
        self.revision = revision
        self.commit = hashlib.sha1(repo_id.encode()).hexdigest()
        self.files = {
            name: FakeFile(name, data, name.endswith(lfs_suffixes))
            for name, data in (files if files is not None else default_files()).items()
        }
        self.requests: list[Request] = []
        self.throttle_bps: float | None = None
        self.commit_header: str | None = None  # None: the real commit
        self._etags: dict[str | None, str] = {}  # filename (None: every file) -> ETag sent
        self._sizes: dict[str | None, str] = {}
        self._substitutes: dict[str, bytes] = {}
        self._redirects: dict[str, str] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._hub = self._server("hub")
        self._cdn = self._server("cdn")
        self._threads: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._hub.server_address[1]}"

    @property
    def cdn_endpoint(self) -> str:
        return f"http://127.0.0.1:{self._cdn.server_address[1]}"

    def __enter__(self) -> FakeHub:
        for server in (self._hub, self._cdn):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for server in (self._hub, self._cdn):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- fault injection -----------------------------------------------------------------
    def fail(
        self, status: int, filename: str | None = None, stage: str = "resolve",
        times: int | None = None,
    ) -> None:
        """Answer `status` (with no hub error code) for matching requests."""
        self._add(_Fault("status", filename, stage, status=status, times=times))

    def drop_once(self, filename: str, at_byte: int) -> None:
        """Cut the connection when the transfer reaches byte `at_byte` of the file, once."""
        self._add(_Fault("drop", filename, "any", at_byte=at_byte, times=1))

    def drop_always(self, filename: str, at_byte: int) -> None:
        """Cut every transfer of the file at byte `at_byte` (a resume past it gets nothing)."""
        self._add(_Fault("drop", filename, "any", at_byte=at_byte))

    def corrupt(self, filename: str) -> None:
        """Serve the file with one byte changed (same length): a checksum mismatch."""
        self._add(_Fault("corrupt", filename))

    def stall(self, filename: str | None, stage: str = "any", at_byte: int = 0) -> None:
        """Stop sending (without closing) at byte `at_byte` of the file, until the hub stops."""
        self._add(_Fault("stall", filename, stage, at_byte=at_byte))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
        self.throttle_bps = None
        self.commit_header = None
        self._etags.clear()
        self._sizes.clear()
        self._substitutes.clear()
        self._redirects.clear()

    # -- hostile answers -----------------------------------------------------------------
    def answer_etag(self, value: str, filename: str | None = None) -> None:
        """Send `value` as the file's hash header (X-Linked-Etag for LFS files, ETag else)."""
        self._etags[filename] = value

    def answer_commit(self, value: str) -> None:
        """Send `value` as X-Repo-Commit on every answer."""
        self.commit_header = value

    def answer_size(self, value: str, filename: str | None = None) -> None:
        """Send `value` as the file's size header (X-Linked-Size for LFS, Content-Length of HEAD)."""
        self._sizes[filename] = value

    def substitute(self, filename: str, data: bytes) -> None:
        """Serve `data` as the bytes of `filename`, still announcing the real hash and size."""
        self._substitutes[filename] = data

    def redirect(self, filename: str, location: str) -> None:
        """Answer the file's resolve URL with `302 Location: <location>` (real headers otherwise)."""
        self._redirects[filename] = location

    def etag_header(self, file: FakeFile) -> str:
        return self._etags.get(file.name, self._etags.get(None, file.etag))

    def size_header(self, file: FakeFile) -> str:
        return self._sizes.get(file.name, self._sizes.get(None, str(len(file.data))))

    def commit_value(self) -> str:
        return self.commit if self.commit_header is None else self.commit_header

    def gets(self, filename: str) -> list[Request]:
        """The GET requests that carried bytes of `filename` (resolve for git files, CDN for LFS)."""
        fake = self.files[filename]
        wanted = f"/cdn/{fake.sha256}" if fake.lfs else self._resolve_path(filename)
        return [r for r in self.requests if r.method == "GET" and r.path == wanted]

    def _resolve_path(self, filename: str) -> str:
        return f"/{self.repo_id}/resolve/{self.revision}/{filename}"

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take(self, kind: str, filename: str, stage: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and fault.applies(filename, stage):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    # -- serving -------------------------------------------------------------------------
    def _server(self, role: str) -> ThreadingHTTPServer:
        hub = self

        class Handler(_Handler):
            fake = hub
            server_role = role

        server = _QuietServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        return server

    def _by_sha(self, sha: str) -> FakeFile | None:
        return next((f for f in self.files.values() if f.lfs and f.sha256 == sha), None)

    def body(self, fake: FakeFile, start: int, stage: str) -> Iterator[bytes]:
        """The bytes to send from `start`, applying drop/corrupt/stall/throttle faults."""
        data = self._substitutes.get(fake.name, fake.data)
        if self._take("corrupt", fake.name, stage) is not None:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
        drop = self._take("drop", fake.name, stage)
        stall = self._take("stall", fake.name, stage)
        pos = start
        while pos < len(data):
            end = min(pos + _CHUNK, len(data))
            for fault, kind in ((drop, "drop"), (stall, "stall")):
                if fault is not None and end > fault.at_byte:
                    end = max(pos, fault.at_byte)
                    if end == pos:
                        raise _Interrupt(kind)
            yield data[pos:end]
            if self.throttle_bps:
                time.sleep((end - pos) / self.throttle_bps)
            pos = end


class _QuietServer(ThreadingHTTPServer):
    """Says nothing when a client hangs up early (a refused download does just that)."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Interrupt(Exception):
    """Raised inside a body generator to drop or stall the connection."""


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, no request log, HEAD and GET answered by `_handle` (with or without the body):
    the base of this fake hub's handler and of the fake sources' API handler."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def _handle(self, send_body: bool) -> None:
        raise NotImplementedError


class _Handler(QuietHandler):
    fake: FakeHub
    server_role: str

    def _handle(self, send_body: bool) -> None:
        proxied = self.path.startswith(("http://", "https://"))
        path = unquote(urlsplit(self.path).path)
        self.fake.requests.append(
            Request(
                self.command, path, self.headers.get("Range"), proxied, self.server_role,
                self.headers.get("Authorization") is not None,
            )
        )
        try:
            if path.startswith("/cdn/"):
                self._cdn(path[len("/cdn/") :], send_body)
            else:
                self._resolve(path, send_body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _resolve(self, path: str, send_body: bool) -> None:
        fake = self.fake
        prefix = f"/{fake.repo_id}/resolve/"
        if not path.startswith(prefix):
            self._error(404, "RepoNotFound", "Repository not found")
            return
        revision, _, filename = path[len(prefix) :].partition("/")
        if revision not in (fake.revision, fake.commit):
            self._error(404, "RevisionNotFound", "Invalid rev id")
            return
        file = fake.files.get(filename)
        fault = fake._take("status", filename, "resolve")
        if fault is not None:
            self._error(fault.status, None, "Injected failure")
            return
        if file is None:
            self._error(404, "EntryNotFound", "Entry not found")
            return
        if fake._take("stall", filename, "resolve") is not None and not send_body:
            fake._stop.wait()
            self.close_connection = True
            return
        location = fake._redirects.get(filename)
        if file.lfs or location is not None:
            self.send_response(302)
            self.send_header("Location", location or f"{fake.cdn_endpoint}/cdn/{file.sha256}")
            self.send_header("X-Repo-Commit", fake.commit_value())
            if file.lfs:
                self.send_header("X-Linked-Etag", f'"{fake.etag_header(file)}"')
                self.send_header("X-Linked-Size", fake.size_header(file))
                self.send_header("ETag", f'"{file.git_sha1}"')
            else:
                self.send_header("ETag", f'"{fake.etag_header(file)}"')
                self.send_header("X-Linked-Size", fake.size_header(file))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send_file(file, send_body, "resolve", {"X-Repo-Commit": fake.commit_value()})

    def _cdn(self, sha: str, send_body: bool) -> None:
        file = self.fake._by_sha(sha)
        if file is None:
            self._error(404, None, "No such object")
            return
        fault = self.fake._take("status", file.name, "cdn")
        if fault is not None:
            self._error(fault.status, None, "Injected failure")
            return
        self._send_file(file, send_body, "cdn", {})

    def _send_file(self, file: FakeFile, send_body: bool, stage: str, extra: dict[str, str]) -> None:
        total = len(file.data)
        start = 0
        match = _RANGE.match(self.headers.get("Range") or "")
        if match:
            start = int(match.group(1))
            if start >= total:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{total}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{total - 1}/{total}")
        else:
            self.send_response(200)
        served = len(self.fake._substitutes.get(file.name, file.data))
        if stage == "resolve" and not send_body and not match:
            self.send_header("Content-Length", self.fake.size_header(file))
        else:
            self.send_header("Content-Length", str(max(0, served - start)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{self.fake.etag_header(file) if stage == "resolve" else file.etag}"')
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if not send_body:
            return
        try:
            for chunk in self.fake.body(file, start, stage):
                self.wfile.write(chunk)
                self.wfile.flush()
        except _Interrupt as interrupt:
            self.wfile.flush()
            if str(interrupt) == "stall":
                self.fake._stop.wait()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def _error(self, status: int, code: str | None, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        if code is not None:
            self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("X-Repo-Commit", self.fake.commit_value())
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class ElsewhereServer:
    """Another origin a hostile mirror redirects to: serves `data` for every path; a context manager."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.requests: list[Request] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_HEAD(self) -> None:
                self._answer(False)

            def do_GET(self) -> None:
                self._answer(True)

            def _answer(self, send_body: bool) -> None:
                owner.requests.append(Request(
                    self.command, self.path, self.headers.get("Range"), False, "elsewhere",
                    self.headers.get("Authorization") is not None,
                ))
                self.send_response(200)
                self.send_header("Content-Length", str(len(owner.data)))
                self.end_headers()
                if send_body:
                    try:
                        self.wfile.write(owner.data)
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/elsewhere/file"

    def __enter__(self) -> ElsewhereServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def closed_port_endpoint() -> str:
    """An http://127.0.0.1 address where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
