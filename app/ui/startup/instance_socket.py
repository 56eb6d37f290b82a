"""Where the single-instance socket may live and who may be on the other end (no Qt here).

The socket lives in a folder only this user can enter: XDG_RUNTIME_DIR when it is one (an
absolute folder, not a link, owned by this user, no access for group or others), else a
folder of our own in the temporary folder, `internlm2-desktop-<uid>`, made 0700 and checked
the same way. A folder someone else made first, or one opened up to others, is refused, and
the guard stays off for that start (logged): the app still runs, it only cannot hand over.

A socket file that is not a socket or not ours is never connected to nor removed; a socket
that answers is never removed; on Linux the peer of every connection must be this same user
(SO_PEERCRED), on both ends.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import stat
import struct
import sys
import tempfile
from pathlib import Path

_log = logging.getLogger(__name__)
_MAX_SOCKET_PATH = 100  # sun_path holds 104-108 bytes depending on the platform
PROBE_S = 1.0


def _euid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else -1


def folder_problem(folder: Path) -> str:
    """Why `folder` may not hold our socket ('' when it may)."""
    if not folder.is_absolute():
        return "not an absolute path"
    try:
        info = os.lstat(folder)
    except OSError as err:
        return err.strerror or str(err)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        return "not a folder"
    if info.st_uid != _euid():
        return f"owned by user {info.st_uid}, not by this user"
    if info.st_mode & 0o077:
        return f"open to other users (mode {stat.S_IMODE(info.st_mode):o})"
    return ""


def runtime_folder() -> Path | None:
    """The per-user folder for the socket, or None (logged) when no folder can be trusted."""
    if sys.platform == "win32":
        return None  # named pipes: Qt restricts them to this user (UserAccessOption)
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime:
        problem = folder_problem(Path(runtime))
        if not problem:
            return Path(runtime)
        _log.warning("XDG_RUNTIME_DIR %s refused for the instance socket: %s", runtime, problem)
    own = Path(tempfile.gettempdir()) / f"internlm2-desktop-{_euid()}"
    try:
        own.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as err:
        _log.warning("no folder for the instance socket (%s): %s", own, err)
        return None
    problem = folder_problem(own)
    if problem:
        _log.warning("%s refused for the instance socket: %s", own, problem)
        return None
    return own


def socket_problem(path: Path) -> str:
    """Why the file at `path` must not be talked to or removed ('' when it is our socket, or
    when there is nothing there)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return ""
    except OSError as err:
        return err.strerror or str(err)
    if not stat.S_ISSOCK(info.st_mode):
        return "not a socket"
    if info.st_uid != _euid():
        return f"owned by user {info.st_uid}"
    return ""


def peer_uid(descriptor: int) -> int | None:
    """The user id of the process on the other end of a connected local socket, where the
    platform tells it (Linux: SO_PEERCRED); None where it does not."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None or descriptor < 0:
        return None
    probe = socket.socket(fileno=os.dup(descriptor))
    try:
        creds = probe.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return None
    finally:
        probe.close()
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def same_user(descriptor: int) -> bool:
    """False only when the platform says the peer is another user."""
    uid = peer_uid(descriptor)
    return uid is None or uid == _euid()


def answers(path: Path) -> bool:
    """Whether something listens on the socket file (a connect that is refused: nobody).

    Only ECONNREFUSED (or the file gone) counts as nobody: a listener that is too busy to
    accept within PROBE_S still answers, and its socket is not removed."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(PROBE_S)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError as err:
        return err.errno not in (errno.ECONNREFUSED, errno.ENOENT)
    finally:
        probe.close()
    return True


def socket_path(folder: Path, name: str) -> Path | None:
    """The socket's path, or None when it would be too long for the platform."""
    path = folder / name
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        _log.warning("instance socket path too long: %s", path)
        return None
    return path
