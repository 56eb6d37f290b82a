"""How often the window reads a conversation's whole tree (every text of every version): once
to open it, twice per send (the prompt, the transcript), never for its buttons or to find
where a new message goes. A conversation of 100,000 versions takes most of a second to read,
and the window read it four times on every open (the path, the version numbers, a waiting
tool call, the Regenerate button) and at every step of a send (the prompt, the question, the
reply, the transcript and its version numbers, the buttons). The real store, the real window offscreen, the tiny
llama.cpp stop model; the reads are counted by wrapping the store's own method."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.storage import ConversationStore, Role
from app.storage.tree import current_path, version_counts
from app.ui.window.main_window import MainWindow
from app.ui.workers.inference_worker import InferenceClient
from tests.conftest import STOP_PROMPT
from tests.ui_helpers import load, make_window, quick_settings, send, wait_until

_WHEN = "2026-01-02T03:04:05Z"


def _archive(messages: list[dict[str, object]]) -> dict[str, object]:
    return {"format": "internlm2-desktop/conversation", "format_version": 2,
            "conversation": {"title": "generated", "created": _WHEN, "updated": _WHEN},
            "messages": [{"created": _WHEN, **m} for m in messages]}


def _random_tree(rng: random.Random, size: int) -> list[dict[str, object]]:
    return [{"role": rng.choice(["user", "assistant", "system"]), "text": f"m{i} " * rng.randrange(1, 5),
             "parent": rng.choice([None, *range(i)]) if i else None,
             "chosen": rng.random() < 0.5} for i in range(size)]


def test_the_outline_and_the_shown_path_are_the_path_of_the_whole_tree(store: ConversationStore) -> None:
    rng = random.Random(73)
    for _ in range(40):
        cid = store.import_json(_archive(_random_tree(rng, rng.randrange(1, 60))))
        if rng.random() < 0.3:  # a branch in the trash is left out of all three
            tree = store.messages.tree_for(cid)
            with contextlib.suppress(ValueError):  # the only version of its turn stays
                store.branches.trash(rng.choice(tree).id)
        tree = store.messages.tree_for(cid)
        path = current_path(tree)
        shown, versions = store.messages.shown_for(cid)
        assert shown == path
        assert versions == version_counts(tree)
        outline = store.messages.outline_for(cid)
        assert [(m.id, m.role, m.state, m.position, m.parent_id, m.chosen) for m in outline] == [
            (m.id, m.role, m.state, m.position, m.parent_id, m.chosen) for m in path]
        assert all(m.text == "" and m.stats is None and m.token_ids is None for m in outline)


class _Reads:
    """Counts MessageStore.tree_for calls (the one query that reads every text of a tree)."""

    def __init__(self, store: ConversationStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = store.messages.tree_for

        def counted(conversation_id: int) -> Any:
            self.count += 1
            return real(conversation_id)

        monkeypatch.setattr(store.messages, "tree_for", counted)

    def since(self, before: int) -> int:
        return self.count - before


@pytest.fixture()
def window(qtbot: QtBot, store: ConversationStore, client: InferenceClient,
           stop_model: tuple[Path, Path, int]) -> MainWindow:
    w = make_window(qtbot, store, client, quick_settings())
    load(qtbot, w, stop_model[1])
    return w


def test_opening_a_conversation_of_many_versions_reads_its_tree_once(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, monkeypatch: pytest.MonkeyPatch) -> None:
    count = 3_000
    chosen = random.Random(5).randrange(count)
    messages: list[dict[str, object]] = [{"role": "user", "text": STOP_PROMPT, "parent": None}]
    messages += [{"role": "assistant", "text": f"version {i}", "parent": 0, "chosen": i == chosen}
                 for i in range(count)]
    cid = store.import_json(json.dumps(_archive(messages)))
    reads = _Reads(store, monkeypatch)
    window.open_conversation(cid)
    label = f"{chosen + 1:,} / {count:,}".replace(",", "")
    wait_until(qtbot, lambda: window.view.pending == 0 and f"version {chosen}" in window.view.toPlainText(),
               "the chosen version to be shown")
    text = window.view.toPlainText().replace(",", "")
    assert label in text, f"the version links ({label}) in {text[-200:]!r}"
    assert reads.count == 1, "one read of the tree opens the conversation"
    assert window.composer.regenerate_button.isEnabled()  # decided from the outline, not a tree read


def test_a_send_reads_the_tree_for_the_prompt_and_the_transcript_only(
        qtbot: QtBot, window: MainWindow, store: ConversationStore, monkeypatch: pytest.MonkeyPatch) -> None:
    first = send(qtbot, window, STOP_PROMPT)
    cid = store.messages.get(first).conversation_id
    reads = _Reads(store, monkeypatch)
    before = reads.count
    second = send(qtbot, window, STOP_PROMPT)
    wait_until(qtbot, window.composer.regenerate_button.isEnabled, "Regenerate to be offered again")
    assert reads.since(before) <= 2, f"{reads.since(before)} reads of the tree for one send"
    assert store.messages.get(second).role is Role.ASSISTANT
    assert [m.id for m in store.messages.list_for(cid)][-1] == second
