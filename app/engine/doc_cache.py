"""Saved document states: the KV cache of system prompt + document, on disk, reused after a restart.

One entry is two files in `cache_dir()/doc-states/`: `<digest>.kv` (llama.cpp's state file:
the KV cache and its tokens) and `<digest>.json`, a sidecar with the full key, the state
file's byte size, its CRC-32 and when it was last used. The key is everything that changes
the state: the model file (resolved path, size, modification time), the document's SHA-256,
the context length, the KV type, the rope base (chosen by the length the conversation needs,
app.internlm2.rope; the reader sets it before the key is made), whether flash attention is
on (it changes the layout of V) and a hash of the exact prefix token ids.

Nothing on disk is trusted: an entry is used only when its sidecar parses, names exactly the
key asked for, and the state file has the recorded size and checksum; anything else (stale,
truncated, foreign, half-written) is removed, and the caller reads the document again. If
llama.cpp still refuses the file, the entry is removed as well.

The folder is size-capped (default 8 GB, the `SETTING_KEY` setting): saving evicts the least
recently used entries first. Only the llama.cpp backend can save its state; the PyTorch
backend raises NotImplementedError in `save_state`, so with it documents are cached in memory
only (follow-up questions still reuse the prefix, a restart reads the document again).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import struct
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.engine.backend import Backend
from app.engine.types import EngineError

_log = logging.getLogger(__name__)

SETTING_KEY = "documents.state_cache_bytes"
DEFAULT_CAP_BYTES = 8 * 10**9
_FORMAT = 1
_STALE_PART_S = 3600.0  # a .part file this old was left by a crash, not a save in progress
_CHUNK = 8 * 1024 * 1024


def file_crc32(path: Path) -> int:
    """CRC-32 of a file, read in chunks (about 1.5 GB/s: damage detection, not a signature)."""
    crc = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def ids_sha256(ids: list[int]) -> str:
    """A hash of exact token ids (little-endian uint32s)."""
    return hashlib.sha256(struct.pack(f"<{len(ids)}I", *ids)).hexdigest()


@dataclass(frozen=True)
class StateKey:
    """Everything a saved state depends on; its digest names the files."""

    model_path: str
    model_size: int
    model_mtime_ns: int
    document_sha256: str
    n_ctx: int
    kv_type: str
    rope_base: float
    prefix_sha256: str
    prefix_tokens: int
    flash_attn: bool = False  # llama.cpp lays V out differently without it: states do not mix

    def digest(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:32]


def can_save_state(backend: Backend) -> bool:
    """Whether this backend can write its KV state to disk (llama.cpp yes, PyTorch no)."""
    return type(backend).save_state is not Backend.save_state and hasattr(backend, "path")


def state_key(backend: Backend, document_sha256: str, prefix_ids: list[int]) -> StateKey | None:
    """The key for `prefix_ids` on this loaded model, or None when the backend cannot save."""
    if not can_save_state(backend):
        return None
    path = Path(getattr(backend, "path", "")).resolve()
    st = path.stat()
    return StateKey(str(path), st.st_size, st.st_mtime_ns, document_sha256, backend.n_ctx,
                    str(getattr(backend, "kv_type", "f16")), float(getattr(backend, "rope_base", 0.0)),
                    ids_sha256(prefix_ids), len(prefix_ids), bool(getattr(backend, "flash_attn", False)))


@dataclass(frozen=True)
class CacheEntry:
    """One saved state as its sidecar describes it."""

    digest: str
    size: int
    last_used: float


class DocStateCache:
    """The size-capped, least-recently-used folder of saved document states."""

    def __init__(self, folder: Path | None = None, cap_bytes: int = DEFAULT_CAP_BYTES) -> None:
        if folder is None:
            from app.paths import cache_dir

            folder = cache_dir() / "doc-states"
        self.folder = Path(folder)
        self.cap_bytes = int(cap_bytes)

    def _paths(self, digest: str) -> tuple[Path, Path]:
        return self.folder / f"{digest}.kv", self.folder / f"{digest}.json"

    def _remove(self, digest: str, why: str) -> None:
        _log.info("dropping saved document state %s: %s", digest, why)
        for p in self._paths(digest):
            p.unlink(missing_ok=True)

    def _read_sidecar(self, digest: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._paths(digest)[1].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == _FORMAT else None

    def _write_sidecar(self, digest: str, data: dict[str, Any]) -> None:
        side = self._paths(digest)[1]
        tmp = side.with_name(side.name + ".part")
        tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(tmp, side)

    # -- lookups -------------------------------------------------------------------------------
    def lookup(self, key: StateKey) -> Path | None:
        """The state file for `key` once verified (size and checksum), or None (bad ones removed)."""
        digest = key.digest()
        state, side = self._paths(digest)
        if not state.exists() and not side.exists():
            return None
        meta = self._read_sidecar(digest)
        problem = ""
        if meta is None:
            problem = "no readable sidecar"
        elif meta.get("key") != asdict(key):
            problem = "the sidecar names another key"
        elif not state.is_file():
            problem = "the state file is missing"
        elif state.stat().st_size != meta.get("bytes"):
            problem = f"size {state.stat().st_size} instead of {meta.get('bytes')}"
        elif file_crc32(state) != meta.get("crc32"):
            problem = "checksum mismatch"
        if problem:
            self._remove(digest, problem)
            return None
        return state

    def restore(self, backend: Backend, key: StateKey, expected_ids: list[int]) -> bool:
        """Load the saved state for `key` into `backend`; False (and the entry gone) if unusable."""
        path = self.lookup(key)
        if path is None:
            return False
        try:
            tokens = backend.load_state(path)
        except NotImplementedError:
            return False
        except EngineError as exc:
            self._remove(key.digest(), f"llama.cpp refused it ({exc})")
            return False
        if tokens != expected_ids:
            self._remove(key.digest(), "its tokens are not the expected prefix")
            return False
        meta = self._read_sidecar(key.digest())
        if meta is not None:
            meta["last_used"] = time.time()
            with contextlib.suppress(OSError):
                self._write_sidecar(key.digest(), meta)
        return True

    # -- saving --------------------------------------------------------------------------------
    def save(self, backend: Backend, key: StateKey) -> bool:
        """Save the backend's state (exactly the prefix of `key`) and evict to stay under the cap.

        False when the backend cannot save, the state alone exceeds the cap, or the disk
        refused it (never an exception: a cache that cannot be written only costs time).
        """
        held = backend.cached_tokens
        if len(held) != key.prefix_tokens or ids_sha256(held) != key.prefix_sha256:
            return False  # the cache holds more (or other) tokens than the prefix: not this state
        digest = key.digest()
        state, _side = self._paths(digest)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            backend.save_state(state)
        except NotImplementedError:
            return False
        except (EngineError, OSError) as exc:
            _log.warning("could not save the document state: %s", exc)
            self._remove(digest, "saving failed")
            return False
        size = state.stat().st_size
        if size > self.cap_bytes:
            self._remove(digest, f"{size} bytes is more than the cap of {self.cap_bytes}")
            return False
        self.evict(self.cap_bytes - size, keep=digest)
        meta = {"format": _FORMAT, "key": asdict(key), "bytes": size, "crc32": file_crc32(state),
                "tokens": key.prefix_tokens, "created": time.time(), "last_used": time.time()}
        try:
            self._write_sidecar(digest, meta)
        except OSError as exc:
            _log.warning("could not write the document state's sidecar: %s", exc)
            self._remove(digest, "sidecar not written")
            return False
        return True

    # -- housekeeping --------------------------------------------------------------------------
    def entries(self) -> list[CacheEntry]:
        """Complete entries, least recently used first; orphans and stale parts are removed."""
        if not self.folder.is_dir():
            return []
        out: list[CacheEntry] = []
        now = time.time()
        for path in self.folder.iterdir():
            if path.name.endswith(".part"):
                with contextlib.suppress(OSError):
                    if now - path.stat().st_mtime > _STALE_PART_S:
                        path.unlink()
                continue
            if path.suffix != ".json" and path.suffix != ".kv":
                continue
            digest = path.stem
            if path.suffix == ".kv":
                if not self._paths(digest)[1].exists():
                    with contextlib.suppress(OSError):
                        if now - path.stat().st_mtime > _STALE_PART_S:  # a save may be running
                            path.unlink()
                continue
            meta = self._read_sidecar(digest)
            state = self._paths(digest)[0]
            if meta is None or not state.exists():
                self._remove(digest, "incomplete entry")
                continue
            out.append(CacheEntry(digest, int(meta.get("bytes", 0)), float(meta.get("last_used", 0.0))))
        return sorted(out, key=lambda e: e.last_used)

    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries())

    def evict(self, budget: int, keep: str | None = None) -> int:
        """Remove least recently used entries until they take at most `budget` bytes; count removed."""
        entries = [e for e in self.entries() if e.digest != keep]
        total = sum(e.size for e in entries)
        removed = 0
        for entry in entries:
            if total <= budget:
                break
            self._remove(entry.digest, "least recently used, over the size cap")
            total -= entry.size
            removed += 1
        return removed

    def clear(self) -> None:
        """Remove every saved state."""
        for entry in self.entries():
            self._remove(entry.digest, "cache cleared")
