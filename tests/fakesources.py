"""Fake ModelScope and OpenXLab servers on 127.0.0.1, answering the API shapes app.hub.source_api assumes.

Like tests/fakehub.py (the Hugging Face fake), each serves one repo and records requests, and
can misbehave: answer slowly (`delay`), never answer (`stall`), cut a transfer (`drop_always`),
serve other bytes than its listing announces (`substitute`), or list other values than the
real ones (`listing_override`). A source that is "down" is `closed_port_endpoint()`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakehub import FakeFile, QuietHandler, Request, _QuietServer

_CHUNK = 64 * 1024
_LFS_SUFFIXES = (".safetensors", ".model", ".bin", ".gguf")


@dataclass
class _Drop:
    filename: str
    at_byte: int


class FakeApiHub:
    """Base of the two fakes: files, faults, byte serving with Range; a context manager."""

    kind = "api"

    def __init__(self, repo_id: str, files: dict[str, bytes], revision: str) -> None:
        self.repo_id = repo_id
        self.revision = revision
        self.commit = hashlib.sha1(f"{self.kind}:{repo_id}".encode()).hexdigest()
        self.files = {n: FakeFile(n, d, n.endswith(_LFS_SUFFIXES)) for n, d in files.items()}
        self.requests: list[Request] = []
        self.delay = 0.0  # seconds before every API answer
        self.probe_gate: threading.Event | None = None  # the probe waits for it (then 1 s)
        self.throttle_bps: float | None = None
        self.listing_override: dict[str, dict[str, Any]] = {}  # file -> fields to list instead
        self.listed_commit: Any = None  # None: the real commit; else what the API says it is
        self.pointer_override: dict[str, bytes] = {}  # OpenXLab: file -> stored LFS pointer text
        self._drops: list[_Drop] = []
        self._substitutes: dict[str, bytes] = {}
        self._stalled = False
        self._stop = threading.Event()
        owner = self

        class Handler(_ApiHandler):
            fake = owner

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeApiHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- faults ----------------------------------------------------------------------------
    def stall(self) -> None:
        """Accept connections and never answer an API call (until the server stops)."""
        self._stalled = True

    def drop_always(self, filename: str, at_byte: int) -> None:
        self._drops.append(_Drop(filename, at_byte))

    def substitute(self, filename: str, data: bytes) -> None:
        """Serve `data` as the file's bytes while the listing keeps announcing the real ones."""
        self._substitutes[filename] = data

    def byte_gets(self, filename: str) -> list[Request]:
        """The GET requests that carried bytes of `filename`."""
        return [r for r in self.requests if r.method == "GET" and r.server == f"bytes:{filename}"]

    # -- routes (subclasses) ---------------------------------------------------------------
    def route(self, path: str, query: dict[str, str]) -> tuple[str, Any] | None:
        """("json", data) or ("bytes", filename) or None (404)."""
        raise NotImplementedError

    def is_probe(self, path: str) -> bool:
        raise NotImplementedError

    def entry(self, f: FakeFile) -> dict[str, Any]:
        raise NotImplementedError


class FakeModelScope(FakeApiHub):
    """/api/v1/models/{repo}/repo/files (listing), /revisions (probe), /repo?FilePath= (bytes)."""

    kind = "modelscope"

    def entry(self, f: FakeFile) -> dict[str, Any]:
        commit = self.commit if self.listed_commit is None else self.listed_commit
        fields = {"Name": f.name.rsplit("/", 1)[-1], "Path": f.name, "Type": "blob",
                  "Size": len(f.data), "Sha256": f.sha256, "Revision": commit, "IsLFS": f.lfs}
        fields.update(self.listing_override.get(f.name, {}))
        return fields

    def is_probe(self, path: str) -> bool:
        return path == f"/api/v1/models/{self.repo_id}/revisions"

    def route(self, path: str, query: dict[str, str]) -> tuple[str, Any] | None:
        base = f"/api/v1/models/{self.repo_id}"
        revision = query.get("Revision", "master")
        if path == f"{base}/revisions":
            return "json", {"Code": 200, "Data": {"RevisionMap": {"Branches": [{"Revision": self.revision}]}}}
        if revision not in (self.revision, self.commit):
            return None
        if path == f"{base}/repo/files":
            return "json", {"Code": 200, "Success": True,
                            "Data": {"Files": [self.entry(f) for f in self.files.values()]}}
        if path == f"{base}/repo" and query.get("FilePath") in self.files:
            return "bytes", query["FilePath"]
        return None


class FakeOpenXLab(FakeApiHub):
    """Gitea-style: /branches/{rev}, /git/trees/{commit}, /git/blobs/{sha} (LFS pointers), /media/{path}."""

    kind = "openxlab"

    def stored(self, f: FakeFile) -> bytes:
        """What git stores for the file: an LFS pointer for large files, the bytes else."""
        if f.name in self.pointer_override:
            return self.pointer_override[f.name]
        if f.lfs:
            return (b"version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                    % (f.sha256.encode(), len(f.data)))
        return f.data

    def entry(self, f: FakeFile) -> dict[str, Any]:
        stored = self.stored(f)
        sha = hashlib.sha1(b"blob %d\0" % len(stored) + stored).hexdigest()
        fields = {"path": f.name, "mode": "100644", "type": "blob", "size": len(stored), "sha": sha}
        fields.update(self.listing_override.get(f.name, {}))
        return fields

    def is_probe(self, path: str) -> bool:
        return path == f"/api/v1/repos/{self.repo_id}"

    def route(self, path: str, query: dict[str, str]) -> tuple[str, Any] | None:
        base = f"/api/v1/repos/{self.repo_id}"
        if path == base:
            return "json", {"full_name": self.repo_id, "default_branch": self.revision}
        if path == f"{base}/branches/{self.revision}":
            commit = self.commit if self.listed_commit is None else self.listed_commit
            return "json", {"name": self.revision, "commit": {"id": commit}}
        if path == f"{base}/git/trees/{self.commit}":
            return "json", {"sha": self.commit, "tree": [self.entry(f) for f in self.files.values()]}
        if path.startswith(f"{base}/git/blobs/"):
            sha = path.rsplit("/", 1)[-1]
            for f in self.files.values():
                if self.entry(f)["sha"] == sha:
                    stored = self.stored(f)
                    return "json", {"sha": sha, "size": len(stored), "encoding": "base64",
                                    "content": base64.b64encode(stored).decode()}
            return None
        if path.startswith(f"{base}/media/") and query.get("ref") in (self.commit, self.revision):
            name = path[len(f"{base}/media/"):]
            return ("bytes", name) if name in self.files else None
        return None


class _ApiHandler(QuietHandler):
    fake: FakeApiHub

    def _handle(self, send_body: bool) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if fake._stalled:
            fake._stop.wait()
            self.close_connection = True
            return
        if fake.probe_gate is not None and fake.is_probe(path):
            fake.probe_gate.wait(10)
            time.sleep(1.0)
        answer = fake.route(path, query)
        server = f"bytes:{answer[1]}" if answer is not None and answer[0] == "bytes" else "api"
        fake.requests.append(Request(self.command, path, self.headers.get("Range"), False, server,
                                     self.headers.get("Authorization") is not None))
        if server == "api" and fake.delay:
            time.sleep(fake.delay)
        try:
            if answer is None:
                self._send(404, b'{"Code": 404, "Message": "not found"}', send_body)
            elif answer[0] == "json":
                self._send(200, json.dumps(answer[1]).encode(), send_body)
            else:
                self._bytes(answer[1], send_body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, status: int, body: bytes, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _bytes(self, filename: str, send_body: bool) -> None:
        fake = self.fake
        data = fake._substitutes.get(filename, fake.files[filename].data)
        start = 0
        spec = self.headers.get("Range") or ""
        if spec.startswith("bytes=") and spec.endswith("-"):
            start = int(spec[len("bytes="):-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if not send_body:
            return
        drop = next((d for d in fake._drops if d.filename == filename), None)
        pos = start
        while pos < len(data):
            end = min(pos + _CHUNK, len(data))
            if drop is not None and end > drop.at_byte:
                end = max(pos, drop.at_byte)
                if end == pos:
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
            self.wfile.write(data[pos:end])
            if fake.throttle_bps:
                time.sleep((end - pos) / fake.throttle_bps)
            pos = end
