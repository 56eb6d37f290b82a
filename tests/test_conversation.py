"""The one conversation model (Qt-free) and the stored reply ids (schema 5, export/import)."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from app.engine.conversation import Conversation, CountingModel, Turn, document_block
from app.engine.token_cache import DocumentTokens, vocab_fingerprint
from app.internlm2.chat_format import Message, build_chat_prompt
from app.internlm2.tokenizer import InternLM2Tokenizer
from app.storage import ConversationStore, Role
from app.storage.errors import ImportFormatError
from app.storage.export import parse_archive, to_dict, write_archive
from app.storage.models import parse_token_ids


@pytest.fixture(scope="module")
def tok(tiny_model: Path) -> InternLM2Tokenizer:
    return InternLM2Tokenizer.from_folder(tiny_model)


def test_prompt_is_the_official_template_with_the_reply_ids_as_generated(tok: InternLM2Tokenizer) -> None:
    doc = "Rivers bend twice before the mill. " * 30
    ids = (5, 6, 7, 8)  # a reply's ids, not the tokenization of its text
    fp = vocab_fingerprint(tok)
    convo = Conversation(CountingModel(tok), system="Be brief.", document=doc, document_name="n.txt",
                         turns=[Turn("user", "Q1"), Turn("assistant", "A1", ids, fp)])
    built = convo.build(question="Q2")
    reference = build_chat_prompt([
        Message("system", "Be brief."), Message("user", document_block("n.txt", doc)), Message("user", "Q1"),
        Message("assistant", "A1", token_ids=ids), Message("user", "Q2")]).ids(tok)
    assert built.request.prompt_ids == reference
    # The parts add up to the prompt: one accounting for the count, the fit and the budget.
    assert built.prefix_tokens + sum(built.pair_tokens) + built.question_tokens == len(reference)
    assert built.prompt_tokens - len(Conversation(CountingModel(tok), system="Be brief.").prefix_ids()) \
        - sum(built.pair_tokens) - built.question_tokens == built.document_tokens == convo.document_tokens()
    assert built.tokenized == {} and built.needed == len(reference) + built.request.sampling.max_new_tokens
    # The prefix read ahead is a prefix of every question's prompt.
    assert reference[:len(convo.prefix_ids())] == convo.prefix_ids()


def test_ids_of_another_vocabulary_or_out_of_range_are_tokenized_from_the_text(tok: InternLM2Tokenizer) -> None:
    fp = vocab_fingerprint(tok)
    rng = random.Random(12)
    for case in ("other vocabulary", "out of range", "negative", "none"):
        ids: tuple[int, ...] | None = tuple(rng.randrange(tok.vocab_size) for _ in range(5))
        vocab = fp
        if case == "other vocabulary":
            vocab = "0123456789abcdef"
        elif case == "out of range":
            ids = (*ids[:4], tok.vocab_size + rng.randrange(1, 10**6))
        elif case == "negative":
            ids = (-rng.randrange(1, 100), *ids[1:])
        else:
            ids = None
        convo = Conversation(CountingModel(tok), system="", turns=[Turn("user", "q"), Turn("assistant", "The reply.",
                                                                                         ids, vocab, key=42)])
        built = convo.build(question="next")
        assert built.tokenized == {42: tuple(tok.encode("The reply."))}, case
        # Tokenized apart from its header, as a generated reply is (the ids that get stored).
        again = tuple(tok.encode("The reply."))
        assert built.request.prompt_ids == build_chat_prompt(
            [Message("user", "q"), Message("assistant", "The reply.", token_ids=again),
             Message("user", "next")]).ids(tok)


def test_the_document_is_tokenized_once_for_count_fit_prefix_and_every_question(tok: InternLM2Tokenizer) -> None:
    cache = DocumentTokens()
    doc = "The committee met on Tuesdays and read the minutes aloud. " * 200
    convo = Conversation(CountingModel(tok), document=doc, document_name="minutes.txt", cache=cache)
    convo.document_tokens()
    convo.build(question="Who met?")
    again = Conversation(CountingModel(tok), document=doc, document_name="minutes.txt", cache=cache)
    again.prefix_ids()
    again.ask("When?")
    again.answered("On Tuesdays.", tok.encode("On Tuesdays."))
    again.ask("Why?")
    assert cache.encodes == 1
    # Another document, or the same one for a base model, is another entry.
    Conversation(CountingModel(tok, is_chat=False), document=doc, cache=cache).prefix_ids()
    assert cache.encodes == 2


def test_the_cache_is_bounded_by_tokens() -> None:
    cache = DocumentTokens(max_tokens=100, max_entries=10)
    for i in range(20):
        cache.get(("v", str(i), True), lambda: list(range(30)))
    assert cache.encodes == 20 and cache._size <= 100 and len(cache._entries) == 3
    assert cache.get(("v", "big", True), lambda: list(range(500))) == list(range(500))  # too big: not kept
    assert ("v", "big", True) not in cache._entries


def test_base_model_replies_go_back_as_their_ids(tok: InternLM2Tokenizer) -> None:
    convo = Conversation(CountingModel(tok, is_chat=False), document="Once upon a time")
    first = convo.ask("There was")
    convo.answered(" a king", [9, 10, 11])
    second = convo.ask(" who")
    assert second.prompt_ids[:len(first.prompt_ids) + 3] == first.prompt_ids + [9, 10, 11]


def test_the_path_can_be_any_list_of_turns(tok: InternLM2Tokenizer) -> None:
    convo = Conversation(CountingModel(tok), system="")
    path = [Turn("user", "a"), Turn("assistant", "b"), Turn("user", "c")]
    assert convo.build(path).request.prompt_ids == convo.with_turns(path[:2]).build(question="c").request.prompt_ids
    with pytest.raises(ValueError):
        convo.build(path[:2])


# -- storage ----------------------------------------------------------------------------------------
def test_reply_ids_are_stored_exported_and_imported(tmp_path: Path) -> None:
    with ConversationStore(tmp_path / "a.sqlite3") as store:
        cid = store.conversations.create().id
        store.messages.add(cid, Role.USER, "q")
        reply = store.messages.begin_reply(cid)
        assert store.messages.finish(reply, "answer", None, [3, 1, 4, 1, 5], "feedbeef")
        got = store.messages.get(reply)
        assert (got.token_ids, got.token_vocab) == ((3, 1, 4, 1, 5), "feedbeef")
        data = json.loads(json.dumps(to_dict(store.conversations.get(cid), store.messages.list_for(cid), [],
                                             "2026-01-01T00:00:00.000000Z")))
        assert data["messages"][1]["token_ids"] == [3, 1, 4, 1, 5] and "token_ids" not in data["messages"][0]
        copy = write_archive(store.db, parse_archive(data))
        assert store.messages.list_for(copy)[1].token_ids == (3, 1, 4, 1, 5)
        # The ids a text-only reply is tokenized to are kept, but only for the text they belong to.
        assert not store.messages.set_token_ids(reply, "another text", [7], "v")
        assert store.messages.set_token_ids(reply, "answer", [7, 8], "v")
        assert store.messages.get(reply).token_ids == (7, 8)
        store.messages.add_version(store.messages.list_for(cid)[0].id, "q2")  # a new branch
        assert [m.text for m in store.messages.list_for(cid)] == ["q2"]
        assert store.messages.list_for(cid)[0].token_ids is None


def test_hostile_token_ids_in_an_import_are_refused_and_in_the_database_ignored(tmp_path: Path) -> None:
    rng = random.Random(5)
    bad_values: list[object] = ["[1,2]", {"a": 1}, [1, "2"], [True, 1], [-1], [1 << 40], [1.5],
                                [rng.randrange(10) for _ in range(1_000_001)]]
    base = {"format": "internlm2-desktop/conversation", "format_version": 1,
            "conversation": {"created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z"}}
    for value in bad_values:
        message = {"role": "assistant", "text": "x", "created": "2026-01-01T00:00:00Z", "token_ids": value}
        with pytest.raises(ImportFormatError, match="token_ids"):
            parse_archive({**base, "messages": [message]})
    for text in ("not json", "[1, 2", "[-5]", json.dumps(list(range(5)) + ["x"]), "x" * 100):
        assert parse_token_ids(text) is None
    # A damaged column is read as "no ids" (the reply is then tokenized from its text).
    path = tmp_path / "b.sqlite3"
    with ConversationStore(path) as store:
        cid = store.conversations.create().id
        mid = store.messages.add(cid, Role.ASSISTANT, "hi")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE messages SET token_ids = '[1, \"two\"]' WHERE id = ?", (mid,))
    conn.commit()
    conn.close()
    with ConversationStore(path) as store:
        assert store.messages.get(mid).token_ids is None


def test_a_version_4_file_gains_the_id_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    from app.storage import schema

    path = tmp_path / "v4.sqlite3"
    conn = sqlite3.connect(path)
    for step in schema.MIGRATIONS[:4]:
        step(conn)
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO conversations (id, title, created, updated) VALUES (1, 't', "
                 "'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')")
    conn.execute("INSERT INTO messages (conversation_id, position, role, text, created) "
                 "VALUES (1, 0, 'assistant', 'old reply', '2026-01-01T00:00:00.000000Z')")
    conn.commit()
    conn.close()
    with ConversationStore(path) as store:
        assert store.db.schema_version == schema.LATEST_VERSION
        (msg,) = store.messages.list_for(1)
        assert (msg.text, msg.token_ids, msg.token_vocab) == ("old reply", None, "")
