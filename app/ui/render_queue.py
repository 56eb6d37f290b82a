"""Rendering steps run in order, each bounded: what fits the step budget now, the rest on a zero
timer, one budget of steps per turn of the event loop (so input and painting go on between)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from app.ui.render_budget import STEP_MS

Step = Callable[[], None]


class RenderQueue(QObject):
    """`add(cost_ms, step)` runs `step` at once while this turn's estimated work stays within
    the budget and nothing waits before it; otherwise it waits its turn. `drained` is emitted
    when a wait ends with nothing left."""

    drained = Signal()

    def __init__(self, parent: QObject | None = None, budget_ms: float = STEP_MS) -> None:
        super().__init__(parent)
        self.budget_ms = budget_ms
        self._steps: deque[tuple[float, Step]] = deque()
        self._spent = 0.0  # estimated work done synchronously in this turn of the event loop
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run)
        self._turn = QTimer(self)  # a new turn of the event loop: the budget starts again
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)
        self._turn.timeout.connect(self._new_turn)

    @property
    def pending(self) -> int:
        return len(self._steps)

    def add(self, cost_ms: float, step: Step) -> None:
        if not self._steps and (self._spent == 0 or self._spent + cost_ms <= self.budget_ms):
            self._spent += cost_ms
            if not self._turn.isActive():
                self._turn.start()
            step()
            return
        self._steps.append((cost_ms, step))
        if not self._timer.isActive():
            self._timer.start()

    def clear(self) -> None:
        """Forget the waiting steps (the view is being rendered anew)."""
        self._steps.clear()
        self._timer.stop()

    def finish(self) -> None:
        """Run every waiting step now (for callers that need the whole rendering at once)."""
        while self._steps:
            self._steps.popleft()[1]()
        self._timer.stop()

    def _new_turn(self) -> None:
        self._spent = 0.0

    def _run(self) -> None:
        spent = 0.0
        while self._steps:
            cost, step = self._steps[0]
            if spent and spent + cost > self.budget_ms:
                break
            self._steps.popleft()
            spent += cost
            step()
        self._spent = max(self._spent, spent)
        if not self._turn.isActive():
            self._turn.start()
        if self._steps:
            self._timer.start()
        else:
            self.drained.emit()
