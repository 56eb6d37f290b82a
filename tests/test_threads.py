"""The default thread count: one per physical core, one core left for the window past four."""

from __future__ import annotations

from app.engine.llamacpp_backend import default_threads, physical_cores


def test_default_threads_follow_physical_cores_and_leave_one_on_big_machines() -> None:
    assert [default_threads(n) for n in (1, 2, 4)] == [1, 2, 4]
    assert [default_threads(n) for n in (5, 8, 16)] == [4, 7, 15]
    assert 1 <= default_threads() <= physical_cores()
