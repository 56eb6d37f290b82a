"""A second process that holds an SQLite write lock until told to let go (for the tests of
a locked database): it says "locked" on its stdout once it holds the lock, so tests are paced
by that line, never by a sleep."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Holder = Callable[[Path, str, str], "subprocess.Popen[str]"]

_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = " + sys.argv[2]).fetchone()
conn.execute("BEGIN " + sys.argv[3])
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
print("released", flush=True)
"""


@pytest.fixture(name="lock_holder")
def lock_holder_fixture() -> Iterator[Holder]:
    """Start holders with `lock_holder(path, journal_mode, "IMMEDIATE" | "EXCLUSIVE")`."""
    children: list[subprocess.Popen[str]] = []

    def hold(path: Path, journal: str, kind: str) -> subprocess.Popen[str]:
        child = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), journal, kind],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        children.append(child)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"  # paced by its line, not a sleep
        return child

    yield hold
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()


def release(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline().strip() == "released"
    assert child.wait(timeout=30) == 0
