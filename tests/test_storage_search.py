"""Full-text search: bm25 ranking, highlighted snippets, hostile input, Chinese, freshness."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.storage import ConversationStore, Role, schema
from app.storage.search import parse_terms


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    opened = ConversationStore(tmp_path / "search.sqlite3")
    yield opened
    opened.close()


def _assert_index_in_sync(store: ConversationStore) -> None:
    """FTS5's own check that the index matches the messages table (raises if not)."""
    with store.db.read() as conn:
        conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")


def test_results_are_ranked_by_bm25_and_highlighted(store: ConversationStore) -> None:
    chat = store.conversations.create("Rockets")
    once = store.messages.add(
        chat.id,
        Role.USER,
        "A long message about many things: gardens, weather, trains, cooking, music, and "
        "somewhere in the middle a single rocket, then more words about other topics.",
    )
    many = store.messages.add(
        chat.id, Role.ASSISTANT, "Rocket engines: a rocket needs a rocket nozzle."
    )
    store.messages.add(chat.id, Role.USER, "Nothing relevant here at all.")

    hits = store.search("rocket")
    assert [hit.message_id for hit in hits] == [many, once]
    assert hits[0].score > hits[1].score
    assert hits[0].snippet.count("«") == 3
    assert "«Rocket» engines: a «rocket» needs a «rocket» nozzle." in hits[0].snippet
    assert "a single «rocket»" in hits[1].snippet
    assert (hits[0].conversation_id, hits[0].conversation_title, hits[0].role) == (
        chat.id,
        "Rockets",
        Role.ASSISTANT,
    )

    custom = store.search("nozzle", markers=("<b>", "</b>"))
    assert custom[0].snippet == "Rocket engines: a rocket needs a rocket <b>nozzle</b>."


def test_all_terms_must_match_and_phrases_are_kept(store: ConversationStore) -> None:
    chat = store.conversations.create()
    both = store.messages.add(chat.id, Role.USER, "the quantized model runs on the laptop")
    store.messages.add(chat.id, Role.USER, "the model is big")
    assert [h.message_id for h in store.search("model laptop")] == [both]
    assert [h.message_id for h in store.search('"model runs"')] == [both]
    assert store.search('"runs model"') == []


@pytest.mark.parametrize(
    "query",
    [
        '"', "'", '""', '"unbalanced', "(", ")", "*", "-", "^", ":", "AND", "OR", "NOT",
        "a AND", "NEAR(a b)", "col:value", "text:rocket", "{a b}", "x*", "-minus", "+",
        "%", "_", "\\", "%%%", "_x_", "' OR 1=1 --", "\x00", "\n\t", "   ", "", "🙂",
        "c++", "std::vector<int>", "e.g.", "50%", "a\"b\"c", "NEAR", "^start", "[x]",
    ],
)
def test_any_typed_text_is_a_safe_query(store: ConversationStore, query: str) -> None:
    chat = store.conversations.create()
    store.messages.add(chat.id, Role.USER, "plain words without special characters")
    results = store.search(query)
    assert isinstance(results, list)
    assert all(hit.message_id for hit in results)


def test_punctuation_is_matched_literally(store: ConversationStore) -> None:
    chat = store.conversations.create()
    cpp = store.messages.add(chat.id, Role.USER, "I write c++ and use std::vector<int> a lot")
    sale = store.messages.add(chat.id, Role.USER, "Everything is 50% off today")
    store.messages.add(chat.id, Role.USER, "no percent sign, no underscore here")
    assert [h.message_id for h in store.search("c++")] == [cpp]
    assert [h.message_id for h in store.search("std::vector<int>")] == [cpp]
    assert [h.message_id for h in store.search("50%")] == [sale]
    assert [h.message_id for h in store.search("%")] == [sale]  # literal, not a wildcard
    assert store.search("_") == []
    assert [h.message_id for h in store.search('"unbalanced c++')] == []
    assert [h.message_id for h in store.search('c++ "')] == [cpp]


def test_chinese_words_of_any_length_are_found(store: ConversationStore) -> None:
    chat = store.conversations.create("中文")
    walk = store.messages.add(chat.id, Role.USER, "今天天气很好，我们去公园散步吧。")
    model = store.messages.add(chat.id, Role.ASSISTANT, "书生·浦语是一个对话语言模型，推理速度很快。")
    store.messages.add(chat.id, Role.USER, "An English message.")
    trigram = sqlite3.sqlite_version_info >= (3, 34, 0)
    assert store.db.fts_tokenizer == ("trigram" if trigram else "unicode61")

    long_word = store.search("公园散步")  # three or more characters: the trigram index
    assert [h.message_id for h in long_word] == [walk]
    assert "«公园散步»" in long_word[0].snippet

    short_word = store.search("天气")  # two characters: matched by LIKE
    assert [h.message_id for h in short_word] == [walk]
    assert short_word[0].snippet == "今天«天气»很好，我们去公园散步吧。"

    mixed = store.search("语言模型 推理")
    assert [h.message_id for h in mixed] == [model]
    assert "«语言模型»" in mixed[0].snippet and "«推理»" in mixed[0].snippet
    assert store.search("天气 模型") == []  # every term must match the same message


def test_short_latin_terms_rank_by_occurrences(store: ConversationStore) -> None:
    chat = store.conversations.create()
    once = store.messages.add(chat.id, Role.USER, "AI is here")
    twice = store.messages.add(chat.id, Role.USER, "ai and AI, two of them")
    hits = store.search("ai")
    assert [h.message_id for h in hits] == [twice, once]
    assert hits[0].snippet == "«ai» and «AI», two of them"


def test_trash_and_streaming_replies_are_not_found(store: ConversationStore) -> None:
    chat = store.conversations.create()
    question = store.messages.add(chat.id, Role.USER, "Where is the lighthouse?")
    reply = store.messages.begin_reply(chat.id)
    store.messages.checkpoint(reply, "The lighthouse stands on the")
    assert [h.message_id for h in store.search("lighthouse")] == [question]

    store.messages.finish(reply, "The lighthouse stands on the northern cape.")
    assert {h.message_id for h in store.search("lighthouse")} == {question, reply}
    assert [h.message_id for h in store.search("northern cape")] == [reply]

    store.conversations.delete(chat.id)
    assert store.search("lighthouse") == []
    store.conversations.restore(chat.id)
    assert len(store.search("lighthouse")) == 2
    _assert_index_in_sync(store)


def test_index_covers_every_branch_leaves_out_trashed_ones_and_follows_purge(
        store: ConversationStore) -> None:
    chat = store.conversations.create()
    first = store.messages.add(chat.id, Role.USER, "original question about volcanoes")
    answer = store.messages.add(chat.id, Role.ASSISTANT, "an answer about volcanoes")
    edited = store.messages.add_version(first, "a new question about glaciers")
    assert sorted(h.message_id for h in store.search("volcanoes")) == [first, answer]  # the old branch
    assert [h.message_id for h in store.search("glaciers")] == [edited]
    store.branches.trash(first)
    assert store.search("volcanoes") == []
    store.branches.restore(first)
    assert len(store.search("volcanoes")) == 2
    store.branches.trash(first)
    assert store.branches.purge() == 2
    assert store.search("volcanoes") == []
    _assert_index_in_sync(store)

    store.conversations.delete(chat.id)
    store.conversations.purge()
    assert store.search("glaciers") == []
    _assert_index_in_sync(store)


def test_fallback_index_without_trigram(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "_sqlite_version_info", (3, 31, 1))
    with ConversationStore(tmp_path / "old-sqlite.sqlite3") as store:
        assert store.db.fts_tokenizer == "unicode61"
        with store.db.read() as conn:
            sql = conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'messages_fts'"
            ).fetchone()[0]
        assert "unicode61" in sql
        chat = store.conversations.create()
        walk = store.messages.add(chat.id, Role.USER, "Walking in the park: 我们去公园散步吧")
        hits = store.search("walking")
        assert [h.message_id for h in hits] == [walk]
        assert "«Walking»" in hits[0].snippet
        assert [h.message_id for h in store.search("公园散步")] == [walk]
        assert [h.message_id for h in store.search("park 公园")] == [walk]
        for query in ('"', "AND", "(", "*", "-x", "!!!"):
            assert isinstance(store.search(query), list)


def test_parse_terms() -> None:
    assert parse_terms('  big "exact phrase"  Big\tword ') == ["big", "exact phrase", "word"]
    assert parse_terms('"unbalanced phrase') == ["unbalanced", "phrase"]
    assert parse_terms('"" " "') == []
    assert parse_terms("a\x00b") == ["a", "b"]


def test_search_does_not_change_data(store: ConversationStore) -> None:
    chat = store.conversations.create()
    store.messages.add(chat.id, Role.USER, "stable text")
    before = store.conversations.get(chat.id)
    store.search("stable")
    assert store.conversations.get(chat.id) == before
    with pytest.raises(sqlite3.ProgrammingError):
        store.close()
        store.search("stable")


def test_snippets_of_long_messages_are_short_windows(store: ConversationStore) -> None:
    chat = store.conversations.create()
    filler = "lorem ipsum dolor sit amet " * 20
    store.messages.add(chat.id, Role.USER, f"{filler}the keyword treasure sits here {filler}")
    store.messages.add(chat.id, Role.USER, f"{filler}然后是天气{filler}")
    for query, marked in (("treasure", "«treasure»"), ("天气", "«天气»")):
        (hit,) = store.search(query)
        assert marked in hit.snippet
        assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
        assert len(hit.snippet) < 100
