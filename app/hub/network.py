"""The hub address, offline mode, the proxy and turning network failures into typed errors."""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import constants, get_session, is_offline_mode, set_client_factory
from huggingface_hub.errors import (
    EntryNotFoundError,
    FileMetadataError,
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from app.hub.errors import (
    BadEndpointError,
    HubAccessError,
    HubError,
    HubServerError,
    HubUnreachableError,
    RemoteFileNotFoundError,
)

_TRUE = {"1", "on", "yes", "true"}
_UNSET = object()
_proxy_lock = threading.Lock()
_installed_proxy: object = _UNSET

NETWORK_ERRORS: tuple[type[Exception], ...] = (
    httpx2.TimeoutException,
    httpx2.NetworkError,
    httpx2.RemoteProtocolError,
)
"""Failures after which a transfer may be resumed: timeouts, resets, a connection cut mid-body."""


def resolve_endpoint(endpoint: str | None = None) -> str:
    """The hub address: the setting, else HF_ENDPOINT (read now, not at import), else huggingface.co."""
    chosen = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).strip()
    parts = urlsplit(chosen)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadEndpointError(chosen)
    return chosen.rstrip("/")


def offline_requested(offline: bool | None = None) -> bool:
    """Offline mode: the setting if given, else HF_HUB_OFFLINE (read now, and as huggingface-hub read it)."""
    if offline is not None:
        return offline
    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return env.strip().lower() in _TRUE or is_offline_mode()


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def session(proxy: str | None) -> httpx2.Client:
    """huggingface-hub's shared HTTP client, going through `proxy` when one is set.

    With no proxy setting, huggingface-hub's own client is left alone (it honours HTTPS_PROXY
    and friends from the environment). A proxy setting installs a client factory once, the
    documented way (`set_client_factory`), so metadata calls and transfers share it.
    """
    global _installed_proxy
    with _proxy_lock:
        wanted = _installed_proxy is not _UNSET or proxy is not None
        if wanted and _installed_proxy != proxy:
            set_client_factory(lambda: _make_client(proxy))
            _installed_proxy = proxy
    return get_session()


def _make_client(proxy: str | None) -> httpx2.Client:
    return httpx2.Client(
        proxy=proxy or None,
        follow_redirects=True,
        timeout=None,
        event_hooks={"request": [_refuse_when_offline]},
    )


def _refuse_when_offline(request: httpx2.Request) -> None:
    if is_offline_mode():
        raise OfflineModeIsEnabled(f"Cannot reach {request.url}: offline mode is enabled.")


def translate(
    error: Exception, *, endpoint: str, repo: str, revision: str, filename: str,
    proxy: str | None = None,
) -> HubError:
    """The typed error for a failure of huggingface-hub or httpx2 while talking to the hub.

    OfflineModeIsEnabled is not handled here: the caller knows which files are missing.
    """
    if isinstance(error, HubError):
        return error
    if isinstance(error, GatedRepoError):
        return HubAccessError(repo, http_status(error))
    if isinstance(error, RevisionNotFoundError):
        return RemoteFileNotFoundError(repo, revision, filename, what="revision")
    if isinstance(error, RepositoryNotFoundError):
        status = http_status(error)
        if status in (401, 403):
            return HubAccessError(repo, status)
        return RemoteFileNotFoundError(repo, revision, filename, what="repository")
    if isinstance(error, EntryNotFoundError):
        return RemoteFileNotFoundError(repo, revision, filename)
    if isinstance(error, HfHubHTTPError):
        status = http_status(error)
        if status == 404:
            return RemoteFileNotFoundError(repo, revision, filename)
        if status in (401, 403):
            return HubAccessError(repo, status)
        return HubServerError(endpoint, filename, status)
    if isinstance(error, FileMetadataError):
        return HubServerError(
            endpoint, filename, None,
            "the answer lacks the hub's file headers, so this address may not be a hub or mirror",
        )
    if isinstance(error, httpx2.ProxyError):
        return HubUnreachableError(endpoint, _describe(error), proxy=proxy or "from the environment")
    if isinstance(error, httpx2.TimeoutException):
        return HubUnreachableError(endpoint, "no answer in time", proxy=proxy)
    if isinstance(error, httpx2.ConnectError):
        return HubUnreachableError(endpoint, _describe(error), proxy=proxy)
    if isinstance(error, (httpx2.TransportError, OSError)):
        return HubUnreachableError(endpoint, _describe(error), proxy=proxy)
    return HubServerError(endpoint, filename, None, _describe(error))


def http_status(error: BaseException) -> int | None:
    """The HTTP status of a huggingface-hub or httpx2 status error, else None."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
