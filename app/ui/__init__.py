"""PySide6 widgets, dialogs, worker threads: the only package that imports Qt."""

from app.ui.startup.pyside_refcount import pin_singletons

pin_singletons()  # before any Qt signal is emitted (see pyside_refcount.py)
