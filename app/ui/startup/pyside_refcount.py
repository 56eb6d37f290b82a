"""Guard against a PySide6 reference-count bug that aborts Python 3.10/3.11 in long sessions.

PySide6 6.12 (seen with 6.12.0) gives back the bool of `Signal.emit()` and the None of
`QCoreApplication.processEvents()` without the reference it owes: every call leaves True (or
None) with one count fewer. Python 3.12 made these singletons immortal, so nothing happens
there; on 3.10 and 3.11 the count reaches zero after about a thousand emits in the window (a
minute of a streaming reply) and the interpreter aborts with "bool_dealloc: deallocating True
or False". `pin_singletons()` does what 3.12 does: it gives True, False and None a count no
session can use up. It runs when app.ui is imported, before any signal is emitted.
"""

from __future__ import annotations

import ctypes
import sys

_PIN = 1 << 40  # a trillion emits; the count is a Py_ssize_t


def pin_singletons() -> bool:
    """Add _PIN references to True, False and None on CPython < 3.12 (once); True if done."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if getattr(sys, "_internlm2_pinned_singletons", False):
        return True
    for obj in (True, False, None):
        # ob_refcnt is the first field of every object in release builds of CPython < 3.12.
        ctypes.c_ssize_t.from_address(id(obj)).value += _PIN
    sys._internlm2_pinned_singletons = True  # type: ignore[attr-defined]
    return True
