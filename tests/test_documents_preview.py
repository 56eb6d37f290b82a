"""The document preview never freezes: a 10 MB single line and a 400 KB hex dump show at once
(a bounded prefix, long lines broken for display), more on demand, find reaches the rest."""

from __future__ import annotations

import random
import time

from pytestqt.qtbot import QtBot

from app.ui.documents.document_preview import PREVIEW_CHARS, PREVIEW_LINE, DocumentPreview


def _preview(qtbot: QtBot) -> DocumentPreview:
    preview = DocumentPreview()
    qtbot.addWidget(preview)
    preview.resize(600, 400)
    preview.show()
    return preview


def _hex_dump(size: int) -> str:
    rng = random.Random(3)
    data = bytes(rng.randrange(256) for _ in range(size // 4))
    lines = []
    for offset in range(0, len(data), 16):
        row = data[offset:offset + 16]
        lines.append(f"{offset:08x}  {row.hex(' ')}  |{''.join(chr(b) if 32 <= b < 127 else '.' for b in row)}|")
    return "\n".join(lines)


def test_a_ten_megabyte_line_shows_at_once(qtbot: QtBot) -> None:
    preview = _preview(qtbot)
    text = "x" * (10 * 1024 * 1024 - 6) + "NEEDLE"
    start = time.process_time()
    preview.show_text(text)
    qtbot.wait(1)  # one pass of the event loop: the layout of what is shown
    seconds = time.process_time() - start
    shown = preview.toPlainText()
    assert seconds < 5.0, f"showing took {seconds:.1f} s (bounded)"
    assert preview.shown_chars() == PREVIEW_CHARS and preview.remaining_chars() == len(text) - PREVIEW_CHARS
    assert max(len(line) for line in shown.split("\n")) <= PREVIEW_LINE
    assert shown.replace("\n", "") == text[:PREVIEW_CHARS]  # the breaks are for display only
    assert preview.source_text() is text


def test_show_more_appends_the_next_part_and_keeps_the_selection(qtbot: QtBot) -> None:
    preview = _preview(qtbot)
    text = _hex_dump(400 * 1024)
    preview.show_text(text)
    assert preview.toPlainText() == text[:PREVIEW_CHARS]  # short lines are shown as they are
    preview.find(text[10:30])
    selected = preview.textCursor().selectedText()
    while preview.show_more():
        pass
    assert preview.toPlainText() == text and preview.remaining_chars() == 0
    assert preview.textCursor().selectedText() == selected


def test_find_reaches_text_that_is_not_shown_yet(qtbot: QtBot) -> None:
    preview = _preview(qtbot)
    text = "filler line of the document\n" * 40_000 + "the hidden NEEDLE is here\n"
    preview.show_text(text)
    assert preview.remaining_chars() > 0
    assert preview.find_text("NEEDLE")
    assert preview.textCursor().selectedText() == "NEEDLE"
    assert not preview.find_text("absent from the text")


def test_a_long_line_broken_across_show_more_keeps_its_characters(qtbot: QtBot) -> None:
    preview = _preview(qtbot)
    text = ("y" * 150_001 + "\n") * 3
    preview.show_text(text)
    while preview.show_more():
        pass
    shown = preview.toPlainText()
    assert shown.replace("\n", "") == text.replace("\n", "")
    assert max(len(line) for line in shown.split("\n")) <= PREVIEW_LINE
