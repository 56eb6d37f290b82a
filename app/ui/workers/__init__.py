"""Threads that run long work off the GUI thread: the inference worker (the model's own thread)."""
