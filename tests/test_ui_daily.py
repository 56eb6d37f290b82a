"""The window as a daily user meets it: focus and Tab order, the columns and View menu, the
language that follows the system (real widgets offscreen, a real store in tmp_path)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QTextEdit, QWidget
from pytestqt.qtbot import QtBot

from app.settings import AppSettings
from app.storage import ConversationStore, Role
from app.ui.window.i18n import resolve_language, system_language
from app.ui.window.main_window import MainWindow
from app.ui.window.window_panels import CHAT_MIN_WIDTH
from app.ui.workers.inference_worker import InferenceClient
from tests.ui_helpers import make_window


def _conversation(store: ConversationStore) -> int:
    cid = store.conversations.create(system_prompt="Be brief.").id
    store.messages.add(cid, Role.USER, "Hello")
    reply = store.messages.begin_reply(cid)
    store.messages.finish(reply, "Hi.")
    return cid


def _focused_window(qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> MainWindow:
    window = make_window(qtbot, store, client)
    window.open_conversation(_conversation(store))
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    window.composer.input.setFocus()
    qtbot.waitUntil(lambda: window.composer.input.hasFocus(), timeout=5000)
    return window


def test_tab_walks_every_widget_and_never_types_into_a_text_field(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> None:
    window = _focused_window(qtbot, store, client)
    system_before = window.side.system.toPlainText()
    seen: list[QWidget] = []
    for _ in range(80):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        widget = QApplication.focusWidget()
        assert widget is not None, "Tab left no widget with the focus"
        if widget is window.composer.input:
            break
        seen.append(widget)
    else:
        raise AssertionError(f"Tab never came back to the composer; it went through {seen[:12]}…")
    assert window.composer.send_button in seen
    assert window.side.system in seen  # reached, and left again by the next Tab
    for widget in seen:
        if isinstance(widget, (QPlainTextEdit, QTextEdit)):
            assert widget.tabChangesFocus(), f"Tab is typed into {widget.objectName() or widget}"
    assert window.side.system.toPlainText() == system_before


def test_focus_comes_back_to_the_box_when_a_button_it_was_on_goes(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> None:
    window = _focused_window(qtbot, store, client)
    composer = window.composer
    composer.send_button.setFocus()
    qtbot.waitUntil(composer.send_button.hasFocus, timeout=3000)
    composer.set_busy(True)  # Send is replaced by Stop: the focus must not fall to the system prompt
    assert composer.input.hasFocus()
    composer.stop_button.setFocus()
    qtbot.waitUntil(composer.stop_button.hasFocus, timeout=3000)
    composer.set_busy(False, can_regenerate=True)
    assert composer.input.hasFocus() and not window.side.system.hasFocus()
    composer.regenerate_button.setFocus()
    qtbot.mouseClick(composer.regenerate_button, Qt.MouseButton.LeftButton)  # no model: nothing runs
    assert composer.input.hasFocus()
    # Focus elsewhere (the search box) stays where the user put it.
    window.conversations.search_box.setFocus()
    qtbot.waitUntil(window.conversations.search_box.hasFocus, timeout=3000)
    composer.set_busy(True)
    assert window.conversations.search_box.hasFocus()


def test_chat_column_is_widest_and_keeps_its_minimum(qtbot: QtBot, store: ConversationStore,
                                                     client: InferenceClient) -> None:
    window = make_window(qtbot, store, client)
    window.open_conversation(_conversation(store))
    splitter = window.panels.splitter
    sizes = splitter.sizes()
    chat = splitter.indexOf(window.stack)
    assert sizes[chat] == max(sizes) and sizes[chat] >= CHAT_MIN_WIDTH
    assert not window.document_pane.isVisible()  # no document: no column for it
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() <= 800, timeout=3000)
    assert window.stack.width() >= CHAT_MIN_WIDTH


def test_view_menu_hides_panels_and_the_choice_is_remembered(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> None:
    window = make_window(qtbot, store, client)
    window.open_conversation(_conversation(store))
    for name, widget in (("list", window.conversations), ("side", window.side)):
        action = window.actions_[f"view_{name}"]
        assert action.isCheckable() and action.isChecked() and not action.shortcut().isEmpty()
        action.trigger()
        assert not widget.isVisible() and not action.isChecked()
    assert AppSettings.load(store).show_list is False and AppSettings.load(store).show_side is False
    window.close()
    again = make_window(qtbot, store, client)
    assert not again.conversations.isVisible() and not again.side.isVisible()
    assert not again.actions_["view_list"].isChecked()
    again.actions_["view_list"].trigger()
    assert again.conversations.isVisible() and AppSettings.load(store).show_list is True


def test_the_document_pane_comes_with_a_document(qtbot: QtBot, store: ConversationStore,
                                                client: InferenceClient) -> None:
    window = make_window(qtbot, store, client)
    cid = _conversation(store)
    plain = _conversation(store)
    window.open_conversation(cid)
    assert not window.document_pane.isVisible() and not window.actions_["view_document"].isChecked()
    with qtbot.waitSignal(window.controller.documents.changed, timeout=20000):
        window.controller.documents.paste("A short note to attach.\n" * 20)
    assert window.document_pane.isVisible() and window.actions_["view_document"].isChecked()
    window.open_conversation(plain)
    assert not window.document_pane.isVisible()
    window.open_conversation(cid)
    assert window.document_pane.isVisible()
    window.actions_["view_document"].trigger()  # the user hides it: it stays hidden
    assert not window.document_pane.isVisible()
    window.open_conversation(plain)
    window.open_conversation(cid)
    assert not window.document_pane.isVisible() and AppSettings.load(store).show_document is False


def test_language_follows_the_system_until_the_user_chooses() -> None:
    assert AppSettings().language == "system"
    assert system_language("zh_CN") == "zh_CN" and system_language("zh_TW") == "zh_CN"
    assert system_language("de_DE") == "en" and system_language("C") == "en"
    assert resolve_language("system", "zh_HK") == "zh_CN"
    assert resolve_language("en", "zh_CN") == "en" and resolve_language("zh_CN", "en_US") == "zh_CN"


def test_new_chat_three_times_leaves_one_empty_chat(qtbot: QtBot, store: ConversationStore,
                                                   client: InferenceClient) -> None:
    used = _conversation(store)
    window = make_window(qtbot, store, client)
    for _ in range(3):
        window.actions_["new"].trigger()
    empty = window.controller.conversation_id
    assert empty and empty != used
    assert sorted(window.conversations.conversation_ids()) == sorted([used, empty])
    window.open_conversation(used)
    window.actions_["new"].trigger()  # from another chat: the unused one comes back to the top
    assert window.controller.conversation_id == empty
    assert window.conversations.conversation_ids()[0] == empty
    assert len(store.conversations.list_recent()) == 2


def test_the_trash_restores_and_deletes_for_good(qtbot: QtBot, store: ConversationStore,
                                                 client: InferenceClient, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    keep, drop = _conversation(store), _conversation(store)
    window = make_window(qtbot, store, client)
    for cid in (keep, drop):
        window.open_conversation(cid)
        window.delete_conversation(cid)
    assert window.conversations.trash_button.isVisibleTo(window)
    window.conversations.trash_button.click()
    dialog = window.trash_dialog
    assert dialog is not None and dialog.isVisible() and dialog.list.count() == 2
    items = {int(dialog.list.item(i).data(Qt.ItemDataRole.UserRole)): dialog.list.item(i)
             for i in range(dialog.list.count())}
    items[keep].setSelected(True)
    dialog.restore_button.click()
    assert window.controller.conversation_id == keep and keep in window.conversations.conversation_ids()
    assert store.messages.list_for(keep)  # every message came back
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    dialog.empty_button.click()  # the user said no: nothing is deleted
    assert [c.id for c in store.conversations.list_trash()] == [drop]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.empty_button.click()
    assert store.conversations.list_trash() == [] and dialog.empty_label.isVisibleTo(dialog)
    dialog.close()


def test_open_dialogs_start_in_the_last_folder_else_downloads_else_home(tmp_path, monkeypatch) -> None:
    from app.paths import start_folder

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # no user-dirs.dirs there
    assert start_folder() == home and start_folder("") == home
    (home / "Downloads").mkdir()
    assert start_folder(tmp_path / "gone" / "model.gguf") == home / "Downloads"
    model = tmp_path / "models" / "m.gguf"
    model.parent.mkdir()
    model.write_bytes(b"GGUF")
    assert start_folder(model) == model.parent and start_folder(model.parent) == model.parent


def test_dark_theme_at_run_time_restyles_the_conversation_list(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> None:
    from dataclasses import replace

    cid = _conversation(store)
    window = make_window(qtbot, store, client, AppSettings(theme="light"))
    window.open_conversation(cid)
    try:
        for theme, dark in (("dark", True), ("light", False)):
            window.apply_settings(replace(window.settings, theme=theme))
            qtbot.waitUntil(lambda: window.view.isVisible(), timeout=5000)  # the rebuilt widgets
            image = window.conversations.list.viewport().grab().toImage()
            corner = image.pixelColor(image.width() - 3, image.height() - 3)  # below the rows
            assert (corner.lightness() < 100) is dark, f"{theme}: list background {corner.name()}"
            view = window.view.viewport().grab().toImage()
            assert (view.pixelColor(view.width() - 3, view.height() - 3).lightness() < 100) is dark
    finally:
        window.apply_settings(replace(window.settings, theme="light"))


def test_the_users_own_markdown_is_rendered_through_the_same_safe_path(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> None:
    cid = store.conversations.create().id
    store.messages.add(cid, Role.USER, "Why does **this** fail?\n\n```python\nprint(1 / 0)\n```\n\n"
                                       "![x](/dev/zero) [edit](edit:1)")
    window = make_window(qtbot, store, client)
    window.open_conversation(cid)
    qtbot.waitUntil(lambda: window.view.pending == 0, timeout=5000)
    text = window.view.toPlainText()
    assert "print(1 / 0)" in text and "```" not in text and "**" not in text
    assert "Copy code" in text  # a code block of its own, with its Copy link
    assert "[image: x]" in text or "image" in text  # an image is never loaded, only named


def test_the_window_says_why_an_answer_takes_longer_after_a_rope_rebase(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> None:
    from app.engine.types import RopeRebase

    window = make_window(qtbot, store, client)
    event = RopeRebase(old_base=1e6, new_base=2.3e6, length=65_536, trained=32_768, dropped_tokens=40_000)
    with qtbot.waitSignal(window.controller.notice, timeout=3000) as said:
        client.ropeRebased.emit(event)  # as the worker relays the engine's event
    assert "32,768" in said.args[0] and "65,536" in said.args[0] and "longer" in said.args[0]
    assert said.args[0] in window.statusBar().currentMessage()


def test_offering_a_context_past_the_trained_length_names_the_long_context_scaling(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> None:
    from app.engine.budget import FreeMemory, ModelFacts, plan_context

    facts = ModelFacts(kv_bytes_per_token_f16=96 * 1024, weights_bytes=1_170_000_000, trained_context=32_768)
    window = make_window(qtbot, store, client)
    past = plan_context(facts, document_tokens=51_200, current_ctx=32_768, memory=FreeMemory("RAM", 2**34),
                        weights_loaded=True, step=4096).choices[0]
    within = plan_context(facts, document_tokens=9_000, current_ctx=8_192, memory=FreeMemory("RAM", 2**34),
                          weights_loaded=True, step=4096).choices[0]
    assert "long-context" in window.document_pane.choice_text(past)
    assert "long-context" not in window.document_pane.choice_text(within)


def test_a_load_that_fails_in_the_libraries_terms_says_the_file_is_damaged(qtbot: QtBot) -> None:
    from pathlib import Path

    from app.engine.loader import LoadSpec

    def numpy_fails(spec: LoadSpec, progress: object = None) -> object:
        raise ValueError("cannot reshape array of size 3 into shape (2,2)")

    client = InferenceClient(factory=numpy_fails)  # type: ignore[arg-type]
    try:
        with qtbot.waitSignal(client.loadFailed, timeout=10000) as failed:
            client.load(LoadSpec(Path("/models/half-copied.gguf")))
        text = failed.args[0]
        assert "half-copied.gguf" in text and "damaged or incomplete" in text and "reshape" not in text
    finally:
        client.shutdown()
