"""The time left while a prompt is read (prefill), from a cost model fitted to the chunks read.

Attention makes a token dearer the deeper it sits: reading the token at position p costs about
a + b*p seconds (a: the weights, the same for every token; b: attention over the p tokens
before it). A linear estimate from the first chunks of a long document is therefore far too
low (it once said "about 2 min" for a 15-minute reading). `PrefillEta` fits a and b to the
chunks read so far (weighted least squares of the per-token time on the chunk's mean depth)
and sums the model over the positions still to read.

The first chunks of a reading hold little information about b, so what a reading learned is
kept per machine and model (`CalibrationStore`, a small JSON file in the cache folder): a
later reading starts from the stored shape, rescaled to the speed it measures now, and moves
to its own fit as its own chunks spread over more depth.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

_MAX_FILE_BYTES = 64 * 1024  # the calibration file is tiny; anything larger is not ours
_MAX_ENTRIES = 32  # models x settings kept; the oldest go first
_MIN_CHUNKS_TO_STORE = 4  # a reading shorter than this teaches too little to keep
_WARMUP_CHUNKS = 1  # a reading's first chunk pays for cold caches; left out once there are more
# A stored calibration never weighs more than one whole 32,768-token reading, so a machine or
# model that changed is followed within a reading or two.
_MAX_SPREAD = 32_768**3 / 12
_FILE_NAME = "prefill-eta.json"
_FORMAT = 1


@dataclass(frozen=True)
class CostModel:
    """Seconds to read the token at position p: a + b*p (a, b >= 0)."""

    a: float
    b: float

    def seconds(self, start: int, end: int) -> float:
        """The predicted time to read positions start .. end-1."""
        n = max(0, end - start)
        # sum over p in [start, end) of (a + b*p)
        return self.a * n + self.b * (n * start + n * (n - 1) / 2)


@dataclass(frozen=True)
class Calibration:
    """A stored cost model and how much it knows about the slope (token-weighted depth spread)."""

    model: CostModel
    spread: float


@dataclass(frozen=True)
class _Chunk:
    depth: int  # position of the chunk's first token
    n: int
    seconds: float

    @property
    def mean_depth(self) -> float:
        return self.depth + (self.n - 1) / 2

    @property
    def per_token(self) -> float:
        return self.seconds / self.n


def _free_fit(chunks: list[_Chunk]) -> tuple[CostModel, float]:
    """Weighted least squares of per-token time on mean depth; returns (model, spread)."""
    w = [float(c.n) for c in chunks]
    x = [c.mean_depth for c in chunks]
    y = [c.per_token for c in chunks]
    total = sum(w)
    x_bar = sum(wi * xi for wi, xi in zip(w, x, strict=True)) / total
    y_bar = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / total
    sxx = sum(wi * (xi - x_bar) ** 2 for wi, xi in zip(w, x, strict=True))
    sxy = sum(wi * (xi - x_bar) * (yi - y_bar) for wi, xi, yi in zip(w, x, y, strict=True))
    b = max(0.0, sxy / sxx) if sxx > 0 and len(chunks) > 2 else 0.0  # deeper is never cheaper
    if b > 0:
        # Timing noise alone gives a slope; extrapolated tenfold it would be a large error.
        # Shrink the slope by its own uncertainty (a soft threshold at two standard errors):
        # a clear depth cost is kept nearly whole, one the noise could explain goes to zero.
        a0 = y_bar - b * x_bar
        residual = sum(wi * (yi - a0 - b * xi) ** 2 for wi, xi, yi in zip(w, x, y, strict=True))
        var_b = residual / (len(chunks) - 2) / sxx
        b = max(0.0, b - 4 * var_b / b)
    a = y_bar - b * x_bar
    if a < 0:  # all of the cost is depth: fit through the origin
        sxx0 = sum(wi * xi * xi for wi, xi in zip(w, x, strict=True))
        a = 0.0
        b = sum(wi * xi * yi for wi, xi, yi in zip(w, x, y, strict=True)) / sxx0 if sxx0 > 0 else 0.0
    return CostModel(a, b), sxx


class PrefillEta:
    """Fits the cost model to one reading's chunks and says the time left.

    Without a calibration the first chunks give a per-token speed only (b = 0); once three
    chunks after the cold first one are read, the depth term is fitted too. With a calibration,
    its shape (a : b) is rescaled to the speed measured now, and the reading's own fit takes
    over in proportion to the depth spread it has seen.
    """

    def __init__(self, calibration: Calibration | None = None) -> None:
        self._calibration = calibration
        self._chunks: list[_Chunk] = []

    def add(self, depth: int, n: int, seconds: float) -> None:
        """Record that the chunk of n tokens starting at position `depth` took `seconds`."""
        if n > 0 and seconds > 0 and math.isfinite(seconds):
            self._chunks.append(_Chunk(depth, n, seconds))

    def _used(self) -> list[_Chunk]:
        if len(self._chunks) > _WARMUP_CHUNKS:
            return self._chunks[_WARMUP_CHUNKS:]
        return self._chunks

    def _fit(self) -> tuple[CostModel, float] | None:
        chunks = self._used()
        cal = self._calibration
        if not chunks:
            return (cal.model, cal.spread) if cal is not None else None
        free, spread = _free_fit(chunks)
        if cal is None:
            return free, spread
        predicted = sum(c.n * (cal.model.a + cal.model.b * c.mean_depth) for c in chunks)
        measured = sum(c.seconds for c in chunks)
        scale = measured / predicted if predicted > 0 else 1.0
        own = spread / (spread + cal.spread) if spread + cal.spread > 0 else 1.0
        model = CostModel(own * free.a + (1 - own) * scale * cal.model.a,
                          own * free.b + (1 - own) * scale * cal.model.b)
        return model, spread + cal.spread

    def model(self) -> CostModel | None:
        """The current cost model (None before the first chunk without a calibration)."""
        fit = self._fit()
        return fit[0] if fit is not None else None

    def seconds_left(self, done: int, total: int) -> float | None:
        """Predicted seconds to read positions done .. total-1 (None while nothing is known)."""
        if done >= total:
            return 0.0
        model = self.model()
        return model.seconds(done, total) if model is not None else None

    def calibration(self) -> Calibration | None:
        """What this reading teaches, merged with the calibration it began with (None: too little)."""
        if len(self._chunks) < _MIN_CHUNKS_TO_STORE:
            return None
        fit = self._fit()
        if fit is None or fit[0].a + fit[0].b <= 0:
            return None
        return Calibration(fit[0], min(fit[1], _MAX_SPREAD))


class _Identity(Protocol):
    name: str
    device: str
    model_name: str
    n_ctx: int
    prefill_chunk: int


def calibration_key(backend: _Identity) -> str:
    """Machine, backend, device, model and the settings that change the cost per token."""
    machine = f"{platform.node()}/{platform.machine()}/{os.cpu_count()}"
    return (f"{machine}|{backend.name}|{backend.device}|{backend.model_name}|"
            f"ctx={backend.n_ctx}|chunk={backend.prefill_chunk}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


class CalibrationStore:
    """Calibrations per key in one small JSON file; a damaged or foreign file is ignored."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            with self.path.open("rb") as f:
                raw = f.read(_MAX_FILE_BYTES + 1)
        except OSError:
            return {}
        if len(raw) > _MAX_FILE_BYTES:
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return {}
        entries = data.get("models")
        if not isinstance(entries, dict):
            return {}
        return {k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, dict)}

    def get(self, key: str) -> Calibration | None:
        """The stored calibration for key, or None (none, or not valid)."""
        entry = self._read().get(key)
        if entry is None:
            return None
        a, b, spread = (_number(entry.get(f)) for f in ("a", "b", "spread"))
        if a is None or b is None or spread is None or a + b <= 0:
            return None
        return Calibration(CostModel(a, b), spread)

    def put(self, key: str, calibration: Calibration) -> None:
        """Store (atomically) the calibration for key; a failure to write is not the user's problem."""
        entries = self._read()
        entries[key] = {"a": calibration.model.a, "b": calibration.model.b,
                        "spread": calibration.spread, "updated": time.time()}
        newest = sorted(entries.items(), key=lambda kv: _number(kv[1].get("updated")) or 0.0)
        data = {"format": _FORMAT, "models": dict(newest[-_MAX_ENTRIES:])}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".eta-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise


def default_store() -> CalibrationStore:
    """The calibration file in the app's cache folder (INTERNLM2_DESKTOP_CACHE overrides)."""
    from app.paths import cache_dir

    return CalibrationStore(cache_dir() / _FILE_NAME)


class PrefillClock:
    """The generation loop's hook: times each chunk, says the time left, stores what it learned."""

    def __init__(self, backend: _Identity, store: CalibrationStore | None = None) -> None:
        self._store = store if store is not None else default_store()
        self._key = calibration_key(backend)
        self.eta = PrefillEta(self._store.get(self._key))
        self._started = 0.0

    def start_chunk(self) -> None:
        self._started = time.perf_counter()

    def end_chunk(self, depth: int, n: int) -> None:
        self.eta.add(depth, n, time.perf_counter() - self._started)

    def seconds_left(self, done: int, total: int) -> float | None:
        return self.eta.seconds_left(done, total)

    def finish(self) -> None:
        """Keep the reading's calibration for the next one (when it read enough chunks)."""
        calibration = self.eta.calibration()
        if calibration is not None:
            self._store.put(self._key, calibration)
