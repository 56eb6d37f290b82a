"""A long document read whole, read ahead, saved, restored after a restart, and never trusted blindly."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as sp_pb2

from app.engine.backend import Backend
from app.engine.conversation import Conversation
from app.engine.doc_cache import DocStateCache, can_save_state, file_crc32, state_key
from app.engine.llamacpp_backend import LlamaCppBackend
from app.engine.needle import _FILLER, build_haystack, needle_sentence
from app.engine.read_ahead import PrefixReader, PrefixSource
from app.engine.torch_backend import TorchBackend
from app.engine.types import Finished, PrefillProgress, StopReason
from app.internlm2.chat_format import Sampling
from tests.tiny_model import _CORPUS_LINES, SPECIALS, TinySpec, build_tiny_checkpoint

GREEDY = Sampling(temperature=0.0, max_new_tokens=12)
DOC_SHA = "d" * 64


def _long_pieces_tokenizer() -> sp_pb2.ModelProto:
    """A tokenizer whose pieces span whole phrases of the filler (up to 64 characters).

    With the default tiny tokenizer (600 pieces) 200,000 characters are ~120,000 tokens, and the
    tiny model's quadratic attention makes that minutes on two cores; with long pieces the same
    200,000 characters are ~9,000 tokens (past the tiny model's trained 2,048, so the long-context
    rope base applies), read in seconds. The plumbing under test is the same.
    """
    corpus = [line for _ in range(30) for line in _CORPUS_LINES] + [s.strip() for _ in range(60) for s in _FILLER]
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=buf, vocab_size=1500, model_type="bpe", byte_fallback=True,
        character_coverage=1.0, split_digits=True, add_dummy_prefix=True, remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True, normalization_rule_name="identity", unk_id=0, bos_id=1, eos_id=2,
        pad_id=-1, hard_vocab_limit=False, num_threads=1, minloglevel=2, split_by_whitespace=False,
        max_sentencepiece_length=64)
    proto = sp_pb2.ModelProto()
    proto.ParseFromString(buf.getvalue())
    for k in range(len(SPECIALS)):
        piece = proto.pieces.add()
        piece.piece, piece.score = f"[UNUSED_TOKEN_{141 + k}]", 0.0
        piece.type = sp_pb2.ModelProto.SentencePiece.USER_DEFINED
    return proto


@pytest.fixture(scope="module")
def long_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from app.internlm2.gguf_export import export_gguf

    folder = build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-long"), TinySpec(seed=3), _long_pieces_tokenizer())
    return export_gguf(folder, folder.parent / "long-f32.gguf", "f32")


def _answer(backend: Backend, convo: Conversation, question: str, sampling: Sampling = GREEDY) -> Finished:
    last = None
    for event in backend.generate(convo.ask(question, sampling)):
        if isinstance(event, Finished):
            last = event
    assert last is not None
    convo.answered(last.text, last.token_ids)
    return last


# -- the stable prefix -------------------------------------------------------------------------
@pytest.mark.parametrize("question", ["def", " leading space", "\n\nnewlines first", "。问题"])
def test_question_prompt_extends_the_prefilled_prefix_exactly(tiny_gguf: Path, question: str) -> None:
    backend = LlamaCppBackend(tiny_gguf, n_ctx=2048)
    try:
        # A document ending mid-word: glued to the question in one run its last tokens would merge.
        convo = Conversation(backend, document="The quick brown fox jumps over the lazy dog near the river ba",
                             document_name="notes.txt")
        prefix = convo.prefix_ids()
        first = convo.ask(question, GREEDY).prompt_ids
        assert first[: len(prefix)] == prefix and len(first) > len(prefix)
        PrefixReader(backend, convo).wait()  # read ahead, before the question is known
        reply = _answer(backend, convo, question, Sampling(temperature=0.0, max_new_tokens=3))
        assert reply.stats.cached_tokens == len(prefix)  # the question only appended
        second = convo.ask("And then?", GREEDY).prompt_ids
        assert second[: len(first) + len(reply.token_ids)] == first + reply.token_ids
        assert convo.document_tokens() > 10
    finally:
        backend.unload()


def test_base_model_prefix_is_also_a_prefix(tiny_base_model: Path) -> None:
    backend = TorchBackend(tiny_base_model, device="cpu", n_ctx=2048)
    try:
        assert not backend.is_chat
        convo = Conversation(backend, document="for (int i = 0; i < n; ++i) { total += val", document_name=None)
        prefix = convo.prefix_ids()
        assert convo.ask("ues[i]; }", GREEDY).prompt_ids[: len(prefix)] == prefix
    finally:
        backend.unload()


# -- read ahead, cancel, the torch backend ------------------------------------------------------
def test_read_ahead_reports_progress_and_cancels(long_gguf: Path) -> None:
    backend = LlamaCppBackend(long_gguf, n_ctx=12288)
    try:
        convo = Conversation(backend, document=build_haystack(150_000, 50, needle_sentence("amber")))
        reader = PrefixReader(backend, convo, DocStateCache(), DOC_SHA)
        events = []
        for event in reader.run():
            events.append(event)
            if isinstance(event, PrefillProgress) and event.done > 0:
                backend.cancel()
        assert isinstance(events[-1], Finished) and events[-1].stats.stop_reason is StopReason.CANCELLED
        assert reader.source is PrefixSource.NONE and not reader.saved
        assert DocStateCache().entries() == []  # nothing half-read is ever saved
        assert len(backend.cached_tokens) < len(convo.prefix_ids())
    finally:
        backend.unload()


def test_torch_backend_reads_ahead_without_saving(tiny_model: Path) -> None:
    backend = TorchBackend(tiny_model, device="cpu", n_ctx=2048)
    try:
        assert not can_save_state(backend) and state_key(backend, DOC_SHA, [1, 2]) is None
        convo = Conversation(backend, document="Long documents are read whole. " * 20)
        reader = PrefixReader(backend, convo, DocStateCache(), DOC_SHA)
        assert reader.wait().stats.stop_reason is StopReason.PREFILLED
        assert reader.source is PrefixSource.READ and not reader.saved and DocStateCache().entries() == []
        assert _answer(backend, convo, "Why?").stats.cached_tokens >= len(convo.prefix_ids())
    finally:
        backend.unload()


# -- 200,000 characters end to end, with a restart -------------------------------------------------
def test_200k_characters_read_whole_saved_and_restored_after_a_restart(long_gguf: Path) -> None:
    text = build_haystack(200_000, 40, needle_sentence("kestrel"))
    assert len(text) == 200_000
    n_ctx = 12288
    first = LlamaCppBackend(long_gguf, n_ctx=n_ctx)
    try:
        convo = Conversation(first, document=text, document_name="haystack.txt")
        doc_tokens = convo.document_tokens()
        assert 2048 < doc_tokens < n_ctx - 200
        reader = PrefixReader(first, convo, DocStateCache(), DOC_SHA)
        assert reader.wait().stats.stop_reason is StopReason.PREFILLED
        assert reader.source is PrefixSource.READ and reader.saved
        answer = _answer(first, convo, "What is the secret passphrase?")
        assert answer.stats.prompt_tokens >= doc_tokens  # no truncation
        assert answer.stats.cached_tokens >= doc_tokens  # the question only appended
        follow = _answer(first, convo, "Where was it?")
        assert follow.stats.cached_tokens >= doc_tokens + len(answer.token_ids)
    finally:
        first.unload()

    restarted = LlamaCppBackend(long_gguf, n_ctx=n_ctx)  # a new process would build exactly this
    try:
        again = Conversation(restarted, document=text, document_name="haystack.txt")
        reader = PrefixReader(restarted, again, DocStateCache(), DOC_SHA)
        assert reader.wait().stats.cached_tokens == len(again.prefix_ids())
        assert reader.source is PrefixSource.SAVED
        restored = _answer(restarted, again, "What is the secret passphrase?")
        assert restored.stats.cached_tokens >= doc_tokens
        # Without any cache: the whole prompt read cold gives the same greedy answer.
        cold_convo = Conversation(restarted, document=text, document_name="haystack.txt")
        restarted._reset_cache()
        cold = _answer(restarted, cold_convo, "What is the secret passphrase?")
        assert cold.stats.cached_tokens == 0
        assert restored.token_ids == answer.token_ids == cold.token_ids
    finally:
        restarted.unload()


# -- never trusted: corrupted, truncated, foreign, refused, evicted ------------------------------------
def _saved_entry(backend: LlamaCppBackend, text: str, cache: DocStateCache, sha: str = DOC_SHA) -> Path:
    convo = Conversation(backend, document=text)
    reader = PrefixReader(backend, convo, cache, sha)
    reader.wait()
    assert reader.saved
    key = state_key(backend, sha, convo.prefix_ids())
    assert key is not None
    return cache.folder / f"{key.digest()}.kv"


@pytest.mark.parametrize("damage", ["flip", "truncate", "foreign", "garbage_llama_refuses"])
def test_a_bad_cache_file_is_ignored_and_rebuilt(long_gguf: Path, damage: str) -> None:
    cache = DocStateCache()
    text = build_haystack(20_000, 10, needle_sentence("ember"))
    backend = LlamaCppBackend(long_gguf, n_ctx=4096)
    try:
        state = _saved_entry(backend, text, cache)
        side = state.with_suffix(".json")
        data = bytearray(state.read_bytes())
        meta = json.loads(side.read_text())
        if damage == "flip":
            data[len(data) // 2] ^= 0xFF
            state.write_bytes(bytes(data))
        elif damage == "truncate":
            state.write_bytes(bytes(data[: len(data) // 3]))
        elif damage == "foreign":
            meta["key"]["document_sha256"] = "f" * 64
            side.write_text(json.dumps(meta))
        else:  # size and checksum consistent, content not a llama.cpp state: llama.cpp refuses it
            state.write_bytes(b"\x00garbage" * (len(data) // 8) + b"\x00" * (len(data) % 8))
            meta["crc32"] = file_crc32(state)
            side.write_text(json.dumps(meta))
        backend.unload()
        backend = LlamaCppBackend(long_gguf, n_ctx=4096)
        convo = Conversation(backend, document=text)
        reader = PrefixReader(backend, convo, cache, DOC_SHA)
        done = reader.wait()
        assert reader.source is PrefixSource.READ  # read again, not restored
        assert done.stats.cached_tokens == 0 and backend.cached_tokens == convo.prefix_ids()
        assert reader.saved and len(cache.entries()) == 1  # rebuilt
        assert cache.lookup(state_key(backend, DOC_SHA, convo.prefix_ids())) is not None  # type: ignore[arg-type]
    finally:
        backend.unload()


def test_least_recently_used_states_are_evicted_under_the_cap(long_gguf: Path) -> None:
    backend = LlamaCppBackend(long_gguf, n_ctx=4096)
    try:
        probe = DocStateCache(cap_bytes=10**12)
        size = _saved_entry(backend, build_haystack(8_000, 0, needle_sentence("a")), probe, "0" * 64).stat().st_size
        probe.clear()
        cache = DocStateCache(cap_bytes=int(size * 2.5))
        docs = {sha: build_haystack(8_000, d, needle_sentence("raven")) for sha, d in (("1" * 64, 10), ("2" * 64, 50))}
        for sha, doc in docs.items():
            _saved_entry(backend, doc, cache, sha)
        # Use the first again (restored): now the second is the least recently used.
        convo = Conversation(backend, document=docs["1" * 64])
        backend._reset_cache()
        reader = PrefixReader(backend, convo, cache, "1" * 64)
        reader.wait()
        assert reader.source is PrefixSource.SAVED
        _saved_entry(backend, build_haystack(8_000, 90, needle_sentence("raven")), cache, "3" * 64)
        kept = {json.loads((cache.folder / f"{e.digest}.json").read_text())["key"]["document_sha256"]
                for e in cache.entries()}
        assert kept == {"1" * 64, "3" * 64}
        assert cache.total_bytes() <= cache.cap_bytes
        assert DocStateCache(cap_bytes=size // 2).save(backend, state_key(backend, "4" * 64,  # type: ignore[arg-type]
                                                                          backend.cached_tokens)) is False
    finally:
        backend.unload()
