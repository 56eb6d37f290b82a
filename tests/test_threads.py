"""The thread count: one per physical core by default (one left for the window past four), and
the Settings override, bounded, reaching the llama.cpp backend."""

from __future__ import annotations

import os
import random
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.engine.llamacpp_backend import (
    LlamaCppBackend,
    choose_threads,
    default_threads,
    physical_cores,
)
from app.engine.loader import open_backend
from app.settings import MAX_THREADS, AppSettings
from app.storage import ConversationStore


def test_default_threads_follow_physical_cores_and_leave_one_on_big_machines() -> None:
    assert [default_threads(n) for n in (1, 2, 4)] == [1, 2, 4]
    assert [default_threads(n) for n in (5, 8, 16)] == [4, 7, 15]
    assert 1 <= default_threads() <= physical_cores()


def test_an_override_is_used_but_never_more_threads_than_cpus() -> None:
    for automatic in (None, 0, -1, -(10**9)):
        assert choose_threads(automatic) == default_threads()
    assert choose_threads(1, cpus=8) == 1
    assert choose_threads(6, cpus=8) == 6
    assert choose_threads(64, cpus=8) == 8  # more threads than CPUs only wait in the barriers
    assert choose_threads(10**9) == (os.cpu_count() or 10**9)


def test_stored_thread_counts_out_of_range_fall_back_to_automatic(store: ConversationStore) -> None:
    rng = random.Random(17)
    hostile: list[object] = [-1, MAX_THREADS + 1, 10**12, -(2**63), True, "4", 2.5, None, [3], {"n": 3}]
    hostile += [rng.randint(-(10**9), -1) for _ in range(5)] + [rng.randint(MAX_THREADS + 1, 10**9) for _ in range(5)]
    for value in hostile:
        store.settings.set("ui.threads", value)
        loaded = AppSettings.load(store)
        assert loaded.threads == 0, value
        assert loaded.load_spec("m.gguf").n_threads is None  # the backend chooses
    for value in (0, 1, 3, MAX_THREADS):
        store.settings.set("ui.threads", value)
        assert AppSettings.load(store).threads == value


def test_the_setting_reaches_the_backend(tiny_gguf: Path) -> None:
    spec = AppSettings(threads=1, n_ctx=256).load_spec(tiny_gguf)
    backend = open_backend(spec)
    try:
        assert isinstance(backend, LlamaCppBackend)
        assert backend.n_threads == 1 and backend.device == "CPU, 1 threads"
        assert backend._llm.context_params.n_threads == 1 == backend._llm.context_params.n_threads_batch
    finally:
        backend.unload()
    backend = LlamaCppBackend(tiny_gguf, n_ctx=256, n_threads=MAX_THREADS)
    try:
        assert backend.n_threads == min(MAX_THREADS, os.cpu_count() or MAX_THREADS)
    finally:
        backend.unload()


def test_the_dialog_shows_the_automatic_count_and_keeps_an_override(qtbot: QtBot) -> None:
    from app.ui.window.settings_dialog import SettingsDialog

    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    assert dialog.threads.value() == 0
    assert str(default_threads()) in dialog.threads.specialValueText()
    assert dialog.threads.maximum() == MAX_THREADS
    dialog.threads.setValue(1)
    assert dialog.result_settings().threads == 1
    assert dialog.result_settings().load_spec("m.gguf").n_threads == 1
