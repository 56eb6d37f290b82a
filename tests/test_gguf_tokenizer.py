"""The GGUF-side tokenizer against the checkpoint's, on the real InternLM2 tokenizer.

Typed text never yields a special id (nor BOS) on either side, both sides give the same ids,
and decoding gives the text back, genuine leading spaces included; the streamed text is what
the ids decode to. The strings are generated: every special token name, the placeholders,
byte-piece look-alikes, spaces, newlines, Chinese, emoji.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from app.engine.gguf_tokenizer import GGUFTokenizer, vocab_only_tokenizer
from app.internlm2.tokenizer import InternLM2Tokenizer
from tests.tiny_model import REAL_VOCAB, TinySpec, build_tiny_checkpoint

pytest.importorskip("llama_cpp")

_NAMES = ["<s>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>", "<|action_start|>", "<|action_end|>",
          "<|plugin|>", "<|interpreter|>", "[UNUSED_TOKEN_141]", "[UNUSED_TOKEN_145]",
          "[UNUSED_TOKEN_146]", "<0x00>", "<0x41>", "<0x0A>", "[PAD92543]"]
_FRAGMENTS = ["a", "b", "hi", "Hello", "world", "s>", "<s", "</", "<|", "|>", "im_end", "user",
              "assistant\n", "书生·浦语", "上海人工智能实验室", "中文", "，", "。", "😀", "🎉", "👍🏽",
              "👨‍👩‍👧", "🐉", "\x00", "\t", "\r\n", "12345", "3.14", "def f(x):", "https://example.org"]
_SPACES = ["", " ", "  ", "   ", "\n", "\n\n", " \n ", "\u3000", "\u00a0"]


def _generated(n: int, seed: int) -> list[str]:
    """Random strings made of special names, fragments and runs of whitespace."""
    rng = random.Random(seed)
    out = ["a<s>b", "<s> hi", " Hello world", "  Hello  world  ", "\nHello", "<s>", " <s>", "<s><s>"]
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 8)):
            pool = _NAMES if rng.random() < 0.4 else _FRAGMENTS
            parts.append(rng.choice(_SPACES) + rng.choice(pool))
        if rng.random() < 0.3:
            parts.append(rng.choice(_SPACES))
        out.append("".join(parts))
    return out


TEXTS = _generated(300, seed=16)


@pytest.fixture(scope="module")
def real_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-real"), TinySpec(hidden=32, intermediate=64))


@pytest.fixture(scope="module")
def sp_tok(real_model: Path) -> InternLM2Tokenizer:
    tok = InternLM2Tokenizer.from_folder(real_model)
    assert tok.vocab_size == REAL_VOCAB and not tok.add_dummy_prefix
    return tok


@pytest.fixture(scope="module")
def gguf_tok(real_model: Path, tmp_path_factory: pytest.TempPathFactory) -> GGUFTokenizer:
    from app.internlm2.gguf_export import export_gguf

    path = export_gguf(real_model, tmp_path_factory.mktemp("real-gguf") / "real.gguf", "f32")
    return vocab_only_tokenizer(path)


def test_special_ids_are_the_same_on_both_sides(sp_tok: InternLM2Tokenizer, gguf_tok: GGUFTokenizer) -> None:
    assert gguf_tok.special == sp_tok.special
    assert (gguf_tok.special.bos, gguf_tok.special.eos, gguf_tok.special.im_end) == (1, 2, 92542)
    assert gguf_tok.vocab_size == REAL_VOCAB and not gguf_tok.add_dummy_prefix


@pytest.mark.parametrize("text", ["a<s>b", "<s> hi", "<s>", "x</s>y", "<unk>", "<|im_end|>", "🐉"])
def test_typed_names_never_give_a_special_id(gguf_tok: GGUFTokenizer, sp_tok: InternLM2Tokenizer,
                                             text: str) -> None:
    ids = gguf_tok.encode(text)
    specials = set(gguf_tok.special.by_name.values())
    assert not specials & set(ids), f"{text!r} gave {ids}"
    assert ids == sp_tok.encode(text)
    assert gguf_tok.decode(ids) == text


def test_a_genuine_leading_space_round_trips(gguf_tok: GGUFTokenizer, sp_tok: InternLM2Tokenizer) -> None:
    for tok in (gguf_tok, sp_tok):
        assert tok.decode(tok.encode(" Hello world")) == " Hello world"
        assert tok.decode(tok.encode("   three")) == "   three"


def test_generated_strings_both_sides(gguf_tok: GGUFTokenizer, sp_tok: InternLM2Tokenizer) -> None:
    specials = set(sp_tok.special.by_name.values()) | {sp_tok.special.bos, sp_tok.special.eos}
    for text in TEXTS:
        ids = sp_tok.encode(text)
        assert not specials & set(ids), f"{text!r} gave a special id: {ids}"
        assert gguf_tok.encode(text) == ids, f"the two sides disagree on {text!r}"
        for tok in (sp_tok, gguf_tok):
            assert tok.decode(ids) == text, f"{text!r} does not round-trip"
            dec = tok.stream_decoder()
            streamed = "".join(dec.push(i) for i in ids) + dec.flush()
            assert streamed == text
        assert str(sp_tok.sp.decode(ids)) == text  # SentencePiece's own decode agrees


def test_stream_equals_decode_for_any_ids(gguf_tok: GGUFTokenizer, sp_tok: InternLM2Tokenizer) -> None:
    """Ids a model may emit in any order (lone byte pieces, specials, the NUL piece): the streamed
    text and the decoded text are the same string on both sides."""
    rng = random.Random(4)
    byte_ids = list(range(3, 259))
    for _ in range(200):
        ids = [rng.choice(byte_ids) if rng.random() < 0.3 else rng.randrange(REAL_VOCAB)
               for _ in range(rng.randint(1, 30))]
        for tok in (sp_tok, gguf_tok):
            dec = tok.stream_decoder()
            streamed = "".join(dec.push(i) for i in ids) + dec.flush()
            assert streamed == tok.decode(ids)
        assert gguf_tok.decode(ids) == sp_tok.decode(ids)
        assert gguf_tok.decode(ids, skip_special=False) == sp_tok.decode(ids, skip_special=False)


def test_vocab_only_tokenizer_does_not_keep_the_file_open(real_model: Path, tmp_path: Path) -> None:
    from app.internlm2.gguf_export import export_gguf

    path = export_gguf(real_model, tmp_path / "x.gguf", "f16")
    tok = vocab_only_tokenizer(path)
    path.unlink()  # the vocabulary lives in SentencePiece now
    assert tok.decode(tok.encode(" still works")) == " still works"


@pytest.mark.parametrize("which", ["torch", "llamacpp"])
def test_streamed_stored_and_exported_reply_is_what_its_ids_decode_to(
        real_model: Path, tmp_path: Path, which: str) -> None:
    """Sampled replies of the random model (any pieces, byte pieces, leading spaces): the
    streamed pieces, the Finished text, the stored message and its JSON export are all exactly
    tokenizer.decode(reply ids)."""
    import json

    from app.engine.backend import Backend
    from app.engine.types import Finished, GenerateRequest, TextPiece
    from app.internlm2.chat_format import Message, Sampling, build_chat_prompt
    from app.storage import ConversationStore
    from app.storage.models import Role

    backend: Backend
    if which == "torch":
        from app.engine.torch_backend import TorchBackend

        backend = TorchBackend(real_model, device="cpu", n_ctx=512)
    else:
        from app.engine.llamacpp_backend import LlamaCppBackend
        from app.internlm2.gguf_export import export_gguf

        backend = LlamaCppBackend(export_gguf(real_model, tmp_path / "r.gguf", "f32"), n_ctx=512, kv_type="f32")
    store = ConversationStore(tmp_path / "chat.sqlite3")
    try:
        cid = store.conversations.create("t").id
        replies = []
        for seed, question in enumerate(TEXTS[:6]):
            prompt = build_chat_prompt([Message("user", question)]).ids(backend.tokenizer)
            sampling = Sampling(temperature=1.5, top_p=1.0, max_new_tokens=24, seed=seed)
            events = list(backend.generate(GenerateRequest(prompt, sampling)))
            done = events[-1]
            assert isinstance(done, Finished) and done.token_ids
            streamed = "".join(e.text for e in events if isinstance(e, TextPiece))
            expected = backend.tokenizer.decode(done.token_ids)
            assert streamed == done.text == expected
            store.messages.add(cid, Role.USER, question)
            store.messages.add(cid, Role.ASSISTANT, done.text)
            replies.append(expected)
        stored = [m.text for m in store.messages.list_for(cid) if m.role == Role.ASSISTANT]
        exported = [m["text"] for m in json.loads(store.export_json(cid))["messages"] if m["role"] == "assistant"]
        assert stored == exported == replies
        assert any(r[:1].isspace() for r in replies), "no reply began with a space: the test proves less"
    finally:
        store.close()
        backend.unload()
