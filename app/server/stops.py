"""`stop` strings in streamed text: cut at the first one, never stream a piece of one.

The text that could still become the start of a stop string is held back until the next piece
decides it; everything else goes out at once, so streaming stays as live as without stops.
"""

from __future__ import annotations

from collections.abc import Sequence


class StopMatcher:
    """Feed text pieces in order; get back what is safe to send and whether a stop matched."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [s for s in stops if s]
        self._held = ""
        self.matched = False

    def push(self, text: str) -> str:
        """Add a piece; return the text that can be sent now. After a match, returns ""."""
        if self.matched:
            return ""
        if not self._stops:
            return text
        buf = self._held + text
        hits = [i for i in (buf.find(s) for s in self._stops) if i >= 0]
        if hits:
            self.matched = True
            self._held = ""
            return buf[:min(hits)]
        keep = self._longest_partial(buf)
        self._held = buf[len(buf) - keep:] if keep else ""
        return buf[:len(buf) - keep]

    def flush(self) -> str:
        """The held text at the end of the reply (it did not become a stop string)."""
        held, self._held = self._held, ""
        return "" if self.matched else held

    def _longest_partial(self, buf: str) -> int:
        """Length of the longest end of `buf` that is a proper start of some stop string."""
        best = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(buf)), best, -1):
                if buf.endswith(stop[:n]):
                    best = n
                    break
        return best
