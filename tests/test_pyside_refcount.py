"""PySide6 6.12 drops a reference to True per Signal.emit() and to None per processEvents():
with app.ui imported, a long session (far more emits than True had references) goes on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
import app.ui  # noqa: F401 - pins the singletons
app = QCoreApplication([])
class Source(QObject):
    text = Signal(str)
source = Source()
got = []
source.text.connect(got.append)
n = sys.getrefcount(True) + sys.getrefcount(None) if sys.version_info < (3, 12) else 0
n = min(n, 100_000) + 20_000  # more than True and None ever had, before the pin
for _ in range(n):
    source.text.emit("x")
    app.processEvents()
print(len(got) == n)
"""


def test_many_emits_and_process_events_do_not_abort_python() -> None:
    done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
                                            "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
