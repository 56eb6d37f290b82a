"""PySide6 widgets, dialogs, worker threads: the only package that imports Qt."""
