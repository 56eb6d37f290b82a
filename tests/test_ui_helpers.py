"""The waits the window tests use fail at once, and say what they waited for."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject, QTimer, Signal
from pytestqt.qtbot import QtBot

from tests.ui_helpers import expect, wait_until


class _Job(QObject):
    done = Signal(int)
    failed = Signal(str)


def test_expect_fails_at_once_when_the_failure_signal_comes_first(qtbot: QtBot) -> None:
    job = _Job()
    with pytest.raises(AssertionError, match=r"while waiting for the job: \('disk full',\)"), \
            expect(qtbot, job.done, "the job", timeout=60000, fail_on=[job.failed]):
        QTimer.singleShot(0, lambda: job.failed.emit("disk full"))


def test_expect_says_what_did_not_happen(qtbot: QtBot) -> None:
    job = _Job()
    with pytest.raises(AssertionError, match="the job did not happen within 0 s"), \
            expect(qtbot, job.done, "the job", timeout=50):
        pass
    with expect(qtbot, job.done, "the job", fail_on=[job.failed]) as blocker:
        QTimer.singleShot(0, lambda: job.done.emit(7))
    assert blocker.args == [7]


def test_wait_until_says_what_it_waited_for(qtbot: QtBot) -> None:
    with pytest.raises(AssertionError, match="the flag to be set did not happen"):
        wait_until(qtbot, lambda: False, "the flag to be set", timeout=50)
