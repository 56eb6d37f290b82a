"""The tokenizer of a GGUF file, through llama.cpp's own vocabulary (no tokenizer.model needed)."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.internlm2.tokenizer import SpecialTokens, StreamDecoder

_CONTROL = 1 << 3  # LLAMA_TOKEN_ATTR_CONTROL


class GGUFTokenizer:
    """Same interface as InternLM2Tokenizer, backed by a loaded llama.cpp model.

    Parity tests hold the two to identical ids on the same text. Special tokens are found by
    their CONTROL attribute; typed text is tokenized with parse_special off, so it never
    yields one.
    """

    def __init__(self, model: Any) -> None:
        self._model = model  # llama_cpp._internals.LlamaModel
        names: dict[str, int] = {}
        for idx in range(model.n_vocab()):
            if model.token_get_attr(idx) & _CONTROL:
                names[model.token_get_text(idx)] = idx
        self.special = SpecialTokens(by_name=names, bos=model.token_bos(), eos=model.token_eos(),
                                     unk=names.get("<unk>", 0))
        self._special_ids = frozenset(names.values())
        self._pieces: dict[int, bytes] = {}
        self._owner: Any = None

    @property
    def vocab_size(self) -> int:
        return int(self._model.n_vocab())

    def encode(self, text: str) -> list[int]:
        if not text:
            return []
        return list(self._model.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def decode(self, ids: Sequence[int], *, skip_special: bool = True) -> str:
        if skip_special:
            ids = [i for i in ids if i not in self._special_ids]
        data = b"".join(self._piece(i, special=not skip_special) for i in ids)
        return data.decode("utf-8", errors="replace").removeprefix(" ")

    def _piece(self, idx: int, *, special: bool) -> bytes:
        import llama_cpp

        buf = ctypes.create_string_buffer(64)
        n = llama_cpp.llama_token_to_piece(self._model.vocab, idx, buf, len(buf), 0, special)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self._model.vocab, idx, buf, len(buf), 0, special)
        return buf.raw[:max(n, 0)]

    def token_bytes(self, idx: int) -> bytes:
        piece = self._pieces.get(idx)
        if piece is None:
            piece = b"" if idx in self._special_ids else self._piece(idx, special=False)
            self._pieces[idx] = piece
        return piece

    def is_special(self, idx: int) -> bool:
        return idx in self._special_ids

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self.token_bytes)


def vocab_only_tokenizer(path: Path) -> GGUFTokenizer:
    """A GGUF's tokenizer without its weights (fast): to count tokens before sizing a context."""
    from app.engine.llamacpp_runtime import import_llama_cpp

    llama_cpp = import_llama_cpp()
    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    tok = GGUFTokenizer(llm._model)
    tok._owner = llm  # keep the model alive as long as the tokenizer
    return tok
