"""Make a test's Stop land mid-way on any machine: the reply or reading waits for it.

The tiny model writes a reply in 0.1 s and may end it (end of sequence, <|im_end|>) before a
test's Stop arrives, so "stop mid-reply" used to pass or fail with the machine's load. These
helpers wrap the loaded backend's primitives (on the worker thread, the real loop around them):

- `endless_reply`: the reply never ends by itself (the special tokens are never sampled: a
  plain token instead) and each decode step waits up to `step_s` for the request's cancel flag,
  so text keeps arriving, batch after batch, until the test stops it (or the context is full,
  `step_s` x the context length later: a bound, not a pace the test relies on).
- `held_reading`: the prefill runs `chunks` chunks, then waits for the cancel flag or the
  test's release (at most `timeout_s`; then it fails the request with a sentence saying what
  it waited for).

Waiting on the cancel flag is waiting for the event itself: no sleep decides the outcome.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

_WAITED_TOO_LONG = "the test neither stopped nor released the reading (held by tests/pacing.py for {s:.0f} s)"


def _plain_token(backend: Any) -> int:
    special = set(backend.tokenizer.special.by_name.values()) | {
        backend.tokenizer.special.eos, backend.tokenizer.special.bos}
    return next(i for i in reversed(backend.tokenizer.encode("a lot")) if i not in special)


@contextlib.contextmanager
def endless_reply(backend: Any, step_s: float = 0.05) -> Iterator[None]:
    """Replies go on, one token per `step_s` at most, until the request is cancelled."""
    special = set(backend.tokenizer.special.by_name.values()) | {
        backend.tokenizer.special.eos, backend.tokenizer.special.bos}
    plain = _plain_token(backend)
    forward, sample = backend._forward, backend._sample

    def paced_forward(ids: list[int]) -> None:
        if len(ids) == 1:
            backend._cancel.wait(step_s)  # returns at once when Stop was pressed
        forward(ids)

    def no_end(*args: Any) -> int:
        token = int(sample(*args))
        return plain if token in special else token

    backend._forward, backend._sample = paced_forward, no_end
    try:
        yield
    finally:
        del backend._forward, backend._sample  # back to the class's methods


@contextlib.contextmanager
def held_reading(backend: Any, chunks: int = 1, timeout_s: float = 60.0) -> Iterator[threading.Event]:
    """Prefills read `chunks` chunks, then wait until their request is cancelled or the test
    sets the event this yields (the reading then goes on to the end)."""
    forward = backend._forward
    release = threading.Event()
    seen = {"chunks": 0}

    def held_forward(ids: list[int]) -> None:
        if len(ids) > 1:
            if seen["chunks"] >= chunks:
                deadline = time.monotonic() + timeout_s
                while not (release.is_set() or backend._cancel.is_set()):
                    if time.monotonic() > deadline:
                        raise RuntimeError(_WAITED_TOO_LONG.format(s=timeout_s))
                    release.wait(0.01)  # checks both flags; the outcome never depends on this
            seen["chunks"] += 1
        forward(ids)

    backend._forward = held_forward
    try:
        yield release
    finally:
        del backend._forward
