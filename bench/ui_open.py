"""Benchmark: opening a conversation of many versions in the REAL window, against the plain reads.

    .venv/bin/python bench/ui_open.py [--versions 100000] [--rounds 3]

A fresh database (the real SQLite file) gets one question with --versions answers (an import, as a
file from another machine would bring them). Printed side by side, the best of --rounds: one plain
`sqlite3` SELECT of every row of the conversation (what reading the whole tree costs at the
least), one `MessageStore.tree_for` (every row made into a message), `list_for` (the path:
five columns of every row, the full rows of the path alone) and the window's open (MainWindow
offscreen, from `open_conversation` to the transcript fully rendered), with how many messages
the open built. No model is loaded: opening does not need one.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.settings import AppSettings  # noqa: E402
from app.storage import ConversationStore  # noqa: E402
from app.storage.messages import COLUMNS  # noqa: E402
from app.ui.window.main_window import MainWindow  # noqa: E402
from app.ui.workers.inference_worker import InferenceClient  # noqa: E402

_WHEN = "2026-01-02T03:04:05Z"


def _archive(count: int) -> str:
    messages: list[dict[str, Any]] = [{"role": "user", "text": "Which version is it?", "parent": None,
                                       "created": _WHEN}]
    messages += [{"role": "assistant", "text": f"Version {i}: " + "some words of an answer " * 8,
                  "parent": 0, "chosen": i == count // 2, "created": _WHEN} for i in range(count)]
    return json.dumps({"format": "internlm2-desktop/conversation", "format_version": 2,
                       "conversation": {"title": "versions", "created": _WHEN, "updated": _WHEN},
                       "messages": messages})


def _best(fn: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app = QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chat.sqlite3"
        store = ConversationStore(path)
        client = InferenceClient()
        window = MainWindow(store, client, AppSettings(system_prompt=""))
        window.resize(1200, 800)
        window.show()
        try:
            cid = store.import_json(_archive(args.versions))
            plain = sqlite3.connect(path)

            def select() -> None:
                plain.execute(f"SELECT {COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY position",
                              (cid,)).fetchall()

            import app.storage.messages as messages_module

            reads = [0]
            real = messages_module.message_from_row

            def counted(row: Any) -> Any:
                reads[0] += 1
                return real(row)

            messages_module.message_from_row = counted  # type: ignore[assignment]
            opens: list[float] = []
            per_open: list[int] = []
            for _ in range(args.rounds):
                window.open_conversation(0)
                app.processEvents()
                before = reads[0]
                t0 = time.perf_counter()
                window.open_conversation(cid)
                while window.view.pending:
                    app.processEvents()
                opens.append(time.perf_counter() - t0)
                per_open.append(reads[0] - before)
            figures = {
                "plain sqlite3 SELECT of the rows": _best(select, args.rounds),
                "MessageStore.tree_for": _best(lambda: store.messages.tree_for(cid), args.rounds),
                "MessageStore.list_for": _best(lambda: store.messages.list_for(cid), args.rounds),
                "window open, to rendered": min(opens),
            }
            plain.close()
        finally:
            window.close()
            client.shutdown()
            store.close()
    print(f"{args.versions:,} versions of one answer; best of {args.rounds}")
    for name, seconds in figures.items():
        print(f"  {name:<36} {seconds:7.3f} s")
    print(f"  messages built per open: {per_open}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
