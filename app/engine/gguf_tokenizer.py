"""The tokenizer of a GGUF file: SentencePiece rebuilt from the GGUF's own vocabulary.

llama.cpp's tokenizer is NOT used for text: its SentencePiece port merges pieces that
SentencePiece never produces from text. Typed `<s>` (and `a<s>b`) became BOS, id 1, because
its bigram merge ignores the token type, and a typed dragon emoji became piece 354 (NUL,
which llama.cpp's converter renames to the dragon). Its detokenizer also dropped a genuine
leading space. So the GGUF's pieces, scores and types are read once through llama.cpp's
vocabulary API and loaded into SentencePiece itself: the ids are those of the checkpoint's
tokenizer.model by construction, and decoding is the same code as for the PyTorch backend.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from app.internlm2.tokenizer import InternLM2Tokenizer

# llama_token_attr bits (llama.h)
_UNKNOWN, _UNUSED, _NORMAL, _CONTROL, _USER_DEFINED, _BYTE = (1 << k for k in range(6))
# llama.cpp's converter writes the NUL piece of InternLM2's vocabulary as the dragon emoji.
_NUL_STAND_IN = "\U0001f409"


def _unknown_id(meta: dict[str, str], attrs: list[int]) -> int:
    """The unknown piece: the GGUF's key, else the first UNKNOWN-typed token, else 0."""
    try:
        idx = int(meta.get("tokenizer.ggml.unknown_token_id", "-1"))
    except ValueError:
        idx = -1
    if 0 <= idx < len(attrs):
        return idx
    return next((i for i, a in enumerate(attrs) if a & _UNKNOWN), 0)


def _gguf_proto(model: Any, llama_cpp: Any) -> tuple[Any, dict[str, int]]:
    """A SentencePiece ModelProto from a loaded GGUF's vocabulary, and its special ids by name."""
    pb = importlib.import_module("sentencepiece.sentencepiece_model_pb2")
    kinds = pb.ModelProto.SentencePiece
    proto = pb.ModelProto()
    vocab = model.vocab
    meta = model.metadata()
    n_vocab = int(model.n_vocab())
    attrs = [int(llama_cpp.llama_vocab_get_attr(vocab, idx)) for idx in range(n_vocab)]
    unk = _unknown_id(meta, attrs)
    seen: set[str] = set()
    special: dict[str, int] = {}
    has_bytes = False
    for idx, attr in enumerate(attrs):
        raw = llama_cpp.llama_vocab_get_text(vocab, idx) or b""
        text = raw.decode("utf-8", errors="replace")
        piece = proto.pieces.add()
        piece.score = float(llama_cpp.llama_vocab_get_score(vocab, idx))
        if idx == unk:
            kind = kinds.UNKNOWN
        elif attr & _CONTROL:
            kind = kinds.CONTROL
        elif attr & _BYTE:
            kind, has_bytes = kinds.BYTE, True
        elif attr & _USER_DEFINED:
            kind = kinds.USER_DEFINED
        elif attr & _UNUSED:  # placeholders ([UNUSED_TOKEN_n], padding): never text, as on the other side
            kind = kinds.CONTROL
        else:
            kind = kinds.NORMAL
        if text == _NUL_STAND_IN and "\x00" not in seen:
            text, kind = "\x00", kinds.UNUSED  # what SentencePiece makes of the NUL piece
        if text in seen:  # SentencePiece needs unique pieces; a duplicate can never be matched
            text, kind = f"[DUPLICATE_{idx}]", kinds.UNUSED
        seen.add(text)
        piece.piece = text
        piece.type = kind
        if kind == kinds.UNKNOWN or attr & _CONTROL:
            special[text] = idx
    proto.trainer_spec.model_type = pb.TrainerSpec.BPE
    proto.trainer_spec.byte_fallback = has_bytes
    proto.trainer_spec.unk_id = unk
    proto.trainer_spec.bos_id = int(model.token_bos())
    proto.trainer_spec.eos_id = int(model.token_eos())
    proto.trainer_spec.pad_id = -1
    norm = proto.normalizer_spec
    norm.name = "identity"
    # llama.cpp's default for a SentencePiece ("llama") vocabulary is to add the prefix space.
    norm.add_dummy_prefix = meta.get("tokenizer.ggml.add_space_prefix", "true") == "true"
    norm.remove_extra_whitespaces = False
    norm.escape_whitespaces = True
    return proto, special


class GGUFTokenizer(InternLM2Tokenizer):
    """Same behaviour as InternLM2Tokenizer (it is one), built from a loaded llama.cpp model.

    Special tokens are the CONTROL (and unknown) pieces of the GGUF; typed text never yields
    one, nor BOS: encoding is SentencePiece's.
    """

    def __init__(self, model: Any) -> None:
        from app.engine.llamacpp_runtime import import_llama_cpp

        proto, special = _gguf_proto(model, import_llama_cpp())
        self._setup(proto, special)


def vocab_only_tokenizer(path: Path) -> GGUFTokenizer:
    """A GGUF's tokenizer without its weights (fast): to count tokens before sizing a context."""
    from app.engine.llamacpp_runtime import import_llama_cpp

    llama_cpp = import_llama_cpp()
    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        tok = GGUFTokenizer(llm._model)
    finally:
        llm.close()  # the vocabulary now lives in SentencePiece: the model is not needed
    return tok
