"""Tokenizer identity and the document-token cache: a document is tokenized once per model.

`vocab_fingerprint(tok)` names a vocabulary: a hash of every token's bytes and the special
ids, computed once per tokenizer object (about 0.1 s for InternLM2's 92,544 tokens). Two
tokenizers with the same fingerprint give the same ids for the same text, so the GGUF's
vocabulary-only tokenizer the command line counts with and the loaded model's tokenizer share
one entry, and a reply's stored ids are reused only under the fingerprint that made them.

`DocumentTokens` holds the ids of a document's turn keyed by (fingerprint, content hash, chat
or base): the pane's count, the fit check, the read-ahead and every question's prompt take
them from here instead of tokenizing the document again. Entries are kept as 4-byte arrays and
the cache is bounded by its total token count (least recently used out first). Thread-safe:
helper threads count while the inference thread builds the read-ahead's prefix.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

_fingerprints: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_fp_lock = threading.Lock()


def vocab_fingerprint(tok: Any) -> str:
    """A short stable name for the tokenizer's vocabulary (memoized per tokenizer object)."""
    with _fp_lock:
        known = _fingerprints.get(tok)
    if known is not None:
        return known
    digest = hashlib.sha256()
    size = int(tok.vocab_size)
    specials = sorted((str(k), int(v)) for k, v in tok.special.by_name.items())
    digest.update(repr((size, int(tok.special.bos), int(tok.special.eos), specials)).encode())
    for idx in range(size):
        piece = tok.token_bytes(idx)
        digest.update(len(piece).to_bytes(2, "little"))
        digest.update(piece)
    value = digest.hexdigest()[:16]
    with _fp_lock:
        _fingerprints[tok] = value
    return value


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class DocumentTokens:
    """An LRU of document ids bounded by the total number of tokens it holds."""

    def __init__(self, max_tokens: int = 4_000_000, max_entries: int = 16) -> None:
        self.max_tokens = max_tokens
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str, bool], array[int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.encodes = 0  # how many times a document was actually tokenized (tests, bench)

    def get(self, key: tuple[str, str, bool], encode: Callable[[], Sequence[int]]) -> list[int]:
        """The ids under `key`, made with `encode()` on a miss (outside the lock)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit.tolist()
        ids = list(encode())
        with self._lock:
            self.encodes += 1
            if key not in self._entries and len(ids) <= self.max_tokens:
                self._entries[key] = array("i", ids)
                self._size += len(ids)
                while self._size > self.max_tokens or len(self._entries) > self.max_entries:
                    _, old = self._entries.popitem(last=False)
                    self._size -= len(old)
        return ids

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0


DOCUMENT_TOKENS = DocumentTokens()
"""The process's one cache (the window, `ask` and `needle` all use it)."""
