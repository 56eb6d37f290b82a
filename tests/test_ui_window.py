"""The window without a model: welcome page, list, search, rename, trash, input, settings,
language, crash hook, --db (real SQLite store in tmp_path, real widgets offscreen)."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.paths import log_dir
from app.storage import ConversationStore, MessageState, Role
from app.ui.startup.application import open_store, parse_args
from app.ui.startup.crash import CrashHandler
from app.ui.window.main_window import MainWindow
from app.ui.window.settings_dialog import SettingsDialog
from app.ui.workers.inference_worker import InferenceClient
from tests.ui_helpers import make_window


@pytest.fixture()
def window(qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> MainWindow:
    return make_window(qtbot, store, client)


def _chat(store: ConversationStore, question: str, answer: str) -> int:
    cid = store.conversations.create().id
    store.messages.add(cid, Role.USER, question)
    store.messages.add(cid, Role.ASSISTANT, answer)
    return cid


def test_welcome_page_without_a_model(window: MainWindow) -> None:
    assert window.stack.currentWidget() is window.welcome
    assert window.welcome.open_button.isVisible() and window.welcome.download_button.isVisible()
    assert window.status.model.text() == "No model loaded"


def test_download_button_opens_the_model_manager_hook(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.openModelManager, timeout=1000):
        window.welcome.download_button.click()


def test_search_highlights_and_opens_the_hit(qtbot: QtBot, store: ConversationStore,
                                             client: InferenceClient) -> None:
    _chat(store, "How do penguins sleep?", "Standing up, mostly.")
    wanted = _chat(store, "Tell me about the aurora borealis", "It is light from charged particles.")
    window = make_window(qtbot, store, client)
    window.actions_["search"].trigger()
    qtbot.keyClicks(window.conversations.search_box, "borealis")
    # The title matches (first), then the message with the word highlighted.
    qtbot.waitUntil(lambda: window.conversations.results.count() == 2, timeout=3000)
    title, label = window.conversations.hit_labels()
    assert "aurora borealis" in title and "title matches" in title
    assert re.search(r"<b[^>]*>borealis</b>", label)
    assert not window.conversations.list.isVisible()
    item = window.conversations.results.item(1)
    window.conversations.results.itemClicked.emit(item)
    assert window.controller.conversation_id == wanted
    assert "aurora borealis" in window.view.toPlainText()
    window.conversations.search_box.clear()
    qtbot.waitUntil(lambda: window.conversations.list.isVisible(), timeout=3000)


def test_new_rename_in_place_delete_and_undo(qtbot: QtBot, window: MainWindow,
                                             store: ConversationStore) -> None:
    window.actions_["new"].trigger()
    cid = window.controller.conversation_id
    assert cid and window.conversations.current_id() == cid
    window.actions_["rename"].trigger()
    editors = window.conversations.list.findChildren(QLineEdit)
    assert len(editors) == 1 and editors[0].text() == "New chat"
    editor = editors[0]
    editor.selectAll()
    qtbot.keyClicks(editor, "Trip plans")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next event loop turn
    qtbot.waitUntil(lambda: store.conversations.get(cid).title == "Trip plans", timeout=3000)
    window.actions_["delete"].trigger()
    assert len(window.conversations.conversation_ids()) == 0
    assert store.conversations.get(cid).in_trash
    assert "Trip plans" in window.conversations.undo_label.text()
    window.conversations.undo_button.click()
    assert not store.conversations.get(cid).in_trash
    assert len(window.conversations.conversation_ids()) == 1
    assert window.controller.conversation_id == cid


def test_a_1mb_paste_keeps_the_input_working(qtbot: QtBot, window: MainWindow,
                                             store: ConversationStore) -> None:
    window.actions_["new"].trigger()
    box = window.composer.input
    big = "0123456789abcdef" * 65536  # 1 MiB on one line: the worst case for text layout
    QApplication.clipboard().setText(big)
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.composer.pasted == big and "1,048,576" in window.composer.paste_label.text()
    qtbot.keyClicks(box, "Summarise")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert box.toPlainText() == "Summarise\n"
    assert window.composer.message_text() == "Summarise\n\n\n" + big
    # Enter without a model: nothing is stored, the text stays, the user is told why.
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert window.composer.pasted == big
    assert store.messages.list_for(window.controller.conversation_id) == []
    assert "No model" in window.statusBar().currentMessage()
    # A 1 MB paste of ordinary lines goes into the box and typing goes on.
    window.composer.set_pasted("")
    lines = ("0123456789abcdef" * 5 + "\n") * 13107
    box.setPlainText(lines)
    box.moveCursor(box.textCursor().MoveOperation.End)
    qtbot.keyClick(box, Qt.Key.Key_A)
    assert box.toPlainText() == lines + "a"


def test_a_huge_question_is_shown_shortened_and_copied_whole(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> None:
    big = "x" * 1_048_576
    cid = _chat(store, big, "ok")
    window = make_window(qtbot, store, client)
    window.controller.open(cid)
    assert "more characters" in window.view.toPlainText()
    assert len(window.view.toPlainText()) < 10_000
    from PySide6.QtCore import QUrl

    first = store.messages.list_for(cid)[0]
    window.view.anchorClicked.emit(QUrl(window.view.app_link("copy", first.id)))
    assert QApplication.clipboard().text() == big


def test_settings_survive_a_restart(qtbot: QtBot, window: MainWindow, client: InferenceClient,
                                    tmp_path: Path) -> None:
    chosen = replace(window.settings, theme="dark", backend="llamacpp", threads=3, gpu_layers=0,
                     kv_type="q8_0", n_ctx=16384, model_path="/models/chat.gguf",
                     sampling={**window.settings.sampling, "temperature": 0.3},
                     hub_endpoint="https://mirror.example", hub_proxy="http://proxy:8080")
    window.apply_settings(chosen)
    assert QApplication.palette().base().color().lightness() < 128
    window.close()
    window.store.close()
    store = ConversationStore(tmp_path / "chat.sqlite3")
    try:
        again = make_window(qtbot, store, client)
        loaded = again.settings
        assert (loaded.theme, loaded.backend, loaded.threads, loaded.gpu_layers, loaded.kv_type,
                loaded.n_ctx, loaded.model_path) == ("dark", "llamacpp", 3, 0, "q8_0", 16384,
                                                     "/models/chat.gguf")
        assert loaded.default_sampling().temperature == pytest.approx(0.3)
        # The model manager reads the hub settings under its own keys.
        from app.hub.manager import HubSettings

        hub = HubSettings.from_settings(store.settings.get)
        assert (hub.endpoint, hub.proxy) == ("https://mirror.example", "http://proxy:8080")
        dialog = SettingsDialog(loaded, again)
        qtbot.addWidget(dialog)
        assert dialog.theme.currentData() == "dark" and dialog.kv_type.currentData() == "q8_0"
        assert dialog.hub_endpoint.text() == "https://mirror.example"
        assert dialog.result_settings() == loaded
        again.apply_settings(replace(loaded, theme="light"))
        assert QApplication.palette().base().color().lightness() > 128
    finally:
        store.close()


_ALLOWED_LATIN = {"", "English", "llama.cpp", "PyTorch", "OK", "GGUF", "InternLM2"}


def _visible_texts(root: QWidget) -> list[str]:
    texts = [a.text() for a in root.findChildren(QAbstractButton) if a.isVisible()]
    texts += [label.text() for label in root.findChildren(QLabel) if label.isVisible()]
    texts += [e.placeholderText() for e in root.findChildren(QLineEdit) if e.isVisible()]
    return texts


def _untranslated(texts: list[str]) -> list[str]:
    cjk = re.compile("[\u4e00-\u9fff]")
    return [t for t in texts if t.strip() not in _ALLOWED_LATIN and not cjk.search(t)
            and re.search("[A-Za-z]{3,}", t)]


def test_switching_to_chinese_translates_the_window(qtbot: QtBot, window: MainWindow) -> None:
    english = window.conversations.new_button.text()
    try:
        window.apply_settings(replace(window.settings, language="zh_CN"))
        assert window.conversations.new_button.text() != english
        menus = [a.text() for a in window.menuBar().actions()]
        assert all(re.search("[\u4e00-\u9fff]", m) for m in menus)
        assert _untranslated(_visible_texts(window)) == []
        from app.engine.types import ModelInfo

        window.status.set_model(ModelInfo(
            model="m", backend="llamacpp", device="CPU, 2 threads", compute="cpu", n_ctx=2048,
            device_reason="this llama.cpp build has no GPU support", kv_type="f16", is_chat=True, path="",
            vocab="", vocab_size=0, tokenizer=None))  # type: ignore[arg-type]
        assert window.status.device.text() == "llama.cpp，运行于 CPU，2 个线程"
        assert _untranslated([window.status.device.toolTip()]) == []
        window.status.set_model(None)
        items = [a.text() for m in window.menuBar().actions() for a in m.menu().actions()
                 if not a.isSeparator()]
        assert "导出对话…" in items and _untranslated(items) == []
        dialog = SettingsDialog(window.settings, window)
        qtbot.addWidget(dialog)
        dialog.show()
        assert _untranslated(_visible_texts(dialog)) == []
        assert window.store.settings.get("ui.language") == "zh_CN"
        # The model manager: buttons, labels, the list's header and the models' states.
        window.show_model_manager()
        manager = window._manager_dialog
        qtbot.addWidget(manager)
        assert manager.isVisible() and re.search("[\u4e00-\u9fff]", manager.windowTitle())
        qtbot.waitUntil(lambda: "推荐" in manager.advice.text(), timeout=30000)  # hardware probed
        assert _untranslated(_visible_texts(manager)) == []
        header = manager.tree.headerItem()
        assert _untranslated([header.text(i) for i in range(header.columnCount())]) == []
        assert manager.state_of("internlm2-chat-1_8b") == "未下载"
        manager.close()
    finally:
        window.apply_settings(replace(window.settings, language="en"))
    assert window.conversations.new_button.text() == english


def test_crash_hook_logs_shows_a_readable_dialog_and_the_app_goes_on(
        qtbot: QtBot, window: MainWindow, store: ConversationStore) -> None:
    handler = CrashHandler(window)
    handler.install()
    try:
        try:
            raise ZeroDivisionError("division by zero in a slot")
        except ZeroDivisionError:
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    finally:
        handler.uninstall()
    logs = list(log_dir().glob("crash-*.log"))
    assert len(logs) == 1 and "ZeroDivisionError" in logs[0].read_text(encoding="utf-8")
    dialog = handler.last_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and "Traceback" not in dialog.text()
    assert "ZeroDivisionError" in dialog.text() and str(logs[0]) in dialog.informativeText()
    dialog.close()
    window.actions_["new"].trigger()  # still usable
    assert store.conversations.get(window.controller.conversation_id)


def test_thread_exceptions_reach_the_hook(qtbot: QtBot, window: MainWindow) -> None:
    import threading

    handler = CrashHandler(window)
    handler.install()
    try:
        thread = threading.Thread(target=lambda: 1 / 0, name="helper")
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: handler.last_dialog is not None, timeout=3000)
    finally:
        handler.uninstall()
    assert handler.last_log is not None and "helper" in handler.last_log.read_text(encoding="utf-8")
    assert handler.last_dialog is not None
    qtbot.addWidget(handler.last_dialog)


def test_db_flag_and_a_damaged_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.sqlite3"
    assert parse_args(["--db", str(path)]).db == path
    path.write_bytes(b"this is not a database" * 100)
    store, note = open_store(path)
    try:
        assert note and "kept" in note
        assert store.path == path and store.conversations.list_recent() == []
        assert [p for p in tmp_path.iterdir() if p.name != path.name and "elsewhere" in p.name]
    finally:
        store.close()


def test_reopened_interrupted_reply_is_marked(qtbot: QtBot, store: ConversationStore,
                                              client: InferenceClient) -> None:
    cid = store.conversations.create().id
    store.messages.add(cid, Role.USER, "Question")
    reply = store.messages.begin_reply(cid)
    store.messages.checkpoint(reply, "Half an ans")
    store.messages.interrupt(reply)
    window = make_window(qtbot, store, client)
    window.conversations.list.setCurrentItem(window.conversations.item_for(cid))
    text = window.view.toPlainText()
    assert "Half an ans" in text and "Stopped" in text
    assert store.messages.get(reply).state is MessageState.INTERRUPTED


def test_shortcuts_help(qtbot: QtBot, window: MainWindow) -> None:
    window.actions_["shortcuts"].trigger()
    dialog = window.shortcuts_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    for keys in ("Ctrl+N", "Ctrl+F", "Esc", "Ctrl+Enter", "Shift+Enter"):
        assert keys in texts


def test_code_blocks_render_with_a_copy_link(qtbot: QtBot, store: ConversationStore,
                                             client: InferenceClient) -> None:
    cid = _chat(store, "Code please", "# Title\n\n- one\n- two\n\n```python\nprint('hi')\n```\n")
    window = make_window(qtbot, store, client)
    window.controller.open(cid)
    assert window.view.code_blocks() == ["print('hi')"]
    assert "Copy code" in window.view.toPlainText()
    from PySide6.QtCore import QUrl

    window.view.anchorClicked.emit(QUrl(window.view.app_link("copy-code", 0)))
    assert QApplication.clipboard().text() == "print('hi')"
    html = window.view.toHtml()
    assert "monospace" in html.lower() or "mono" in html.lower()


def test_download_button_opens_the_model_manager(qtbot: QtBot, store: ConversationStore,
                                                 client: InferenceClient,
                                                 stop_model: tuple[Path, Path, int]) -> None:
    from app.ui.models.model_manager import ModelManagerDialog

    window = make_window(qtbot, store, client)
    window.welcome.download_button.click()
    dialog = window._manager_dialog
    assert isinstance(dialog, ModelManagerDialog) and dialog.isVisible()
    with qtbot.waitSignal(client.loaded, timeout=30000) as blocker:
        dialog.modelChosen.emit(str(stop_model[1]))  # a model chosen there loads in the window
    assert blocker.args[0].backend == "llamacpp"
    window.close()
    assert not dialog.jobs._thread.isRunning()


def test_search_matches_titles_and_says_when_nothing_matches(
        qtbot: QtBot, store: ConversationStore, client: InferenceClient) -> None:
    cid = _chat(store, "How do penguins sleep?", "Standing up, mostly.")
    store.conversations.rename(cid, "Antarctic 100%_notes")  # LIKE wildcards are plain text
    window = make_window(qtbot, store, client)
    window.conversations.search_box.setText("antarctic 100%_")
    qtbot.waitUntil(lambda: window.conversations.results.count() == 1, timeout=3000)  # after the debounce
    assert not window.conversations.no_hits.isVisibleTo(window)
    window.conversations.results.itemClicked.emit(window.conversations.results.item(0))
    assert window.controller.conversation_id == cid
    for query in ("100%x", "zebra"):  # '%' must not act as a wildcard
        window.conversations.search_box.setText(query)
        qtbot.waitUntil(lambda q=query: f"“{q}”" in window.conversations.no_hits.text(), timeout=3000)
        assert window.conversations.no_hits.isVisibleTo(window) and window.conversations.results.count() == 0


def test_the_list_groups_conversations_by_date(qtbot: QtBot, store: ConversationStore,
                                               client: InferenceClient) -> None:
    from datetime import datetime, timedelta, timezone

    from app.ui.chat.conversation_list import date_group

    now = datetime.now().astimezone()
    ages = {"today": 0, "yesterday": 1, "week": 3, "old": 40}
    ids = {}
    for name, days in ages.items():
        ids[name] = _chat(store, f"Question {name}", "Answer")
        stamp = (now - timedelta(days=days)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with store.db.transaction() as conn:
            conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (stamp, ids[name]))
    window = make_window(qtbot, store, client)
    headings = window.conversations.headings()
    assert headings[:3] == ["Today", "Yesterday", "Previous 7 days"] and len(headings) == 4
    assert date_group(now - timedelta(days=40), now.date()) == (now - timedelta(days=40)).strftime("%Y-%m")
    assert window.conversations.conversation_ids() == [ids["today"], ids["yesterday"], ids["week"], ids["old"]]
    # Headings are not conversations: they cannot be selected or opened.
    window.conversations.list.setCurrentRow(0)
    assert window.conversations.current_id() == 0
