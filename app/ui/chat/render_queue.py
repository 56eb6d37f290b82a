"""Rendering steps run in order, each bounded: what fits the step budget now, the rest on a zero
timer, one budget of steps per turn of the event loop (so input and painting go on between).

A step may add steps (a message's step plans it and adds its parts): those run right after
it, before the steps that were already waiting, so the document is built in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from app.ui.chat.render_budget import STEP_MS

Step = Callable[[], None]


class RenderQueue(QObject):
    """`add(cost_ms, step)`: run now while this turn's estimated work stays within the budget
    and nothing waits before it, else in a later turn; `pending` counts what waits."""

    def __init__(self, parent: QObject | None = None, budget_ms: float = STEP_MS) -> None:
        super().__init__(parent)
        self.budget_ms = budget_ms
        self._steps: deque[tuple[float, Step]] = deque()
        self._added: list[tuple[float, Step]] = []  # by the step that runs now
        self._running = False
        self._spent = 0.0  # estimated work done in this turn of the event loop
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._next_turn)
        self._turn = QTimer(self)  # a new turn of the event loop: the budget starts again
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)
        self._turn.timeout.connect(self._new_turn)

    @property
    def pending(self) -> int:
        return len(self._steps) + len(self._added)

    def add(self, cost_ms: float, step: Step) -> None:
        if self._running:
            self._added.append((cost_ms, step))
            return
        self._steps.append((cost_ms, step))
        if len(self._steps) == 1 and not self._timer.isActive():
            self._drain()

    def clear(self) -> None:
        """Forget the waiting steps (the view is being rendered anew)."""
        self._steps.clear()
        self._added.clear()
        self._timer.stop()

    def _run_one(self, cost_ms: float, step: Step) -> None:
        self._running = True
        try:
            step()
        finally:
            self._running = False
            added, self._added = self._added, []
            self._steps.extendleft(reversed(added))
        self._spent += cost_ms
        if not self._turn.isActive():
            self._turn.start()

    def _drain(self) -> None:
        while self._steps:
            cost = self._steps[0][0]
            if self._spent and self._spent + cost > self.budget_ms:
                break
            self._run_one(*self._steps.popleft())
        if self._steps:
            self._timer.start()

    def _new_turn(self) -> None:
        self._spent = 0.0

    def _next_turn(self) -> None:
        self._spent = 0.0
        self._drain()
