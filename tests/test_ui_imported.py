"""An imported conversation is marked: a muted "imported" tag in its row of the list (real
widgets offscreen, the painted pixels compared with a row made here) and, once, in the window
title while it is open."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from app import APP_NAME
from app.storage import ConversationStore, Role
from app.ui.chat.conversation_list import ConversationList
from app.ui.window.theme import dark_palette
from app.ui.workers.inference_worker import InferenceClient
from tests.ui_helpers import make_window, quick_settings

_TITLE = "Same title"


def _made_here(store: ConversationStore) -> int:
    chat = store.conversations.create(_TITLE)
    store.messages.add(chat.id, Role.USER, "A question")
    return chat.id


def _imported(store: ConversationStore, source: int) -> int:
    return store.import_json(store.export_json(source))


def _row_image(listing: ConversationList, conversation_id: int) -> QImage:
    item = listing.item_for(conversation_id)
    assert item is not None, f"conversation {conversation_id} is not listed"
    rect = listing.list.visualItemRect(item)
    return listing.list.viewport().grab(rect).toImage()


def test_the_list_tags_only_the_imported_conversation(qtbot: QtBot, store: ConversationStore) -> None:
    here = _made_here(store)
    copy = _imported(store, here)
    listing = ConversationList(store)
    qtbot.addWidget(listing)
    listing.resize(320, 400)
    listing.show()
    qtbot.waitExposed(listing)
    listing.refresh()
    assert set(listing.conversation_ids()) == {here, copy}
    assert listing.imported_ids() == [copy]
    copy_item, here_item = listing.item_for(copy), listing.item_for(here)
    assert copy_item is not None and here_item is not None
    assert copy_item.text() == here_item.text() == _TITLE  # the title stays the row's text
    assert "Imported from a file on" in copy_item.toolTip() and "Imported" not in here_item.toolTip()
    # The same title, painted: only the imported row has something more at its right end.
    tagged, plain = _row_image(listing, copy), _row_image(listing, here)
    assert tagged.size() == plain.size()
    width, height = tagged.width(), tagged.height()
    right = [(x, y) for x in range(width * 3 // 4, width) for y in range(height)]
    assert any(tagged.pixel(x, y) != plain.pixel(x, y) for x, y in right), "no tag painted"
    left = [(x, y) for x in range(width // 3) for y in range(height)]
    assert all(tagged.pixel(x, y) == plain.pixel(x, y) for x, y in left), "the title moved"


def test_a_long_title_leaves_room_for_the_tag(qtbot: QtBot, store: ConversationStore) -> None:
    chat = store.conversations.create("长标题 " * 40)
    copy = _imported(store, chat.id)
    listing = ConversationList(store)
    qtbot.addWidget(listing)
    listing.resize(220, 300)
    listing.show()
    qtbot.waitExposed(listing)
    listing.refresh()
    assert listing.imported_ids() == [copy]
    assert not _row_image(listing, copy).isNull()  # painted (elided) without error


def test_the_window_title_says_imported_while_it_is_open(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    here = _made_here(store)
    archive = tmp_path / "chat.json"
    archive.write_text(store.export_json(here), encoding="utf-8")
    window = make_window(qtbot, store, client, quick_settings())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_args: (str(archive), "")))
    window.actions_["import"].trigger()
    qtbot.waitUntil(lambda: window.controller.conversation_id not in (0, here), timeout=10000)
    copy = window.controller.conversation_id
    assert store.conversations.get(copy).imported is not None
    qtbot.waitUntil(lambda: "Imported conversation" in window.windowTitle(), timeout=10000)
    assert window.windowTitle().count("Imported conversation") == 1
    assert window.conversations.imported_ids() == [copy]
    window.open_conversation(here)
    qtbot.waitUntil(lambda: window.windowTitle() == APP_NAME, timeout=10000)


def test_in_the_dark_theme_the_tag_is_painted_in_the_muted_colour(
        qtbot: QtBot, store: ConversationStore) -> None:
    copy = _imported(store, _made_here(store))
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    app.setPalette(dark_palette())  # as apply_theme does: the whole application goes dark
    try:
        listing = ConversationList(store)
        qtbot.addWidget(listing)
        listing.resize(320, 400)
        listing.show()
        qtbot.waitExposed(listing)
        listing.refresh()
        listing.list.clearSelection()
        image = _row_image(listing, copy)
    finally:
        app.setPalette(light)
    muted = dark_palette().color(QPalette.ColorRole.PlaceholderText)
    right = [QColor(image.pixel(x, y)) for x in range(image.width() * 3 // 4, image.width())
             for y in range(image.height())]
    darkest = min(right, key=lambda colour: colour.lightness())
    brightest = max(right, key=lambda colour: colour.lightness())
    # The row's background is dark; antialiased text reaches the muted grey, never white.
    assert darkest.lightness() < 80, "the row is not dark"
    assert brightest.lightness() > darkest.lightness() + 60, "the tag is not readable on dark"
    assert abs(brightest.lightness() - muted.lightness()) < 40, "the tag is not in the muted colour"
