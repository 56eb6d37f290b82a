"""Typed errors of the model download: each says what happened and what the person can do."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from app.errors import UserError


def format_bytes(n: int) -> str:
    """A size for people: 3.78 GB, 120 MB, 512 KB (decimal units, as disks are sold)."""
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


class HubError(UserError):
    """Base of every error the download core raises."""


class HubUnreachableError(HubError):
    """No answer from the hub (network down, wrong address, proxy, timeout, connection cut)."""

    def __init__(self, endpoint: str, detail: str = "", *, proxy: str | None = None) -> None:
        self.endpoint = endpoint
        where = f"the model hub at {endpoint}" + (f" through the proxy {proxy}" if proxy else "")
        message = f"Could not reach {where}" + (f" ({detail})." if detail else ".")
        hint = (
            "Check the proxy setting and that the proxy is running."
            if proxy
            else "Check your internet connection, or set a mirror address in Settings if the hub "
            "is blocked where you are."
        )
        super().__init__(message, hint)


class HubServerError(HubError):
    """The hub (or mirror) answered with a server error or something that is not a hub answer."""

    def __init__(self, endpoint: str, filename: str, status: int | None, detail: str = "") -> None:
        self.endpoint = endpoint
        self.status = status
        what = f"an error (HTTP {status})" if status is not None else "an unexpected answer"
        message = f"The model hub at {endpoint} gave {what} for {filename}" + (
            f": {detail}." if detail else "."
        )
        super().__init__(message, "The hub may be having trouble: try again in a few minutes.")


class RemoteFileNotFoundError(HubError):
    """The repository, revision or file is not on the hub (HTTP 404)."""

    def __init__(
        self, repo: str, revision: str, filename: str,
        what: Literal["file", "revision", "repository"] = "file",
    ) -> None:
        self.repo = repo
        self.revision = revision
        self.filename = filename
        self.what = what
        if what == "file":
            message = f"The model hub has no file {filename!r} in {repo} at revision {revision!r} (HTTP 404)."
        elif what == "revision":
            message = f"The model hub has no revision {revision!r} of {repo} (HTTP 404)."
        else:
            message = f"The model hub has no repository {repo} (HTTP 404)."
        super().__init__(
            message,
            "The model catalog may be out of date, or the mirror in Settings may not carry this model.",
        )


class HubAccessError(HubError):
    """The hub refused access (HTTP 401/403 or a gated repository)."""

    def __init__(self, repo: str, status: int | None) -> None:
        self.repo = repo
        self.status = status
        code = f" (HTTP {status})" if status is not None else ""
        super().__init__(
            f"The model hub refused access to {repo}{code}.",
            "Log in with `hf auth login` if the model needs an account, or check the mirror in Settings.",
        )


class ChecksumMismatchError(HubError):
    """A downloaded file does not match the hub's size or hash; it was kept aside, not deleted."""

    def __init__(self, filename: str, kept_at: Path, expected: str, actual: str) -> None:
        self.filename = filename
        self.kept_at = kept_at
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"The downloaded {filename} is damaged (expected {expected}, got {actual}); "
            f"it was kept aside as {kept_at}.",
            "Download it again (the kept copy is removed once the file downloads correctly); "
            "if it fails again, check the disk and the mirror in Settings.",
        )


class NotEnoughDiskSpaceError(HubError):
    """The disk lacks room for the download plus the GGUF conversion."""

    def __init__(
        self, path: Path, needed: int, free: int, detail: str = "",
        kept_aside: tuple[Path, int] | None = None,
    ) -> None:
        self.path = path
        self.needed = needed
        self.free = free
        self.kept_aside = kept_aside
        message = (
            f"Not enough disk space in {path}: {format_bytes(needed)} needed"
            + (f" ({detail})" if detail else "")
            + f" but only {format_bytes(free)} free."
        )
        hint = f"Free up {format_bytes(needed - free)} or choose another folder."
        if kept_aside is not None:
            hint = (
                f"Free up {format_bytes(needed - free)} (damaged downloads kept aside in "
                f"{kept_aside[0]} hold {format_bytes(kept_aside[1])} and can be deleted) "
                "or choose another folder."
            )
        super().__init__(message, hint)


class OfflineModeError(HubError):
    """Offline mode (HF_HUB_OFFLINE=1) is on and the model is not complete in the cache."""

    def __init__(self, model_name: str, missing: tuple[str, ...], cache_dir: Path) -> None:
        self.model_name = model_name
        self.missing = missing
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        super().__init__(
            f"Offline mode is on (HF_HUB_OFFLINE=1) and {model_name} is not fully downloaded "
            f"(missing: {shown}).",
            f"Turn offline mode off to download it, or copy the model into {cache_dir}.",
        )


class DiskWriteError(HubError):
    """Writing the download failed (disk full, no permission, disk removed)."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        super().__init__(
            f"Could not write the download to {path} ({detail}).",
            "Check that the disk has room and is writable; the download resumes when you try again.",
        )


class BadEndpointError(HubError):
    """The hub address setting is not a web address."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        super().__init__(
            f"The model hub address {endpoint!r} is not a web address.",
            "Enter a full address such as https://huggingface.co or your mirror's https:// address "
            "in Settings.",
        )


class DownloadCancelled(HubError):
    """The person cancelled; what was downloaded is kept and the next download resumes it."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        super().__init__(
            f"The download of {model_name} was cancelled.",
            "The part already downloaded is kept; downloading again resumes from there.",
        )
