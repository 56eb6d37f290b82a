"""Take the README screenshots: the real app, light and dark, English and Chinese.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshots.py [--model FILE]

Each shot is a fresh `python main.py --db TEMP --model MODEL` start (the real start path:
instance guard, store, translations, theme) on a temporary database that holds a few stored
conversations, one of them an answer with a heading, a list, a table and a code block. The
window is grabbed once the model has loaded and the PNGs go to docs/screenshots/. The default
model is the tiny random test model (built in a temporary folder), so the status bar shows it.
Needs an X server (Xvfb) and the xcb platform's libraries; see docs/architecture.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

# (what, language, theme): the chat, a conversation with a document in its pane, the model manager.
SHOTS = [("chat", "en", "light"), ("chat", "en", "dark"), ("chat", "zh_CN", "light"), ("chat", "zh_CN", "dark"),
         ("document", "en", "light"), ("document", "zh_CN", "dark"), ("models", "en", "light"),
         ("models", "zh_CN", "light")]
_DOCUMENT = {
    "en": ("minutes.md", "# Board minutes, 12 March\n\n" + "The board reviewed the quarterly figures. " * 60
           + "\n\nDecision: the Hangzhou office opens in May.\n", "When does the Hangzhou office open?",
           "In May: the board decided it on 12 March."),
    "zh_CN": ("会议纪要.md", "# 董事会会议纪要（3 月 12 日）\n\n" + "董事会审阅了季度数据。" * 120
              + "\n\n决定：杭州办公室于五月启用。\n", "杭州办公室什么时候启用？", "五月：董事会在 3 月 12 日作出了这个决定。"),
}

_CONTENT = {
    "en": {
        "others": ["Plan a weekend in Hangzhou", "Summarise the quarterly report", "What is RoPE?"],
        "title": "Count the words in a file",
        "question": "How do I count the words in a text file with Python, most frequent first?",
        "answer": (
            "Use `collections.Counter`: it counts anything you can iterate over.\n\n"
            "```python\nfrom collections import Counter\n\n\n"
            "def count_words(path: str, top: int = 10) -> list[tuple[str, int]]:\n"
            "    \"\"\"The most frequent words of a text file.\"\"\"\n"
            "    with open(path, encoding=\"utf-8\") as f:\n"
            "        words = f.read().lower().split()\n"
            "    return Counter(words).most_common(top)  # [(word, count), ...]\n```\n\n"
            "How it works:\n\n"
            "1. `split()` cuts the text at any run of spaces and new lines.\n"
            "2. `Counter` counts each word once it is lower-cased.\n"
            "3. `most_common(top)` sorts by count, highest first.\n\n"
            "| input | output |\n| --- | --- |\n| `the cat the` | `[('the', 2), ('cat', 1)]` |\n"),
        "follow_up": "And without punctuation?",
    },
    "zh_CN": {
        "others": ["规划杭州周末行程", "总结季度报告", "什么是旋转位置编码？"],
        "title": "统计文件中的单词",
        "question": "如何用 Python 统计一个文本文件中的单词，并按出现次数从多到少排列？",
        "answer": (
            "使用 `collections.Counter`：它可以统计任何可迭代对象中的元素。\n\n"
            "```python\nfrom collections import Counter\n\n\n"
            "def count_words(path: str, top: int = 10) -> list[tuple[str, int]]:\n"
            "    \"\"\"返回文本文件中最常见的单词。\"\"\"\n"
            "    with open(path, encoding=\"utf-8\") as f:\n"
            "        words = f.read().lower().split()\n"
            "    return Counter(words).most_common(top)  # [(单词, 次数), ...]\n```\n\n"
            "原理：\n\n"
            "1. `split()` 按空格和换行切分文本。\n"
            "2. `Counter` 统计每个小写化后的单词。\n"
            "3. `most_common(top)` 按次数从高到低排序。\n\n"
            "| 输入 | 输出 |\n| --- | --- |\n| `the cat the` | `[('the', 2), ('cat', 1)]` |\n"),
        "follow_up": "如果要去掉标点符号呢？",
    },
}


def _tiny_gguf(folder: Path) -> Path:
    from app.internlm2.gguf_export import export_gguf
    from tests.tiny_model import TinySpec, build_tiny_checkpoint

    checkpoint = build_tiny_checkpoint(folder / "tiny", TinySpec(seed=5, dtype="F32"))
    return export_gguf(checkpoint, folder / "internlm2-tiny-test.gguf", "f32")


def _fill(db: Path, language: str, theme: str, model: Path, what: str = "chat") -> None:
    from app.storage import ConversationStore, ReplyStats, Role

    text = _CONTENT[language]
    with ConversationStore(db) as store:
        for title in text["others"]:
            chat = store.conversations.create(title=title)
            store.messages.add(chat.id, Role.USER, title)
            store.messages.add(chat.id, Role.ASSISTANT, "…")
        chat = store.conversations.create(title=text["title"], model=model.stem)
        store.messages.add(chat.id, Role.USER, text["question"])
        stats = ReplyStats(prompt_tokens=61, cached_tokens=0, new_tokens=187, ttft_s=0.21,
                           tokens_per_s=24.6, stop_reason="stop_token", backend="llamacpp",
                           model=model.stem)
        store.messages.add(chat.id, Role.ASSISTANT, text["answer"], stats=stats)
        if what == "document":  # the most recent conversation (it opens at start) has a document
            name, body, question, answer = _DOCUMENT[language]
            chat = store.conversations.create(title=question, model=model.stem)
            store.documents.attach(chat.id, name, body)
            store.messages.add(chat.id, Role.USER, question)
            store.messages.add(chat.id, Role.ASSISTANT, answer, stats=stats)
        for key, value in (("theme", theme), ("language", language), ("model_path", str(model)),
                           ("n_ctx", 2048), ("system_prompt", "")):
            store.settings.set(f"ui.{key}", value)


def _one(out: Path, what: str) -> int:
    """In the child: the real start path, then a grab once the model is loaded (of the model
    manager, once it has looked at this computer, for "models")."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.startup.application import run_gui
    from app.ui.window.main_window import MainWindow

    app = QApplication([sys.argv[0]])

    def shoot() -> None:
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows or not windows[0].controller.model:
            QTimer.singleShot(200, shoot)
            return
        window = windows[0]
        window.resize(1280, 800)
        if what != "models":
            def grab_window() -> None:
                if window.controller.documents.reading:  # a document: grabbed once it is read
                    QTimer.singleShot(200, grab_window)
                    return
                window.grab().save(str(out))
                app.quit()

            QTimer.singleShot(1200, grab_window)
            return
        window.show_model_manager()
        dialog = window._manager_dialog
        dialog.select("catalog", "internlm2-chat-1_8b")

        def grab_dialog() -> None:
            if dialog.advice.text() == dialog.tr("Looking at this computer..."):
                QTimer.singleShot(200, grab_dialog)
                return
            dialog.grab().save(str(out))
            dialog.close()
            app.quit()

        QTimer.singleShot(600, grab_dialog)

    QTimer.singleShot(300, shoot)
    return run_gui(sys.argv[sys.argv.index("--") + 1:])


def main() -> int:
    if "--one" in sys.argv:
        at = sys.argv.index("--one")
        return _one(Path(sys.argv[at + 1]), sys.argv[at + 2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a GGUF (default: the tiny test model)")
    parser.add_argument("--out", type=Path, default=_ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        folder = Path(tmp)
        model = args.model or _tiny_gguf(folder)
        for what, language, theme in SHOTS:
            db = folder / f"{what}-{language}-{theme}.sqlite3"
            _fill(db, language, theme, model, what)
            out = args.out / f"{what}-{language.split('_')[0]}-{theme}.png"
            env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "xcb"),
                   "INTERNLM2_DESKTOP_DATA": str(folder / "data"),
                   "INTERNLM2_DESKTOP_LOGS": str(folder / "logs")}
            subprocess.run([sys.executable, __file__, "--one", str(out), what, "--", "--db", str(db)],
                           env=env, check=True, timeout=300)
            print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
