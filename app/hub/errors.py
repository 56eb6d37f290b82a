"""Typed errors of the model download: each says what happened and what the person can do."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from app.errors import UserError
from app.sentences import say


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
        if proxy:
            message = say("Could not reach the model hub at {endpoint} through the proxy {proxy}.",
                          endpoint=endpoint, proxy=proxy)
            hint = say("Check the proxy setting and that the proxy is running.")
        else:
            message = say("Could not reach the model hub at {endpoint}.", endpoint=endpoint)
            hint = say("Check your internet connection, or set a mirror address in Settings > Downloads "
                       "if the hub is blocked where you are.")
        super().__init__(message, hint, detail)


class HubServerError(HubError):
    """The hub (or mirror) answered with a server error or something that is not a hub answer."""

    def __init__(self, endpoint: str, filename: str, status: int | None, detail: str = "") -> None:
        self.endpoint = endpoint
        self.status = status
        if status is not None:
            message = say("The model hub at {endpoint} gave an error (HTTP {status}) for {filename}.",
                          endpoint=endpoint, status=status, filename=filename)
        else:
            message = say("The model hub at {endpoint} gave an unexpected answer for {filename}.",
                          endpoint=endpoint, filename=filename)
        super().__init__(message, say("The hub may be having trouble: try again in a few minutes."), detail)


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
            message = say("The model hub has no file {filename!r} in {repo} at revision {revision!r} (HTTP 404).",
                          filename=filename, repo=repo, revision=revision)
        elif what == "revision":
            message = say("The model hub has no revision {revision!r} of {repo} (HTTP 404).",
                          revision=revision, repo=repo)
        else:
            message = say("The model hub has no repository {repo} (HTTP 404).", repo=repo)
        super().__init__(
            message,
            say("The model catalog may be out of date, or the mirror in Settings > Downloads may not "
                "carry this model."),
        )


class HubAccessError(HubError):
    """The hub refused access (HTTP 401/403 or a gated repository)."""

    def __init__(self, repo: str, status: int | None) -> None:
        self.repo = repo
        self.status = status
        message = (say("The model hub refused access to {repo} (HTTP {status}).", repo=repo, status=status)
                   if status is not None else say("The model hub refused access to {repo}.", repo=repo))
        super().__init__(
            message,
            say("Log in with `hf auth login` if the model needs an account, or check the mirror in "
                "Settings > Downloads."),
        )


class ChecksumMismatchError(HubError):
    """A downloaded file does not match the hub's size or hash; it was kept aside, not deleted."""

    def __init__(self, filename: str, kept_at: Path, expected: str, actual: str) -> None:
        self.filename = filename
        self.kept_at = kept_at
        self.expected = expected
        self.actual = actual
        super().__init__(
            say("The downloaded {filename} is damaged (expected {expected}, got {actual}); it was kept "
                "aside as {kept_at}.", filename=filename, expected=expected, actual=actual, kept_at=kept_at),
            say("Download it again (the kept copy is removed once the file downloads correctly); if it "
                "fails again, check the disk and the mirror in Settings > Downloads."),
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
        if detail:
            message = say("Not enough disk space in {path}: {needed} needed ({detail}) but only {free} free.",
                          path=path, needed=format_bytes(needed), detail=detail, free=format_bytes(free))
        else:
            message = say("Not enough disk space in {path}: {needed} needed but only {free} free.",
                          path=path, needed=format_bytes(needed), free=format_bytes(free))
        hint = say("Free up {missing} or choose another folder.", missing=format_bytes(needed - free))
        if kept_aside is not None:
            hint = say("Free up {missing} (damaged downloads kept aside in {folder} hold {kept} and can be "
                       "deleted) or choose another folder.", missing=format_bytes(needed - free),
                       folder=kept_aside[0], kept=format_bytes(kept_aside[1]))
        super().__init__(message, hint)


class OfflineModeError(HubError):
    """Offline mode (HF_HUB_OFFLINE=1) is on and the model is not complete in the cache."""

    def __init__(self, model_name: str, missing: tuple[str, ...], cache_dir: Path) -> None:
        self.model_name = model_name
        self.missing = missing
        shown = ", ".join(missing[:3]) + (f" (+{len(missing) - 3})" if len(missing) > 3 else "")
        super().__init__(
            say("Offline mode is on (HF_HUB_OFFLINE=1) and {model} is not fully downloaded (missing: "
                "{missing}).", model=model_name, missing=shown),
            say("Turn offline mode off to download it, or copy the model into {cache_dir}.", cache_dir=cache_dir),
        )


class DiskWriteError(HubError):
    """Writing the download failed (disk full, no permission, disk removed)."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        super().__init__(
            say("Could not write the download to {path}.", path=path),
            say("Check that the disk has room and is writable; the download resumes when you try again."),
            detail,
        )


class BadEndpointError(HubError):
    """The hub address setting is not a web address."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        super().__init__(
            say("The model hub address {endpoint!r} is not a web address.", endpoint=endpoint),
            say("Enter a full address such as https://huggingface.co or your mirror's https:// address "
                "in Settings > Downloads."),
        )


class DownloadCancelled(HubError):
    """The person cancelled; what was downloaded is kept and the next download resumes it."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        super().__init__(
            say("The download of {model} was cancelled.", model=model_name),
            say("The part already downloaded is kept; downloading again resumes from there."),
        )
