"""One file's HTTP transfer into its `.incomplete` file: Range resume, retries, prompt cancel."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx2
from huggingface_hub import hf_raise_for_status

from app.hub.network import NETWORK_ERRORS
from app.hub.progress import ProgressTracker
from app.hub.verify import Expected, Hasher


@dataclass(frozen=True)
class TransferSettings:
    """Timeouts and retry policy of a transfer."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0  # no byte for this long: the connection counts as cut
    retries: int = 3  # reconnections in a row without new bytes before giving up
    chunk_size: int = 1024 * 1024

    def timeout(self) -> httpx2.Timeout:
        return httpx2.Timeout(
            self.read_timeout, connect=self.connect_timeout, read=self.read_timeout,
        )


class TransferCancelled(Exception):
    """Internal: the cancel event was set; the `.incomplete` file is kept for a resume."""


class TransferFailed(Exception):
    """Internal: the transfer gave up; `cause` is the last network or HTTP error."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Restart(Exception):
    """Internal: the bytes on disk cannot be continued; start the file over."""


def transfer(
    client: httpx2.Client,
    url: str,
    headers: dict[str, str],
    dest: Path,
    expected: Expected,
    tracker: ProgressTracker,
    cancel: threading.Event,
    settings: TransferSettings,
) -> Hasher:
    """Download `url` into `dest`, continuing the bytes already there with a Range request.

    Returns the hash of the whole file (seeded from the bytes on disk). Raises
    TransferCancelled or TransferFailed; in both cases `dest` keeps what arrived intact.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    offset = dest.stat().st_size if dest.exists() else 0
    if offset > expected.size:  # cannot be a prefix of this file
        dest.write_bytes(b"")
        offset = 0
    dest.touch()
    hasher = Hasher(expected)
    if offset and not hasher.seed_from(dest, offset, cancel.is_set):
        raise TransferCancelled()
    tracker.start_file(expected.filename, expected.size, offset)

    watch = _CancelWatch(cancel)
    failures = 0
    try:
        while offset < expected.size:
            if cancel.is_set():
                raise TransferCancelled()
            before = offset
            try:
                offset, hasher = _one_request(
                    client, url, headers, dest, expected, offset, hasher, tracker, cancel,
                    settings, watch,
                )
            except _Restart:
                tracker.rewind_file(offset)
                dest.write_bytes(b"")
                offset, hasher = 0, Hasher(expected)
                failures += 1
                if failures > settings.retries:
                    cause = httpx2.RemoteProtocolError("the hub keeps changing the file")
                    raise TransferFailed(cause) from None
            except NETWORK_ERRORS as error:
                if cancel.is_set():
                    raise TransferCancelled() from None
                offset = dest.stat().st_size
                failures = 0 if offset > before else failures + 1
                if failures > settings.retries:
                    raise TransferFailed(error) from error
                if cancel.wait(min(2.0, 0.25 * 2**failures)):
                    raise TransferCancelled() from None
            except httpx2.HTTPError as error:  # HTTP status errors, bad URLs, too many redirects
                raise TransferFailed(error) from error
            except OSError as error:
                if cancel.is_set():
                    raise TransferCancelled() from None
                raise TransferFailed(error) from error
    finally:
        watch.stop()
    return hasher


def _one_request(
    client: httpx2.Client,
    url: str,
    headers: dict[str, str],
    dest: Path,
    expected: Expected,
    offset: int,
    hasher: Hasher,
    tracker: ProgressTracker,
    cancel: threading.Event,
    settings: TransferSettings,
    watch: _CancelWatch,
) -> tuple[int, Hasher]:
    """One GET from `offset`; returns the new offset and hasher (new if the server restarted)."""
    request_headers = dict(headers)
    request_headers["Accept-Encoding"] = "identity"  # byte offsets must be offsets in the file
    if offset:
        request_headers["Range"] = f"bytes={offset}-"
    with client.stream("GET", url, headers=request_headers, timeout=settings.timeout()) as response:
        watch.attach(response)
        if response.status_code == 416:
            raise _Restart()
        hf_raise_for_status(response)
        if offset and (response.status_code != 206 or _range_start(response) != offset):
            raise _Restart()  # the server ignored or changed the range: start over
        with dest.open("ab") as fh:
            for chunk in response.iter_bytes(settings.chunk_size):
                if cancel.is_set():
                    raise TransferCancelled()
                if not chunk:
                    continue
                fh.write(chunk)
                hasher.update(chunk)
                offset += len(chunk)
                tracker.advance(len(chunk))
                if offset > expected.size:
                    break  # more than the hub announced: verification will say so
            fh.flush()
            if offset >= expected.size:
                _fsync(fh)
    if offset < expected.size:
        raise httpx2.RemoteProtocolError("the body ended before the whole file arrived")
    return offset, hasher


def _range_start(response: httpx2.Response) -> int | None:
    value = response.headers.get("Content-Range", "")  # "bytes 100-199/200"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _fsync(fh: IO[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.fsync(fh.fileno())


class _CancelWatch:
    """Shuts down the socket of the current response when cancel is set.

    A read blocked on a stalled connection then returns at once instead of after the read
    timeout, so cancel takes effect within a fraction of a second even with no data flowing.
    """

    def __init__(self, cancel: threading.Event, tick: float = 0.05) -> None:
        self._cancel = cancel
        self._tick = tick
        self._sock: socket.socket | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="hub-cancel-watch", daemon=True)
        self._thread.start()

    def attach(self, response: httpx2.Response) -> None:
        stream = response.extensions.get("network_stream")
        getter: Callable[[str], Any] | None = getattr(stream, "get_extra_info", None)
        sock = getter("socket") if getter is not None else None
        with self._lock:
            self._sock = sock if isinstance(sock, socket.socket) else None
        if self._cancel.is_set():
            self._shutdown()

    def stop(self) -> None:
        self._done.set()

    def _run(self) -> None:
        while not self._done.is_set():
            if self._cancel.wait(self._tick):
                self._shutdown()
                return

    def _shutdown(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            # The plain-socket method, also for an SSLSocket: it wakes a blocked recv
            # without touching the TLS state the reading thread is using.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
