"""Tokenizer: special tokens only from the template, streaming decode never splits a character."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.internlm2.errors import TokenizerError
from app.internlm2.tokenizer import IM_END, IM_START, InternLM2Tokenizer

TEXTS = [
    "Hello, world!",
    "书生·浦语是上海人工智能实验室开发的。",
    "emoji 😀🎉 and 👩‍👩‍👧 family",
    "def f(x):\n    return x  # comment\n\n\n",
    "   leading spaces and\ttabs\r\n",
    "<|im_end|> <|im_start|>user [UNUSED_TOKEN_145] [UNUSED_TOKEN_146] <s> </s> <|plugin|>",
]


@pytest.fixture(scope="module")
def tok(tiny_model: Path) -> InternLM2Tokenizer:
    return InternLM2Tokenizer.from_folder(tiny_model)


def test_special_ids_come_from_added_tokens_decoder(tok: InternLM2Tokenizer) -> None:
    n = tok.vocab_size
    assert tok.special.id(IM_END) == n - 2
    assert tok.special.id(IM_START) == n - 1
    assert tok.special.id("<|plugin|>") == n - 6
    assert (tok.special.bos, tok.special.eos, tok.special.unk) == (1, 2, 0)


@pytest.mark.parametrize("text", TEXTS)
def test_user_text_never_yields_a_special_id(tok: InternLM2Tokenizer, text: str) -> None:
    ids = tok.encode(text)
    specials = set(tok.special.by_name.values())
    assert not specials & set(ids)
    assert tok.decode(ids) == text


def test_placeholder_piece_is_not_matched_even_if_user_defined(tiny_model: Path,
                                                                tok: InternLM2Tokenizer) -> None:
    # In tokenizer.model the <|im_end|> id carries the USER_DEFINED piece [UNUSED_TOKEN_145]:
    # plain SentencePiece turns the typed name into the special id; ours must not.
    import sentencepiece as spm

    raw = spm.SentencePieceProcessor()
    raw.LoadFromFile(str(tiny_model / "tokenizer.model"))
    assert tok.special.id(IM_END) in raw.encode("[UNUSED_TOKEN_145]")
    ids = tok.encode("[UNUSED_TOKEN_145]")
    assert tok.special.id(IM_END) not in ids and len(ids) > 1


@pytest.mark.parametrize("text", TEXTS[:5])
def test_stream_decoder_emits_whole_characters_only(tok: InternLM2Tokenizer, text: str) -> None:
    dec = tok.stream_decoder()
    pieces = [dec.push(i) for i in tok.encode(text)]
    pieces.append(dec.flush())
    # The decoder drops the dummy-prefix space, as SentencePiece's decode does: the stream is
    # exactly what the ids decode to.
    assert "".join(pieces) == text == tok.decode(tok.encode(text))
    assert all("\ufffd" not in p for p in pieces)


def test_stream_decoder_holds_back_half_a_character(tok: InternLM2Tokenizer) -> None:
    ids = tok.encode("😀")
    byte_ids = [i for i in ids if tok.sp.is_byte(i)]
    assert len(byte_ids) == 4, "the fixture vocabulary has no emoji piece: byte fallback is used"
    dec = tok.stream_decoder()
    outs = [dec.push(i) for i in ids]
    assert outs[-1] == "😀"
    assert [o for o in outs[:-1] if o.strip()] == []
    half = tok.stream_decoder()
    assert [half.push(i) for i in byte_ids[:2]] == ["", ""]
    assert half.flush() == "\ufffd"


def test_decode_can_show_special_names(tok: InternLM2Tokenizer) -> None:
    ids = [tok.special.id(IM_START), *tok.encode("user"), tok.special.id(IM_END)]
    assert tok.decode(ids) == "user"
    assert tok.decode(ids, skip_special=False) == "<|im_start|>user<|im_end|>"


def test_missing_tokenizer_model(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="missing"):
        InternLM2Tokenizer(tmp_path / "tokenizer.model")


def test_special_id_outside_vocabulary(tiny_model: Path, tmp_path: Path) -> None:
    import json

    cfg = json.loads((tiny_model / "tokenizer_config.json").read_text())
    cfg["added_tokens_decoder"]["99999"] = {"content": "<|bogus|>", "special": True}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(TokenizerError, match="outside the vocabulary"):
        InternLM2Tokenizer(tiny_model / "tokenizer.model", tmp_path / "tokenizer_config.json")


def test_real_tokenizer_has_no_dummy_prefix(tok: InternLM2Tokenizer) -> None:
    assert not tok.add_dummy_prefix and tok.vocab_size == 92544
    # The published check (SOURCE.md), and a leading space that is a piece of its own word.
    assert tok.encode("The quick brown fox jumps over the lazy dog.") == [
        918, 4131, 14018, 38648, 34256, 1053, 410, 15810, 5718, 281]
    assert tok.encode(" Hello") != tok.encode("Hello") and tok.decode(tok.encode(" Hello")) == " Hello"


def test_dummy_prefix_is_dropped_only_where_the_tokenizer_adds_one(tmp_path: Path) -> None:
    """The synthetic tokenizer (trained with a dummy prefix, unlike the real one) is the only
    place that rule can be tested: decode drops exactly the space SentencePiece added."""
    from tests.tiny_model import TinySpec, build_tiny_checkpoint

    folder = build_tiny_checkpoint(tmp_path / "synthetic", TinySpec(tokenizer="synthetic", hidden=16,
                                                                    intermediate=32, heads=2, kv_heads=1))
    synthetic = InternLM2Tokenizer.from_folder(folder)
    assert synthetic.add_dummy_prefix
    for text in [*TEXTS, "Hello", " Hello", "  Hello", "\nHello", "😀 first"]:
        ids = synthetic.encode(text)
        assert synthetic.decode(ids) == str(synthetic.sp.decode(ids)) == text
        dec = synthetic.stream_decoder()
        assert "".join(dec.push(i) for i in ids) + dec.flush() == text
