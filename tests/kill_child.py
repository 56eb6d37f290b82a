"""Child process of the kill test (tests/test_ui_faults.py): the real chat data path without
widgets — ConversationStore, ChatController, InferenceClient, llama.cpp on the tiny model —
answers one short question, then streams a reply far longer than the test lets it live.
With `regenerate`, the short answer is regenerated once (a second version), and the third
version is the endless one: the kill lands during a regenerate.

    python -m tests.kill_child DB GGUF [regenerate]
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QTimer  # noqa: E402

from app.settings import AppSettings  # noqa: E402
from app.storage import ConversationStore  # noqa: E402
from app.ui.chat.chat_controller import ChatController  # noqa: E402
from app.ui.workers.inference_worker import InferenceClient  # noqa: E402
from tests.pacing import endless_reply  # noqa: E402

SHORT = "Say something short."  # tests.conftest.STOP_PROMPT: its greedy reply ends quickly
LONG = "Write a long story, please."
CHECKPOINT_MS = 50
CONTEXT = 2048  # the tiny model's trained length: the reply would end only when it is full


def main(db: Path, gguf: Path, mode: str = "send") -> int:
    app = QCoreApplication([sys.argv[0]])
    store = ConversationStore(db)
    client = InferenceClient()
    settings = AppSettings(system_prompt="", n_ctx=CONTEXT, kv_type="f32",
                           sampling={"temperature": 0.0, "top_p": 1.0, "top_k": 0,
                                     "repetition_penalty": 1.0, "max_new_tokens": 100_000})
    controller = ChatController(store, client, settings)
    controller.set_checkpoint_interval(CHECKPOINT_MS)
    asked: list[str] = []
    holds = contextlib.ExitStack()

    def next_turn(*_: object) -> None:
        if not asked:
            asked.append(SHORT)
            controller.send(SHORT)
        elif mode == "regenerate" and len(asked) < 3:
            asked.append("regenerate")
            if len(asked) == 3:
                holds.enter_context(endless_reply(client.worker.backend))
            controller.regenerate()
            if len(asked) == 3:
                print("long reply started", flush=True)
        elif mode == "send" and len(asked) == 1:
            asked.append(LONG)
            # The long reply never ends by itself (a token per 50 ms at most, no end-of-sequence):
            # on a loaded machine too, the kill lands mid-stream.
            holds.enter_context(endless_reply(client.worker.backend))
            controller.send(LONG)
            print("long reply started", flush=True)
        else:  # the long reply ended before the kill: the test reports it
            print(f"long reply ended: {store.messages.get(controller_reply[0]).state}", flush=True)
            app.exit(3)

    controller_reply: list[int] = []
    controller.replyStarted.connect(lambda _cid, mid: controller_reply.append(mid))
    controller.modelChanged.connect(next_turn)
    controller.replyEnded.connect(lambda *_: QTimer.singleShot(0, next_turn))
    controller.loadFailed.connect(lambda text: (print(text, flush=True), app.exit(2)))
    controller.load_model(settings.load_spec(gguf))
    code = app.exec()
    holds.close()
    client.shutdown()
    store.close()
    return int(code)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:4]))
