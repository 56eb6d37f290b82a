"""Huge or pathological Markdown never holds the GUI thread long: each rendering step is bounded.

The inputs are generated: a 1 MB table, thousands of small tables, a 40,000-character unbroken
line, lists and quotes nested hundreds deep, 1 MB of prose, a long code block made to defeat
the highlighter, a 3 MB reply. Each goes through the real ChatView offscreen: the call that
renders it and every later rendering step stay under a generous bound of the GUI thread's CPU
time (so that a loaded machine cannot make them flaky; a probe timer checks that the event
loop keeps turning meanwhile), and the text is all there at the end.
The bound is far above the target (100 ms on a slow laptop; the figures measured here are in
docs/security.md); before this view, the 1 MB table alone held the thread for more
than two minutes.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer
from pytestqt.qtbot import QtBot

from app.storage import Role
from app.ui.chat import render_budget as budget
from app.ui.chat.chat_view import ChatView
from app.ui.chat.markdown_render import highlight_spans
from app.ui.chat.render_queue import RenderQueue
from tests.test_ui_render import message

BOUND_MS = 500  # CPU ms of one step: "bounded", not a speed measurement
LIVENESS_MS = 5000  # wall clock between two turns of the event loop, on a loaded machine


def _table(rows: int, cols: int = 4) -> str:
    head = "|" + "|".join(f"head{c}" for c in range(cols)) + "|\n|" + "---|" * cols + "\n"
    return head + "".join("|" + "|".join(f"r{r}c{c}" for c in range(cols)) + "|\n" for r in range(rows))


def _nested_list(depth: int) -> str:
    return "".join("  " * level + f"- level {level}\n" for level in range(depth))


def _nested_quotes(depth: int) -> str:
    return "".join(">" * level + f" quote {level}\n" for level in range(1, depth))


def _mixed_nesting(depth: int) -> str:
    return "".join("> " * level + "- " * (level % 3) + f"deep {level}\n" for level in range(depth))


CASES = {
    "table-1mb": _table(27_000) + "\nEND-OF-REPLY",
    "tables-3000": "\n\n".join(_table(2, 3) for _ in range(3000)) + "\n\nEND-OF-REPLY",
    "line-40k": "x" * 40_000 + " END-OF-REPLY",
    "list-depth-400": _nested_list(400) + "\nEND-OF-REPLY",
    "quote-depth-600": _nested_quotes(600) + "\nEND-OF-REPLY",
    "mixed-depth-300": _mixed_nesting(300) + "\nEND-OF-REPLY",
    "prose-1mb": ("Some *emphasis*, `code` and [a link](https://example.com). " * 12 + "\n\n") * 1400
                 + "END-OF-REPLY",
    "code-300kb": "```python\n" + ("'\\" * 60 + " /* x = \"" + "\n") * 2400 + "```\nEND-OF-REPLY",
    "brackets-emphasis": "[" * 30_000 + "*_" * 30_000 + "`" * 10_000 + "\n\nEND-OF-REPLY",
}


def _render_bounded(qtbot: QtBot, view: ChatView, render: object) -> tuple[float, float]:
    """Run `render()`, then let the view finish; (CPU ms of the GUI thread in the call, the
    worst CPU ms of one later rendering step). CPU time of this thread, so that other
    processes on a loaded machine do not count; a 5 ms probe timer also checks that the
    event loop keeps turning (its worst wall-clock gap under LIVENESS_MS)."""
    steps: list[float] = []
    run_one = RenderQueue._run_one

    def timed(queue: RenderQueue, cost: float, step: Any) -> None:
        start = time.thread_time()
        run_one(queue, cost, step)
        steps.append((time.thread_time() - start) * 1000)

    clock = QElapsedTimer()
    gaps: list[int] = []
    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(lambda: gaps.append(clock.restart()))
    start = time.thread_time()
    render()  # type: ignore[operator]
    call_ms = (time.thread_time() - start) * 1000
    clock.start()
    probe.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(RenderQueue, "_run_one", timed)
            qtbot.waitUntil(lambda: view.pending == 0, timeout=120_000)
        view.grab()
    finally:
        probe.stop()
    worst = max(steps, default=0.0)
    print(f"call {call_ms:.0f} ms, worst step {worst:.0f} ms, worst gap {max(gaps, default=0)} ms")
    assert max(gaps, default=0) < LIVENESS_MS, f"the event loop stopped for {max(gaps)} ms"
    return call_ms, worst


@pytest.fixture()
def view(qtbot: QtBot) -> ChatView:
    chat = ChatView()
    qtbot.addWidget(chat)
    chat.resize(800, 600)
    chat.show()
    qtbot.waitExposed(chat)
    return chat


@pytest.mark.parametrize("name", list(CASES))
def test_a_pathological_reply_renders_in_bounded_steps(qtbot: QtBot, view: ChatView, name: str) -> None:
    text = CASES[name]
    call_ms, worst = _render_bounded(
        qtbot, view, lambda: view.show_messages([message(1, "Question", Role.USER), message(2, text)]))
    assert call_ms < BOUND_MS, f"{name}: the rendering call held the GUI thread {call_ms:.0f} ms"
    assert worst < BOUND_MS, f"{name}: a later step held the GUI thread {worst} ms"
    assert "END-OF-REPLY" in view.toPlainText(), f"{name}: the end of the reply is not shown"


def test_a_reply_too_long_to_show_is_shortened_and_copied_whole(qtbot: QtBot, view: ChatView) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtWidgets import QApplication

    text = ("A line of a very long reply.\n" * 110_000)[:3_000_000]
    call_ms, worst = _render_bounded(qtbot, view, lambda: view.show_messages([message(1, text)]))
    assert call_ms < BOUND_MS and worst < BOUND_MS, (call_ms, worst)
    shown = view.toPlainText()
    assert "Only the first 1,000,000 characters are shown" in shown
    assert len(shown) < 1_100_000
    view.anchorClicked.emit(QUrl(view.app_link("copy", 1)))
    assert QApplication.clipboard().text() == text


def test_an_unbroken_line_streams_in_bounded_batches(qtbot: QtBot, view: ChatView) -> None:
    """Each batch lays out only a short last block, however long the line grows."""
    view.show_messages([message(1, "Question", Role.USER)])
    view.begin_stream(2)
    worst = 0.0
    for _ in range(400):  # 40,000 characters in 100-character batches
        start = time.thread_time()
        view.append_stream("y" * 100)
        view.viewport().repaint()
        worst = max(worst, (time.thread_time() - start) * 1000)
    assert worst < BOUND_MS, f"a batch took {worst:.0f} ms"
    assert max(len(line) for line in view.toPlainText().split("\n")) <= budget.PLAIN_LINE
    call_ms, later = _render_bounded(qtbot, view, lambda: view.end_stream(message(2, "y" * 40_000)))
    assert call_ms < BOUND_MS and later < BOUND_MS, (call_ms, later)
    assert sum(len(line) for line in view.toPlainText().split("\n") if set(line) == {"y"}) == 40_000


def test_reopening_during_a_long_streaming_reply_is_bounded(qtbot: QtBot, view: ChatView) -> None:
    """The text streamed so far (here 1 MB, one unbroken line) is shown in bounded steps."""
    so_far = "z" * 1_000_000
    call_ms, worst = _render_bounded(qtbot, view, lambda: view.show_messages(
        [message(1, "Question", Role.USER), message(2, "")], live_id=2, live_text=so_far))
    assert call_ms < BOUND_MS and worst < BOUND_MS, (call_ms, worst)
    assert view.streaming
    assert sum(line.count("z") for line in view.toPlainText().split("\n")) == 1_000_000
    view.append_stream("END")
    assert view.toPlainText().endswith("END")


def test_many_replies_at_once_render_in_bounded_steps(qtbot: QtBot, view: ChatView) -> None:
    """Opening a long conversation: the whole of it is cut into steps too."""
    reply = "## Heading\n\n" + _table(30) + "\n\n```python\nprint('x')\n```\n\nSome *text*.\n"
    messages = [message(i, reply) if i % 2 else message(i, "Question", Role.USER)
                for i in range(1, 401)]
    call_ms, worst = _render_bounded(qtbot, view, lambda: view.show_messages(messages))
    assert call_ms < BOUND_MS and worst < BOUND_MS, (call_ms, worst)
    assert len(view.code_blocks()) == 200


@pytest.mark.parametrize("code", ["'\\" * 20_000, '"\\' * 20_000, "'\\" * 20_000 + "x", "'a\\\n" * 10_000,
                                  "/*" * 20_000, "/* " + "*" * 40_000,
                                  "\"" + "a" * 40_000, "#" * 40_000, "1." * 20_000])
def test_the_highlighter_is_linear(code: str) -> None:
    start = time.thread_time()
    spans = highlight_spans(code)
    assert (time.thread_time() - start) * 1000 < BOUND_MS
    assert all(a < b for a, b, _ in spans)


@pytest.mark.parametrize("text", [" " * 200_000 + "- x", ("  " * 400 + "- level\n") * 300,
                                  "|" * 200_000, "| -" * 70_000 + "x", "-" * 200_000 + "x",
                                  ("x" * 79 + " ") * 3000, ">" * 200_000, "1." * 100_000])
def test_planning_is_linear(text: str) -> None:
    start = time.thread_time()
    for piece in budget.plan_prose(text):
        budget.plain_chunks(piece.text)
        budget.count_tables(piece.text)
    assert (time.thread_time() - start) * 1000 < BOUND_MS


def test_every_planned_step_fits_the_budget() -> None:
    for name, text in CASES.items():
        for piece in budget.plan_prose(text):
            if piece.rich:
                assert piece.cost_ms <= budget.STEP_MS, name
            else:
                chunks = budget.plain_chunks(piece.text)
                assert all(budget.plain_cost_ms(c) <= budget.STEP_MS + 1 for c in chunks), name
                assert "\n".join(chunks).replace("\n", "") == piece.text.replace("\n", ""), name
    assert not budget.plan_prose(CASES["table-1mb"])[0].rich
    assert budget.plan_prose("| a |\n| - |\n| b |\n")[0].rich  # a small table is still a table
