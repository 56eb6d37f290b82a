"""A reply is rendered without loading anything it names, and its links cannot act as the app's.

Every image form Qt's Markdown knows (inline, reference, autolink, raw HTML, in a table, list,
quote or link) is generated for each hostile target: FIFOs in tmp_path (an open for reading
is seen by a watcher thread, and cannot hang the test), a symlink to one, relative names
resolved against the working folder, file: and qrc: URLs, a local HTTP server that counts
requests, devices, and a data: URL with a 4 MB payload. The real ChatView renders them
offscreen and paints; the test then asserts that no FIFO was opened, the server saw nothing,
loadResource was never asked, no image is left in the document and each alt text shows.
"""

from __future__ import annotations

import base64
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.storage import Message, MessageState, Role
from app.ui.chat.chat_view import ChatView


def message(msg_id: int, text: str, role: Role = Role.ASSISTANT) -> Message:
    return Message(id=msg_id, conversation_id=1, position=msg_id, parent_id=None, role=role,
                   text=text, state=MessageState.COMPLETE, stats=None, error="",
                   created=datetime(2026, 1, 1))


_WATCHER = r"""
import os, select, sys
paths = sys.argv[1:]
while not select.select([sys.stdin], [], [], 0.002)[0]:
    for path in paths:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: nobody has it open for reading
            continue
        print(path, flush=True)
        os.close(fd)
"""


class FifoWatch:
    """FIFOs nobody may open. A watcher process (not a thread: a GUI thread blocked in open()
    holds the GIL) opens each for writing without blocking, which only succeeds while a reader
    has it open, and so also releases a reader blocked in open()."""

    def __init__(self, folder: Path, count: int = 3) -> None:
        self.paths = [folder / f"pipe-{i}.png" for i in range(count)]
        for path in self.paths:
            os.mkfifo(path)
        self._process = subprocess.Popen([sys.executable, "-c", _WATCHER, *map(str, self.paths)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def stop(self) -> list[str]:
        """The paths that were opened (one line per open seen)."""
        out, _ = self._process.communicate("", timeout=30)  # closing stdin ends the watcher
        return out.split()


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"hits": hits})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


class SpyView(ChatView):
    """The real view, recording every name its loadResource is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def loadResource(self, kind: int, name: QUrl | str) -> object:  # noqa: N802 - Qt override
        self.asked.append(QUrl(name).toString()[:200])
        return super().loadResource(kind, name)


@pytest.fixture()
def view(qtbot: QtBot) -> SpyView:
    chat = SpyView()
    qtbot.addWidget(chat)
    chat.resize(800, 600)
    chat.show()
    qtbot.waitExposed(chat)
    return chat


def image_forms(target: str, alt: str) -> list[str]:
    """Every way a Markdown reply can ask for an image at `target`."""
    return [
        f"![{alt}]({target})",
        f"![{alt}](<{target}>)",
        f"![{alt}]({target} \"a title\")",
        f"![{alt}][ref-{alt}]\n\n[ref-{alt}]: {target}",
        f"[![{alt}]({target})](https://example.com/)",
        f"| col |\n| --- |\n| ![{alt}]({target}) |",
        f"- item\n  - ![{alt}]({target})",
        f"> quote\n> > ![{alt}]({target})",
        f"<img src=\"{target}\" alt=\"{alt}\">",
        f"<div>\n<img src=\"{target}\">\n</div>",
        f"<p style=\"background-image: url({target})\">{alt}</p>",
        f"<table background=\"{target}\"><tr><td>{alt}</td></tr></table>",
        f"<link rel=\"stylesheet\" href=\"{target}\">",
    ]


def hostile_targets(folder: Path, fifos: list[Path], url: str) -> list[str]:
    link = folder / "link.png"
    link.symlink_to(fifos[1])
    payload = base64.b64encode(os.urandom(12 * 1024)).decode()  # small enough to be formatted
    return [str(fifos[0]), f"file://{fifos[0]}", fifos[2].name, f"./{fifos[2].name}", str(link),
            f"file:{link}", f"qrc:{fifos[0]}", f":{fifos[0]}", f"{url}/image.png",
            f"//127.0.0.1:{url.rsplit(':', 1)[1]}/proto-relative.png", "/dev/zero", "/dev/stdin",
            "/dev/urandom", "file:///dev/zero", f"data:image/png;base64,{payload}"]


def render_and_paint(qtbot: QtBot, view: ChatView, messages: list[Message]) -> None:
    view.show_messages(messages)
    qtbot.waitUntil(lambda: view.pending == 0, timeout=60000)
    for _ in range(3):  # paint the top, the middle and the end (images load when laid out/painted)
        for value in (0, view.verticalScrollBar().maximum() // 2, view.verticalScrollBar().maximum()):
            view.verticalScrollBar().setValue(value)
            view.grab()
    view.document().size()  # the whole layout


def images_left(view: ChatView) -> list[str]:
    names = []
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                names.append(fmt.toImageFormat().name())
            it += 1
        block = block.next()
    return names


def test_no_image_a_reply_names_is_loaded(qtbot: QtBot, view: SpyView, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          server: tuple[str, list[str]]) -> None:
    monkeypatch.chdir(tmp_path)  # relative names would resolve here
    url, hits = server
    fifos = FifoWatch(tmp_path)
    try:
        messages = []
        alts = []
        for number, target in enumerate(hostile_targets(tmp_path, fifos.paths, url)):
            for form_number, form in enumerate(image_forms(target, "ALT")):
                alt = f"alt{number}x{form_number}"
                text = form.replace("ALT", alt)
                if alt in text and "<" not in form[:1]:
                    alts.append(alt)
                messages.append(message(len(messages) + 1, f"See {text} here."))
                messages.append(message(len(messages) + 1, text, Role.USER))
        huge = base64.b64encode(os.urandom(3 * 1024 * 1024)).decode()  # 4 MB of base64
        messages.append(message(len(messages) + 1, f"![huge](data:image/png;base64,{huge})"))
        render_and_paint(qtbot, view, messages)
        # The streaming path, too: the same text arriving in pieces, then rendered.
        view.begin_stream(10_000)
        for text in image_forms(str(fifos.paths[0]), "streamed"):
            view.append_stream(text + "\n\n")
        view.grab()
        view.end_stream(message(10_000, "\n\n".join(image_forms(str(fifos.paths[0]), "streamed"))))
        render_and_paint(qtbot, view, [*messages, message(10_000, "![streamed](/dev/zero)")])
    finally:
        opened = fifos.stop()
    assert opened == [], f"opened {opened}"
    assert hits == [], f"the local server was asked for {hits}"
    assert view.asked == [], f"loadResource was asked for {view.asked[:3]}"
    assert images_left(view) == []
    shown = view.toPlainText()
    assert "[image: alt0x0]" in shown
    missing = [alt for alt in alts if alt not in shown]
    assert missing == []


def test_load_resource_never_reads_and_never_answers_none(view: ChatView, tmp_path: Path) -> None:
    """Qt reads the named file itself when loadResource gives None; the view gives an empty
    resource for every kind and name instead."""
    from PySide6.QtGui import QImage

    real = tmp_path / "real.png"
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(0xFF0000)
    image.save(str(real))
    for kind in QTextDocument.ResourceType:
        for name in (QUrl.fromLocalFile(str(real)), QUrl(str(real)), QUrl("real.png"),
                     QUrl("https://example.com/x.png"), QUrl("data:text/plain,hello")):
            got = view.loadResource(kind.value, name)
            assert got is not None
            if isinstance(got, QImage):
                assert got.width() <= 1 and got.height() <= 1
            else:
                assert got == ""
    assert view.searchPaths() == []


def _click_text(qtbot: QtBot, view: ChatView, text: str, occurrence: int = 0) -> None:
    """A real mouse click on the middle of `text` as shown."""
    cursor = QTextCursor(view.document())
    for _ in range(occurrence + 1):
        cursor = view.document().find(text, cursor, QTextDocument.FindFlag.FindCaseSensitively)
        assert not cursor.isNull(), f"{text!r} is not shown"
    middle = QTextCursor(view.document())
    middle.setPosition((cursor.selectionStart() + cursor.selectionEnd()) // 2)
    view.setTextCursor(middle)
    view.ensureCursorVisible()
    rect = view.cursorRect(middle)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.center().x() + 1,
                                                                           rect.center().y()))


def _anchor_hrefs(view: ChatView) -> dict[str, str]:
    hrefs = {}
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.charFormat().isAnchor():
                hrefs[frag.text()] = frag.charFormat().anchorHref()
            it += 1
        block = block.next()
    return hrefs


SPOOFS = ["edit:1", "copy:1", "copy-code:0", "link:0", "edit:1:1", "copy:0000:1", "EDIT:1",
          " edit:1", "edit%3A1", "javascript:alert(1)", "file:///etc/passwd", "data:text/html,x",
          "qrc:/x", "#msg-1", "msg-1", "mailto:a@b.c"]


# A click on text that is not a link is not taken by the view: QTest says so, as a warning.
@pytest.mark.qt_log_ignore("Mouse event .* not accepted by receiving widget")
def test_links_in_a_reply_cannot_act_as_the_apps(qtbot: QtBot, view: ChatView) -> None:
    texts = {f"spoof{i}": href for i, href in enumerate(SPOOFS)}
    reply = "\n\n".join(f"[spoof{i}]({href}) <{href}>" for i, href in enumerate(SPOOFS))
    view.show_messages([message(1, "Question one", Role.USER), message(2, reply),
                        message(3, "```\ncode\n```\n[copy this](copy-code:0)")])
    edits: list[int] = []
    copies: list[int] = []
    view.editRequested.connect(edits.append)
    view.copied.connect(lambda: copies.append(1))
    QApplication.clipboard().setText("untouched")
    hrefs = _anchor_hrefs(view)
    for text, href in texts.items():
        assert href not in hrefs.values()
        assert text not in hrefs, f"{text} ({href}) is still a link"
        _click_text(qtbot, view, text)
        view.anchorClicked.emit(QUrl(href))  # even sent straight to the view, it does nothing
    assert "copy this" not in hrefs
    _click_text(qtbot, view, "copy this")
    assert edits == [] and copies == []
    assert QApplication.clipboard().text() == "untouched"
    # The app's own links still work, by a real click.
    _click_text(qtbot, view, "Edit")
    assert edits == [1]
    _click_text(qtbot, view, "Copy code")
    assert QApplication.clipboard().text() == "code"


def test_a_web_link_is_copied_not_opened(qtbot: QtBot, view: ChatView) -> None:
    view.show_messages([message(1, "Read [the docs](https://example.com/a?b=1) or "
                                   "https://example.org/auto.")])
    notices: list[str] = []
    view.notice.connect(notices.append)
    _click_text(qtbot, view, "the docs")
    assert QApplication.clipboard().text() == "https://example.com/a?b=1"
    assert notices and "https://example.com/a?b=1" in notices[-1]
    _click_text(qtbot, view, "example.org")
    assert QApplication.clipboard().text().startswith("https://example.org/auto")
    hrefs = _anchor_hrefs(view)
    assert all(not href.startswith("http") for href in hrefs.values())


def test_raw_html_in_a_reply_is_text(view: ChatView) -> None:
    view.show_messages([message(1, "<b>bold?</b> <script>x()</script> <a href='edit:1'>e</a>")])
    shown = view.toPlainText()
    assert "<b>bold?</b>" in shown and "<script>" in shown and "href" in shown
    assert list(_anchor_hrefs(view)) == ["Copy"]  # the header's own link only
