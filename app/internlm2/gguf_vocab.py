"""GGUF metadata for an InternLM2 export: hyper-parameters, the SentencePiece vocabulary, chat info.

Follows llama.cpp's own converter (convert_hf_to_gguf.py, InternLM2Model) so that a GGUF made
here behaves like one made there: every piece of the ORIGINAL tokenizer.model with its score and
type, placeholder pieces ([UNUSED_TOKEN_...]) typed UNUSED, then the ids of tokenizer_config.json's
added_tokens_decoder renamed to their real names ('<|im_end|>', ...), score -1000, CONTROL when
special. One difference, asked for by the app: a chat model keeps `</s>` as EOS and gets
`<|im_end|>` as its end-of-turn (EOT) token (llama.cpp's converter overwrote EOS instead); both
end generation in llama.cpp.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf

from app.internlm2.chat_format import CHAT_TEMPLATE
from app.internlm2.config import InternLM2Config
from app.internlm2.errors import ExportError
from app.internlm2.rope import GGUF_ROPE_FACTOR_KEY, GGUF_ROPE_SCALING_KEY
from app.internlm2.tokenizer import IM_END
from app.sentences import say

# protobuf-generated, without type information: typed as Any on purpose
_sp_pb2: Any = importlib.import_module("sentencepiece.sentencepiece_model_pb2")
_UNUSED_PREFIX = "[UNUSED"
_SPECIAL_SCORE = -1000.0
# llama.cpp's converter renames a piece that is exactly NUL (C strings would cut it short).
_NUL_REPLACEMENT = "\U0001f409"  # the dragon emoji, as llama.cpp does


@dataclass(frozen=True)
class Vocabulary:
    """The token table and special ids written into the GGUF."""

    tokens: list[bytes]
    scores: list[float]
    types: list[int]
    add_space_prefix: bool
    bos: int
    eos: int
    unk: int
    pad: int | None
    add_bos: bool
    add_eos: bool
    eot: int | None
    chat_template: str | None


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ExportError(say("{name} in {folder} cannot be read.", name=path.name, folder=path.parent),
                          say("Download the model again."), str(exc)) from exc
    return data if isinstance(data, dict) else {}


def _read_proto(path: Path) -> Any:
    proto = _sp_pb2.ModelProto()
    try:
        proto.ParseFromString(path.read_bytes())
    except OSError as exc:
        raise ExportError(say("{name} cannot be read.", name=path.name), say("Download the model again."),
                          str(exc)) from exc
    except Exception as exc:  # protobuf's DecodeError
        raise ExportError(say("{path} is not a SentencePiece tokenizer.", path=path),
                          say("Download the model again."), str(exc)) from exc
    return proto


def read_vocabulary(folder: Path, cfg: InternLM2Config) -> Vocabulary:
    """Build the GGUF vocabulary from tokenizer.model and tokenizer_config.json in `folder`."""
    proto = _read_proto(folder / "tokenizer.model")
    tok_cfg = _read_json(folder / "tokenizer_config.json")
    n_pieces = len(proto.pieces)
    if n_pieces > cfg.vocab_size:
        raise ExportError(
            say("tokenizer.model has {pieces} pieces but the model only {embeddings} embeddings.",
                pieces=n_pieces, embeddings=cfg.vocab_size),
            say("The tokenizer does not belong to these weights; download the model again."))
    tokens: list[bytes] = []
    scores: list[float] = []
    types: list[int] = []
    for piece in proto.pieces:
        text = piece.piece if piece.piece != "\x00" else _NUL_REPLACEMENT
        kind = int(piece.type)  # SentencePiece's type numbers are gguf.TokenType's
        if piece.piece.startswith(_UNUSED_PREFIX):
            kind = gguf.TokenType.UNUSED
        tokens.append(text.encode("utf-8"))
        scores.append(float(piece.score))
        types.append(kind)
    for i in range(n_pieces, cfg.vocab_size):  # padded embedding rows, as llama.cpp pads them
        tokens.append(f"[PAD{i}]".encode())
        scores.append(_SPECIAL_SCORE)
        types.append(gguf.TokenType.UNUSED)

    by_name: dict[str, int] = {}
    decoder = tok_cfg.get("added_tokens_decoder") or {}
    for key, entry in decoder.items():
        if not isinstance(entry, dict) or "content" not in entry:
            continue
        idx = int(key)
        if not 0 <= idx < cfg.vocab_size:
            raise ExportError(say("Special token {name} has id {id}, outside the vocabulary of {n}.",
                                  name=entry["content"], id=idx, n=cfg.vocab_size), say("Download the model again."))
        name = str(entry["content"])
        by_name[name] = idx
        tokens[idx] = name.encode("utf-8")
        scores[idx] = _SPECIAL_SCORE
        types[idx] = gguf.TokenType.CONTROL if entry.get("special") else gguf.TokenType.USER_DEFINED

    im_end = by_name.get(IM_END)
    template = tok_cfg.get("chat_template")
    chat = isinstance(template, str) or (im_end is not None and im_end in cfg.generation_eos_ids)
    if chat and not isinstance(template, str):
        template = CHAT_TEMPLATE
    unk = proto.trainer_spec.unk_id if proto.trainer_spec.unk_id >= 0 else 0
    return Vocabulary(
        tokens=tokens, scores=scores, types=[int(t) for t in types],
        add_space_prefix=bool(proto.normalizer_spec.add_dummy_prefix),
        bos=cfg.bos_token_id, eos=cfg.eos_token_id, unk=unk, pad=cfg.pad_token_id,
        add_bos=bool(tok_cfg.get("add_bos_token", True)),
        add_eos=bool(tok_cfg.get("add_eos_token", False)),
        eot=im_end if chat else None,
        chat_template=template if chat else None,
    )


def write_metadata(writer: gguf.GGUFWriter, cfg: InternLM2Config, vocab: Vocabulary,
                   file_type: gguf.LlamaFileType, name: str) -> None:
    """Add the hyper-parameters and the vocabulary to `writer` (before the header is written).

    The rope base is the checkpoint's rope_theta, never dynamically scaled: the app sets the
    context's base at run time for the length it holds (app.internlm2.rope).
    """
    writer.add_name(name)
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)
    writer.add_rope_freq_base(cfg.rope_theta)
    if cfg.rope_scaling_type and cfg.rope_scaling_factor:
        writer.add_string(GGUF_ROPE_SCALING_KEY, cfg.rope_scaling_type)
        writer.add_float32(GGUF_ROPE_FACTOR_KEY, float(cfg.rope_scaling_factor))
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_file_type(file_type)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(vocab.tokens)
    writer.add_token_scores(vocab.scores)
    writer.add_token_types(vocab.types)
    writer.add_add_space_prefix(vocab.add_space_prefix)
    writer.add_bos_token_id(vocab.bos)
    writer.add_eos_token_id(vocab.eos)
    writer.add_unk_token_id(vocab.unk)
    if vocab.pad is not None:
        writer.add_pad_token_id(vocab.pad)
    writer.add_add_bos_token(vocab.add_bos)
    writer.add_add_eos_token(vocab.add_eos)
    if vocab.eot is not None:
        writer.add_eot_token_id(vocab.eot)
    if vocab.chat_template:
        writer.add_chat_template(vocab.chat_template)


def metadata_bytes_estimate(vocab: Vocabulary) -> int:
    """An upper bound on the bytes the header, metadata and tensor infos take."""
    per_token = 8 + 4 + 4  # string length, score, type
    return sum(len(t) for t in vocab.tokens) + per_token * len(vocab.tokens) + (1 << 20) + \
        len(vocab.chat_template or "")
