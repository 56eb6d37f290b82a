"""Test-only: the real llama.cpp backend with a sampling hook, and a real server on loopback.

`ScriptedBackend` is LlamaCppBackend with one override, `_sample`: while a script is set, the
next sampled tokens are the script's (the random tiny model would never write a tool call by
itself); then, with `hold()`, sampling waits until the request is cancelled or `release()` is
called (a generation that runs as long as the test needs, without timing; a script set while
it waits is sampled next). Everything else is the engine's real loop: prefill, prefix reuse,
stop tokens, streaming, cancel. It lives in tests/ only; nothing in app/ can reach it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from app.engine.llamacpp_backend import LlamaCppBackend
from app.engine.types import Event, GenerateRequest
from app.internlm2.chat_format import Special


class ScriptedBackend(LlamaCppBackend):
    """LlamaCppBackend whose sampled tokens a test can dictate (see the module docstring)."""

    def __init__(self, path: Path, **kwargs: object) -> None:
        super().__init__(path, **kwargs)  # type: ignore[arg-type]
        self._script: list[int] = []
        self._hold_after: int | None = None
        self._released = threading.Event()
        self.active = 0
        self.max_active = 0
        self.held = threading.Event()  # set while a generation waits in hold

    def script(self, ids: list[int]) -> None:
        """The next generation samples these ids first."""
        self._script = list(ids)

    def script_text(self, *parts: str | Special) -> list[int]:
        """Script the ids of text and special tokens (as the model would write them)."""
        ids: list[int] = []
        for part in parts:
            ids.extend([self.tokenizer.special.id(part.name)] if isinstance(part, Special)
                       else self.tokenizer.encode(part))
        self.script(ids)
        return ids

    def hold(self) -> None:
        """After the script, the next generation waits until cancelled or released."""
        self._released.clear()
        self._hold_after = 0

    def release(self) -> None:
        self._hold_after = None
        self._released.set()

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            yield from super().generate(request)
        finally:
            self.active -= 1

    def _sample(self) -> int:
        if self._script:
            return self._script.pop(0)
        if self._hold_after is not None:
            self.held.set()
            while not self._cancel.is_set() and not self._released.wait(0.005):
                pass
            self.held.clear()
            if self._script:  # scripted while held: the script goes on from here
                return self._script.pop(0)
        return super()._sample()
