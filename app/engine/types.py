"""The backend contract's data: requests, streamed events, reply statistics, errors."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Protocol

from app.errors import UserError
from app.internlm2.chat_format import Sampling
from app.internlm2.tokenizer import SpecialTokens, StreamDecoder


class StopReason(str, Enum):
    """Why a reply ended."""

    EOS = "eos"
    STOP_TOKEN = "stop_token"
    MAX_TOKENS = "max_tokens"
    CONTEXT_FULL = "context_full"
    CANCELLED = "cancelled"
    ERROR = "error"
    PREFILLED = "prefilled"  # a prefill-only request (a document read ahead) completed


class EngineError(UserError):
    """A backend failure a user can act on (no model, out of memory, bad file, no GPU)."""


class ModelLoadError(EngineError):
    """The model file or folder could not be loaded."""


class OutOfMemory(EngineError):
    """The device ran out of memory; the message suggests a shorter context or another backend."""


class ContextOverflow(EngineError):
    """The prompt does not fit the context that was allocated."""


@dataclass(frozen=True)
class GenerateRequest:
    """One reply to produce from a prompt of token ids."""

    prompt_ids: list[int]
    sampling: Sampling = field(default_factory=Sampling)
    stop_ids: frozenset[int] = frozenset()
    prefill_only: bool = False  # read the prompt into the cache, produce no reply (documents)
    # Set it (from any thread) to stop this request; a fresh flag per request.
    cancel: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    @property
    def rope_length(self) -> int:
        """The length the conversation needs (prompt + answer budget): it picks the rope base.
        A prefill-only request counts the answer budget too, so the question that follows
        normally finds the same base (and the prefix it read still valid)."""
        return len(self.prompt_ids) + max(0, self.sampling.max_new_tokens)


@dataclass(frozen=True)
class PrefillProgress:
    """Prompt tokens read so far (cached ones count as read) and an estimate of the time left."""

    done: int
    total: int
    seconds_left: float | None


@dataclass(frozen=True)
class RopeRebase:
    """This request needs another rope base than the cache was computed with.

    The conversation crossed into another length bucket (app.internlm2.rope): keys cached under
    the old base are wrong under the new one, so the cache was dropped and the whole prompt is
    read again. Why the answer takes longer: the UI should say so, e.g. "The conversation is now
    longer than the model's trained context of {trained} tokens; it is read again with the
    long-context setting, so this answer takes longer." Comes before the first PrefillProgress.
    """

    old_base: float
    new_base: float
    length: int  # the length the new base is computed for (its bucket)
    trained: int  # the model's trained context
    dropped_tokens: int  # cached tokens that are read again


@dataclass(frozen=True)
class TextPiece:
    """New reply text (whole characters only)."""

    text: str


@dataclass(frozen=True)
class ReplyStats:
    """The figures of one reply, saved with it and shown in the status bar."""

    prompt_tokens: int
    cached_tokens: int
    new_tokens: int
    ttft_s: float
    tok_s: float
    prefill_s: float
    stop_reason: StopReason
    backend: str
    device: str
    model: str = ""
    error: str = ""
    rope_base: float = 0.0  # the rope base this reply was computed with
    rope_rebased: bool = False  # the base changed for it, so the whole prompt was read again

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop_reason"] = self.stop_reason.value
        return data


@dataclass(frozen=True)
class Finished:
    """The last event of every generation, cancelled and failed ones included."""

    text: str
    token_ids: list[int]
    stats: ReplyStats


Event = PrefillProgress | TextPiece | Finished | RopeRebase


class Tokenizer(Protocol):
    """What the engine and the prompt builder need from a tokenizer (ours or llama.cpp's)."""

    special: SpecialTokens

    @property
    def vocab_size(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int], *, skip_special: bool = True) -> str: ...

    def token_bytes(self, idx: int) -> bytes: ...

    def stream_decoder(self) -> StreamDecoder: ...


@dataclass(frozen=True)
class ModelInfo:
    """What the window knows of the loaded model (the worker's `loaded` signal carries it).

    The tokenizer travels with it so prompts are built off the GUI thread without anyone
    reaching into the backend; `vocab` names its vocabulary (token_cache.vocab_fingerprint).
    """

    model: str
    backend: str  # "llamacpp" or "torch"
    device: str  # the engine's line, e.g. "CPU, 8 threads"
    device_reason: str
    compute: str  # where the KV cache lives: "cpu", "cuda" or "mps" (the memory budget's device)
    n_ctx: int
    kv_type: str
    is_chat: bool
    path: str
    vocab: str
    vocab_size: int
    tokenizer: Tokenizer = field(compare=False, repr=False)
