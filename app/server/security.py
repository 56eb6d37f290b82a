"""The server's front door: what a request must show before it reaches the model.

A pure ASGI middleware, checked in this order:
1. Origin: browsers send one; any page the user visits could otherwise drive the model on
   localhost. A request with an Origin header is refused (403) unless `--allow-origin` named it;
   an allowed origin gets CORS headers and its preflight (OPTIONS) answered.
2. Host (when bound to loopback): only 127.0.0.1, localhost and ::1, so a DNS-rebinding page
   (a hostile name resolved to 127.0.0.1) is refused even without an Origin header.
3. API key: `Authorization: Bearer KEY` compared in constant time (401 otherwise), unless
   the server runs with --no-api-key. /health needs no key (it tells nothing).
4. Body: a declared Content-Length over the cap is refused at once (413); otherwise the
   body is read up to the cap (413 beyond it) within a deadline (408 for a client that
   trickles it), then handed to the route.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.server.protocol import error_body

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_OPEN_PATHS = frozenset({"/health"})


@dataclass(frozen=True)
class Guard:
    """The front door's settings."""

    api_key: str | None
    allowed_origins: frozenset[str] = frozenset()  # "*" allows every origin
    allowed_hosts: frozenset[str] | None = LOOPBACK_NAMES  # None: any Host (bound beyond loopback)
    max_body_bytes: int = 8 * 1024 * 1024
    body_timeout_s: float = 30.0

    def origin_allowed(self, origin: str) -> bool:
        return "*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins


def host_name(host_header: str) -> str:
    """The name in a Host header, without the port: "[::1]:8080" -> "::1"."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _reply(send: Send, status: int, message: str, kind: str, code: str,
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(error_body(message, kind, code)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Refuses what the Guard does not allow; everything else reaches `app` with its body read."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        g = self.guard
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is not None and not g.origin_allowed(origin):
            await _reply(send, 403, f"Requests from web pages are refused (origin {origin[:100]}); start "
                         f"the server with --allow-origin {origin[:100]} to allow this one.",
                         "permission_error", "origin_not_allowed")
            return
        if g.allowed_hosts is not None and host_name(headers.get("host", "")) not in g.allowed_hosts:
            await _reply(send, 403, "This server answers only requests addressed to 127.0.0.1, localhost "
                         "or ::1.", "permission_error", "host_not_allowed")
            return
        cors = _cors_headers(origin) if origin is not None else []
        if scope["method"] == "OPTIONS" and origin is not None:
            await send({"type": "http.response.start", "status": 204, "headers": [
                *cors, (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                (b"access-control-allow-headers", b"authorization, content-type"),
                (b"access-control-max-age", b"600")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if g.api_key is not None and scope["path"] not in _OPEN_PATHS and not _key_ok(headers, g.api_key):
            await _reply(send, 401, "This server needs its API key: send the header "
                         "'Authorization: Bearer KEY' (the key is printed when the server starts).",
                         "authentication_error", "invalid_api_key",
                         [(b"www-authenticate", b"Bearer"), *cors])
            return
        body = await self._read_body(headers, receive, send, cors)
        if body is None:
            return
        await self.app(scope, _replay(body, receive), _with_headers(send, cors))

    async def _read_body(self, headers: dict[str, str], receive: Receive, send: Send,
                         cors: list[tuple[bytes, bytes]]) -> bytes | None:
        cap = self.guard.max_body_bytes
        too_big = (f"The request body is larger than this server accepts ({cap:,} bytes); "
                   f"send a shorter conversation, or start the server with a larger --max-body.")
        declared = headers.get("content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > cap):
            await _reply(send, 413, too_big, "invalid_request_error", "body_too_large", cors)
            return None
        chunks: list[bytes] = []
        total = 0
        with anyio.move_on_after(self.guard.body_timeout_s) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                total += len(chunk)
                if total > cap:
                    await _reply(send, 413, too_big, "invalid_request_error", "body_too_large", cors)
                    return None
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            await _reply(send, 408, f"The request body did not arrive within {self.guard.body_timeout_s:.0f} s.",
                         "invalid_request_error", "body_timeout", cors)
            return None
        return b"".join(chunks)


def _key_ok(headers: dict[str, str], key: str) -> bool:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body once, then the client's own messages (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    if not extra:
        return send

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sender


def describe(guard: Guard) -> dict[str, Any]:
    """The guard's settings without the key (for logs and the status line)."""
    return {"api_key": guard.api_key is not None, "origins": sorted(guard.allowed_origins),
            "hosts": sorted(guard.allowed_hosts) if guard.allowed_hosts is not None else "any",
            "max_body_bytes": guard.max_body_bytes}
