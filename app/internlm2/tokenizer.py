"""InternLM2 tokenizer: SentencePiece plus the special tokens, which only the template can produce."""

from __future__ import annotations

import codecs
import importlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.internlm2.errors import TokenizerError
from app.sentences import say


def _sp_pb2() -> Any:
    """The SentencePiece model proto (protobuf-generated, untyped), imported on first use:
    sentencepiece and protobuf cost ~0.1 s, which the window's start-up must not pay."""
    return importlib.import_module("sentencepiece.sentencepiece_model_pb2")

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
ACTION_START = "<|action_start|>"
ACTION_END = "<|action_end|>"
PLUGIN = "<|plugin|>"
INTERPRETER = "<|interpreter|>"


@dataclass(frozen=True)
class SpecialTokens:
    """Ids of the special tokens, read from tokenizer_config.json's added_tokens_decoder."""

    by_name: dict[str, int]
    bos: int
    eos: int
    unk: int

    def id(self, name: str) -> int:
        try:
            return self.by_name[name]
        except KeyError:
            raise TokenizerError(say("The tokenizer has no special token {name}.", name=name),
                                 say("Pick an InternLM2 chat checkpoint.")) from None

    @property
    def im_end(self) -> int | None:
        return self.by_name.get(IM_END)


class TokenizerLike(Protocol):
    """What prompt building needs: ours (tokenizer.model) or llama.cpp's (a GGUF) fit."""

    special: SpecialTokens

    def encode(self, text: str) -> list[int]: ...


def _read_added_tokens(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TokenizerError(say("{name} cannot be read.", name=path.name), say("Download the model again."),
                             str(exc)) from exc
    decoder = data.get("added_tokens_decoder") or {}
    return {str(v["content"]): int(k) for k, v in decoder.items() if isinstance(v, dict)}


class InternLM2Tokenizer:
    """Encodes user text to ordinary pieces only; special ids come from `special` alone.

    The SentencePiece model's placeholder pieces at the special ids ([UNUSED_TOKEN_145] is
    <|im_end|>) are turned into CONTROL pieces on load, so no typed text, whether
    "<|im_end|>" or "[UNUSED_TOKEN_145]", can ever yield a special id.
    """

    def __init__(self, model_file: Path | str, config_file: Path | str | None = None) -> None:
        model_file = Path(model_file)
        try:
            proto = _sp_pb2().ModelProto()
            proto.ParseFromString(model_file.read_bytes())
        except FileNotFoundError as exc:
            raise TokenizerError(say("{name} is missing from {folder}.", name=model_file.name, folder=model_file.parent),
                                 say("Download the model again.")) from exc
        except Exception as exc:  # protobuf raises its own DecodeError
            raise TokenizerError(say("{path} is not a SentencePiece tokenizer.", path=model_file),
                                 say("Download the model again."), str(exc)) from exc
        cfg_path = Path(config_file) if config_file else model_file.parent / "tokenizer_config.json"
        self._setup(proto, _read_added_tokens(cfg_path))

    @classmethod
    def from_proto(cls, proto: Any, added: dict[str, int]) -> InternLM2Tokenizer:
        """A tokenizer from a SentencePiece model proto and the special tokens' ids by name."""
        self = cls.__new__(cls)
        self._setup(proto, added)
        return self

    def _setup(self, proto: Any, added: dict[str, int]) -> None:
        n = len(proto.pieces)
        for name, idx in added.items():
            if not 0 <= idx < n:
                raise TokenizerError(say("Special token {name} has id {id}, outside the vocabulary of {n}.",
                                         name=name, id=idx, n=n), say("Pick an official InternLM2 checkpoint."))
        self._protect(proto, set(added.values()))
        # InternLM2's piece 354 is a NUL character. SentencePiece treats it as unused (never
        # produced from text; text's NUL becomes byte piece <0x00>) but says so on stderr at
        # every load, in front of the command line's output: the piece is renamed beforehand,
        # and still decodes to NUL.
        self._nul_ids = frozenset(i for i, piece in enumerate(proto.pieces) if piece.piece == "\x00")
        for idx in self._nul_ids:
            proto.pieces[idx].piece = f"[NUL_{idx}]"
            proto.pieces[idx].type = _sp_pb2().ModelProto.SentencePiece.UNUSED
        self.add_dummy_prefix = bool(proto.normalizer_spec.add_dummy_prefix)
        self.proto = proto
        import sentencepiece as spm  # lazy, see _sp_pb2

        self.sp = spm.SentencePieceProcessor()
        try:
            self.sp.LoadFromSerializedProto(proto.SerializeToString())
        except RuntimeError as exc:
            raise TokenizerError(say("The tokenizer cannot be loaded."), say("Download the model again."),
                                 str(exc)) from exc
        self.special = SpecialTokens(by_name=added, bos=self.sp.bos_id(), eos=self.sp.eos_id(),
                                     unk=self.sp.unk_id())
        self._special_ids = frozenset(added.values()) | {self.sp.bos_id(), self.sp.eos_id()}
        self._names = {idx: name for name, idx in added.items()}
        self._bytes: dict[int, bytes] = {}

    @staticmethod
    def _protect(proto: Any, special_ids: set[int]) -> None:
        """Make special and placeholder pieces CONTROL so that text never matches them."""
        kinds = _sp_pb2().ModelProto.SentencePiece
        matchable = (kinds.NORMAL, kinds.USER_DEFINED)
        for idx, piece in enumerate(proto.pieces):
            if piece.type not in matchable:
                continue  # <unk>, <s>, </s> and byte pieces keep their types
            if idx in special_ids or piece.type == kinds.USER_DEFINED and piece.piece.startswith("[UNUSED"):
                piece.type = kinds.CONTROL

    @classmethod
    def from_folder(cls, folder: Path | str) -> InternLM2Tokenizer:
        folder = Path(folder)
        return cls(folder / "tokenizer.model", folder / "tokenizer_config.json")

    @property
    def vocab_size(self) -> int:
        return int(self.sp.get_piece_size())

    def encode(self, text: str) -> list[int]:
        """Ordinary token ids for user text: never a BOS, EOS or special id."""
        if not text:
            return []
        return list(self.sp.encode(text))

    def decode(self, ids: Sequence[int], *, skip_special: bool = True) -> str:
        """Text of ids; special tokens dropped, or written by name with skip_special=False.

        Built from the tokens' bytes exactly as the streaming decoder builds a reply, so a
        streamed, stored or exported reply is always what its ids decode to (for valid text
        it is also SentencePiece's own decode; the tests hold the two together).
        """
        if skip_special:
            return self.stream_decoder().extend(ids, final=True)
        out: list[str] = []
        dec = self.stream_decoder()
        for i in ids:
            if i in self._names:  # each run between special tokens is decoded as SentencePiece does
                out.append(dec.flush())
                out.append(self._names[i])
                dec = self.stream_decoder()
            else:
                out.append(dec.push(i))
        out.append(dec.flush())
        return "".join(out)

    def piece(self, idx: int) -> str:
        return self._names.get(idx) or str(self.sp.id_to_piece(idx))

    def is_special(self, idx: int) -> bool:
        return idx in self._special_ids

    def token_bytes(self, idx: int) -> bytes:
        """The bytes a token stands for: "\u2581" is a space, <0xNN> one byte, special tokens none."""
        data = self._bytes.get(idx)
        if data is not None:
            return data
        if not 0 <= idx < self.vocab_size or idx in self._special_ids or self.sp.is_control(idx) \
                or self.sp.is_unknown(idx):
            data = b""
        elif self.sp.is_byte(idx):
            data = bytes([int(str(self.sp.id_to_piece(idx))[3:5], 16)])
        elif idx in self._nul_ids:
            data = b"\x00"
        else:
            data = str(self.sp.id_to_piece(idx)).replace("\u2581", " ").encode("utf-8")
        self._bytes[idx] = data
        return data

    def _first_bytes(self, idx: int) -> bytes:
        """The bytes of the reply's first text token: SentencePiece drops the dummy-prefix space
        (only when the model adds one; InternLM2's real tokenizer does not, and a genuine
        leading space is kept)."""
        data = self.token_bytes(idx)
        if self.add_dummy_prefix and data.startswith(b" ") and not self.sp.is_byte(idx):
            return data[1:]
        return data

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self.token_bytes, self._first_bytes)


class StreamDecoder:
    """Turns a stream of token ids into text, never emitting half a UTF-8 character.

    Works on the tokens' bytes (so it serves any tokenizer that can give them): an incremental
    UTF-8 decoder holds back a character whose bytes span tokens (byte-fallback pieces of an
    emoji or a rare Chinese character) until it is complete. Special tokens contribute no
    bytes. `first_bytes`, when given, gives the bytes of the first token that has any (the
    place a dummy-prefix space is dropped).
    """

    def __init__(self, token_bytes: Callable[[int], bytes],
                 first_bytes: Callable[[int], bytes] | None = None) -> None:
        self._token_bytes = token_bytes
        self._first_bytes = first_bytes
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, idx: int) -> str:
        """Add one id; return the text it completes (maybe empty)."""
        if self._first_bytes is not None:
            data = self._token_bytes(idx)
            if not data:
                return ""
            data = self._first_bytes(idx)
            self._first_bytes = None
        else:
            data = self._token_bytes(idx)
        return str(self._utf8.decode(data))

    def extend(self, ids: Iterable[int], *, final: bool = False) -> str:
        text = "".join(self.push(i) for i in ids)
        return text + self.flush() if final else text

    def flush(self) -> str:
        """Whatever is still held back (an unfinished character becomes U+FFFD)."""
        return str(self._utf8.decode(b"", final=True))
