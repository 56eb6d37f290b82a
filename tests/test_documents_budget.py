"""The tokenizer-free bound: never above the real count, and the fit check answers from it for a
document far larger than any context, without tokenizing the document."""

from __future__ import annotations

import random
import time
from pathlib import Path

from sentencepiece import sentencepiece_model_pb2 as sp_pb2

from app.engine.budget import (
    MAX_CONTEXT,
    Verdict,
    bound_violations,
    cannot_fit,
    cut_position,
    min_tokens_bound,
)
from app.engine.conversation import Conversation, Turn
from app.engine.types import ModelInfo
from app.internlm2.chat_format import Sampling
from app.internlm2.tokenizer import InternLM2Tokenizer
from app.ui.documents.document_jobs import check_fit, count_document


def _generated_texts() -> list[str]:
    """English-like words, Chinese, code, runs of spaces and symbols, random code points."""
    rng = random.Random(5)
    words = " ".join("".join(rng.choice("etaoinshrdlucmfw") for _ in range(rng.randint(1, 12)))
                     for _ in range(3000))
    chinese = "".join(rng.choice("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动")
                      for _ in range(5000))
    code = "def f(x):\n    return [i * x for i in range(10)]  # comment\n" * 200
    runs = (" " * 300 + "-" * 200 + "\n" * 50 + "=" * 90 + "\t" * 40) * 20
    noise = "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(5000))
    return [words, chinese, code, runs, noise, "", "x", "   a   "]


def test_the_bound_holds_for_the_tiny_vocabulary_and_its_counts(tiny_model: Path) -> None:
    proto = sp_pb2.ModelProto()
    proto.ParseFromString((tiny_model / "tokenizer.model").read_bytes())
    normal = sp_pb2.ModelProto.SentencePiece.NORMAL
    pieces = [p.piece.replace("\u2581", " ") for p in proto.pieces if p.type == normal]
    assert bound_violations(pieces) == []
    tok = InternLM2Tokenizer.from_folder(tiny_model)
    for text in _generated_texts():
        assert min_tokens_bound(text) <= len(tok.encode(text)), text[:40]


def test_bound_violations_names_the_pieces_that_would_break_it() -> None:
    assert bound_violations(["hello", " world", "   ", "a" * 36, "中" * 15]) == []
    bad = bound_violations(["two words", "a" * 37, "中" * 16])
    assert len(bad) == 3 and "runs" in bad[0]


def test_twenty_million_characters_cannot_fit_and_the_bound_is_cheap() -> None:
    text = ("Word " * 1000 + "\n") * 4000  # 20 M characters
    start = time.process_time()
    bound = min_tokens_bound(text)
    seconds = time.process_time() - start
    assert bound >= 4_000_000 > MAX_CONTEXT and cannot_fit(text)
    assert seconds < 5.0, f"the bound took {seconds:.1f} s (bounded: it must stay cheap)"
    assert not cannot_fit("short text")


class _SpyTokenizer:
    """The tiny tokenizer, recording the longest text it was asked to encode."""

    def __init__(self, inner: InternLM2Tokenizer) -> None:
        self._inner = inner
        self.special = inner.special
        self.longest = 0

    def encode(self, text: str) -> list[int]:
        self.longest = max(self.longest, len(text))
        return self._inner.encode(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def _model(tokenizer: object) -> ModelInfo:
    """The loaded model as the window knows it (no file behind it: no memory figures)."""
    return ModelInfo(model="tiny", backend="llamacpp", device="CPU", device_reason="", compute="cpu",
                     n_ctx=4096, kv_type="f16", is_chat=True, path="", vocab="spy", vocab_size=92544,
                     tokenizer=tokenizer)  # type: ignore[arg-type]


def _huge_document() -> str:
    return ("The quick brown fox jumps over the lazy dog near the river bank. " * 50 + "\n") * 2000


def test_count_answers_from_the_bound_without_tokenizing(tiny_model: Path) -> None:
    spy = _SpyTokenizer(InternLM2Tokenizer.from_folder(tiny_model))
    model = _model(spy)
    document = _huge_document()  # 6.5 M characters
    convo = Conversation(model, system="", document=document)
    count = count_document(model, convo, "sha", 256)
    assert count.estimated and count.verdict is Verdict.DOES_NOT_FIT
    assert count.tokens == min_tokens_bound(document) > MAX_CONTEXT
    assert spy.longest < 10_000  # only the system prompt's markup was tokenized


def test_fit_check_refuses_with_a_cut_while_encoding_only_prefixes(tiny_model: Path) -> None:
    spy = _SpyTokenizer(InternLM2Tokenizer.from_folder(tiny_model))
    model = _model(spy)
    document = _huge_document()
    convo = Conversation(model, system="", document=document, sampling=Sampling(max_new_tokens=256))
    fit = check_fit(model, convo, [Turn("user", "Where is the fox?")])
    searched = spy.longest  # the cut search encodes prefixes up to about twice the cut
    assert not fit.fits and fit.estimated and fit.plan is not None
    assert fit.plan.verdict is Verdict.DOES_NOT_FIT
    cut = next(c for c in fit.choices if c.cut_at_char is not None)
    assert 0 < cut.cut_at_char < len(document) // 4  # what the largest context holds
    spy.longest = 0
    assert len(spy.encode(document[:cut.cut_at_char])) <= cut.keep_document_tokens
    assert spy.longest == cut.cut_at_char
    assert fit.plan is not None and "Nothing was cut" in fit.plan.sentence
    assert searched < 3 * cut.cut_at_char < len(document)


def test_cut_position_is_exact_and_encodes_little_of_a_long_text(tiny_model: Path) -> None:
    spy = _SpyTokenizer(InternLM2Tokenizer.from_folder(tiny_model))
    text = "Long documents are read whole: two hundred thousand characters fit. " * 20_000
    keep = 3_000
    pos = cut_position(spy.encode, text, keep)
    assert len(spy.encode(text[:pos])) <= keep < len(spy.encode(text[:pos + 1]))
    assert spy.longest < 8 * pos
