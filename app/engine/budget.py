"""The context budget: how many tokens a conversation needs and how much memory that takes.

`plan_context` decides, BEFORE anything is sent, whether document + history + question +
answer budget fit the context that is loaded, need a larger one (and whether free RAM or VRAM
allows it, weights included), or do not fit at all; then it lists the honest choices (a larger
context, dropping the oldest turns, cutting the document at a shown position). Nothing is
ever truncated here: a plan only describes, the caller asks the user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from app.sentences import say

CONTEXT_STEP = 256  # llama.cpp pads contexts to multiples of 256
MIN_CONTEXT = 2048
DOCUMENT_CONTEXT_STEP = 4096  # coarse steps keep a document's saved state reusable across questions
MAX_CONTEXT = 262_144  # InternLM2's needle test reached 200K characters (~60K tokens); 256K is the cap
MEMORY_MARGIN_BYTES = 512 * 1024 * 1024  # compute buffers, the app itself, the OS breathing room
_KV_SCALE = {"f32": 2.0, "f16": 1.0, "q8_0": 34 / 64}


def round_context(tokens: int, minimum: int = MIN_CONTEXT, step: int = CONTEXT_STEP) -> int:
    """The context length to allocate for `tokens`: rounded up to `step`, never below `minimum`."""
    need = max(tokens, minimum)
    return -(-need // step) * step


def kv_bytes(tokens: int, bytes_per_token_f16: int, kv_type: str = "f16") -> int:
    """KV-cache bytes for `tokens` (q8_0 is 34/64 of f16: 32 values + a scale in 34 bytes)."""
    return int(tokens * bytes_per_token_f16 * _KV_SCALE[kv_type])


@dataclass(frozen=True)
class ModelFacts:
    """What the budget needs to know about a model: KV bytes per token and the weights' size."""

    kv_bytes_per_token_f16: int
    weights_bytes: int
    trained_context: int

    @classmethod
    def from_gguf(cls, path: Path) -> ModelFacts:
        """Facts from a GGUF header; the weights are the file (llama.cpp maps it whole)."""
        from app.engine.gguf_meta import read_gguf_info

        info = read_gguf_info(path)
        return cls(info.kv_bytes_per_token_f16, Path(path).stat().st_size, info.context_length)

    @classmethod
    def from_checkpoint(cls, folder: Path, dtype_bytes: int = 2) -> ModelFacts:
        """Facts from a checkpoint folder; `dtype_bytes` 4 when the weights run in fp32 (CPU)."""
        from app.internlm2.config import load_config

        cfg = load_config(folder)
        on_disk = sum(p.stat().st_size for p in Path(folder).glob("*.safetensors"))
        return cls(cfg.kv_bytes_per_token_f16, on_disk * dtype_bytes // 2, cfg.max_position_embeddings)


@dataclass(frozen=True)
class FreeMemory:
    """Free memory where the KV cache will live: "RAM" or "VRAM"."""

    kind: str
    available: int


def free_memory(device: str = "cpu") -> FreeMemory:
    """Free VRAM (torch.cuda.mem_get_info) for a CUDA device, else available RAM (psutil)."""
    if device.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            free, _total = torch.cuda.mem_get_info(torch.device(device))
            return FreeMemory("VRAM", int(free))
    import psutil

    return FreeMemory("RAM", int(psutil.virtual_memory().available))


class Verdict(str, Enum):
    """How a prompt relates to the context."""

    FITS = "fits"  # fits the context that is loaded (or the one that will be loaded)
    NEEDS_LARGER = "needs_larger"  # fits a larger context, and the memory allows it
    DOES_NOT_FIT = "does_not_fit"  # not within what this machine's memory allows


class ChoiceKind(str, Enum):
    """What the user can do when the prompt is too big for the loaded context."""

    LARGER_CONTEXT = "larger_context"
    DROP_OLDEST_TURNS = "drop_oldest_turns"
    CUT_DOCUMENT = "cut_document"


@dataclass(frozen=True)
class Choice:
    """One way to make the prompt fit; `sentence` says it to the user."""

    kind: ChoiceKind
    n_ctx: int
    sentence: str
    drop_turns: int = 0
    keep_document_tokens: int = 0
    cut_at_char: int | None = None  # where the document would end (characters kept)


@dataclass(frozen=True)
class ContextPlan:
    """The budget's decision for one prompt, with the figures and a sentence for the user."""

    verdict: Verdict
    needed_tokens: int
    document_tokens: int
    current_ctx: int
    n_ctx: int  # the context to use: the current one, the larger one, or the largest affordable
    max_affordable_ctx: int
    memory: FreeMemory | None
    memory_needed: int  # extra bytes n_ctx needs beyond what is already allocated
    sentence: str
    choices: list[Choice] = field(default_factory=list)

    @property
    def fits_as_is(self) -> bool:
        return self.verdict is Verdict.FITS


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "n/a"


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if abs(n) >= 2**30 else f"{max(n, 0) / 2**20:.0f} MiB"


def plan_context(facts: ModelFacts, *, document_tokens: int, history_tokens: int = 0,
                 question_tokens: int = 0, answer_tokens: int = 1024, fixed_tokens: int = 0,
                 current_ctx: int = 0, kv_type: str = "f16", memory: FreeMemory | None = None,
                 weights_loaded: bool = False, turn_tokens: Sequence[int] = (),
                 max_context: int = MAX_CONTEXT, step: int = CONTEXT_STEP,
                 locate_cut: Callable[[int], int] | None = None) -> ContextPlan:
    """Decide whether a prompt fits, and what the choices are when it does not.

    `current_ctx` is the loaded context (0: no model loaded yet). `weights_loaded`: the weights
    already take their memory (then only the KV growth counts; otherwise weights + KV do).
    `turn_tokens` are the history's turns, oldest first (their sum is the history when
    `history_tokens` is 0). `locate_cut(keep_tokens)` maps kept document tokens to a
    character position, so the cut can be shown. `memory` None means unknown: not checked.
    """
    history = history_tokens or sum(turn_tokens)
    others = fixed_tokens + history + question_tokens + answer_tokens
    need = others + document_tokens
    per_token = kv_bytes(1, facts.kv_bytes_per_token_f16, kv_type) or 1
    held = kv_bytes(current_ctx, facts.kv_bytes_per_token_f16, kv_type) if weights_loaded else 0

    def extra_bytes(n_ctx: int) -> int:
        base = 0 if weights_loaded else facts.weights_bytes
        return base + kv_bytes(n_ctx, facts.kv_bytes_per_token_f16, kv_type) - held

    if memory is None:
        affordable = max_context
    else:
        budget = memory.available - MEMORY_MARGIN_BYTES - (0 if weights_loaded else facts.weights_bytes) + held
        affordable = min(max_context, max(0, budget) // per_token // CONTEXT_STEP * CONTEXT_STEP)
    affordable = max(affordable, current_ctx)
    doc_share = (say("The document takes {tokens} tokens", tokens=f"{document_tokens:,}") if document_tokens
                 else say("The conversation takes"))

    if current_ctx and need <= current_ctx:
        sentence = say("{share} of a {ctx}-token context ({percent}); with the conversation, the question "
                       "and room for a {answer}-token answer it needs {need} tokens: it fits.",
                       share=doc_share, ctx=f"{current_ctx:,}", percent=_share(document_tokens, current_ctx),
                       answer=f"{answer_tokens:,}", need=f"{need:,}")
        return ContextPlan(Verdict.FITS, need, document_tokens, current_ctx, current_ctx, affordable, memory,
                           0, sentence)

    wanted = round_context(need, step=step)
    if wanted <= affordable:
        extra = extra_bytes(wanted)
        where = (say(" ({extra} more {kind}; {free} free)", extra=_gib(extra), kind=memory.kind,
                     free=_gib(memory.available)) if memory else "")
        # Past the trained length the model runs on its long-context (dynamic NTK) scaling: say so.
        scaled = (say(" Positions past the model's trained {trained} tokens use its long-context "
                      "(dynamic NTK) scaling.", trained=f"{facts.trained_context:,}")
                  if facts.trained_context and wanted > facts.trained_context else "")
        if current_ctx:
            verdict = Verdict.NEEDS_LARGER
            sentence = say("{share} of a {ctx}-token context ({percent}); it needs {need} tokens in all, more "
                           "than the {current} loaded now: the model will be reloaded with a context of "
                           "{ctx} tokens{where}.{scaled}", share=doc_share, ctx=f"{wanted:,}",
                           percent=_share(document_tokens, wanted), need=f"{need:,}",
                           current=f"{current_ctx:,}", where=where, scaled=scaled)
        else:
            verdict = Verdict.FITS
            sentence = say("{share} of a {ctx}-token context ({percent}); it needs {need} tokens in all: the "
                           "model will be loaded with that context{where}.{scaled}", share=doc_share,
                           ctx=f"{wanted:,}", percent=_share(document_tokens, wanted), need=f"{need:,}",
                           where=where, scaled=scaled)
        larger = [Choice(ChoiceKind.LARGER_CONTEXT, wanted,
                         say("Use a context of {ctx} tokens{where}.{scaled}", ctx=f"{wanted:,}", where=where,
                             scaled=scaled))]
        return ContextPlan(verdict, need, document_tokens, current_ctx, wanted, affordable, memory, extra,
                           sentence, larger if current_ctx else [])

    # Does not fit in what this machine allows: say why, and list what would make it fit.
    target = affordable
    why = (say("this machine's free {kind} ({free}) allows at most {most}", kind=memory.kind,
               free=_gib(memory.available), most=f"{affordable:,}")
           if memory is not None and affordable < max_context
           else say("the app allows at most {most}", most=f"{max_context:,}"))
    sentence = say("{share}; with the conversation, the question and room for a {answer}-token answer it "
                   "needs {need} tokens, but {why}. Nothing was cut: choose what to do.", share=doc_share,
                   answer=f"{answer_tokens:,}", need=f"{need:,}", why=why)
    choices: list[Choice] = []
    dropped, freed = 0, 0
    for turn in turn_tokens:
        if need - freed <= target:
            break
        dropped, freed = dropped + 1, freed + turn
    if dropped and need - freed <= target:
        n_ctx = round_context(need - freed, step=step)
        choices.append(Choice(ChoiceKind.DROP_OLDEST_TURNS, min(n_ctx, target),
                              say("Leave out the {count} oldest turns ({freed} tokens); the document stays "
                                  "whole.", count=dropped, freed=f"{freed:,}") if dropped > 1 else
                              say("Leave out the oldest turn ({freed} tokens); the document stays whole.",
                                  freed=f"{freed:,}"), drop_turns=dropped))
    keep = target - others
    if document_tokens and 0 < keep < document_tokens:
        cut = locate_cut(keep) if locate_cut else None
        at = say(" (at character {cut})", cut=f"{cut:,}") if cut is not None else ""
        choices.append(Choice(ChoiceKind.CUT_DOCUMENT, target,
                              say("Cut the document after its first {keep} of {total} tokens{at}; the rest "
                                  "({percent}) is left out.", keep=f"{keep:,}", total=f"{document_tokens:,}",
                                  at=at, percent=_share(document_tokens - keep, document_tokens)),
                              keep_document_tokens=keep, cut_at_char=cut))
    return ContextPlan(Verdict.DOES_NOT_FIT, need, document_tokens, current_ctx, target, affordable, memory,
                       extra_bytes(target) if target > current_ctx else 0, sentence, choices)


# -- a bound that needs no tokenizer ------------------------------------------------------------
# Two facts about InternLM2's vocabulary (92,544 pieces; identity normaliser, no dummy prefix),
# checked piece by piece on the real tokenizer.model by bench/tokens_per_char.py:
# 1. no piece holds two runs of non-whitespace characters (whitespace: ASCII space, tab, line
#    ends), so a text needs at least one token per run ("word");
# 2. with w(c) = 1 / (the longest piece holding the character c), a piece's characters weigh at
#    most 1, so a text needs at least sum(w) tokens (byte-fallback tokens cover less than a
#    character: the bound holds for them too). 128 spaces are one piece, but no piece with a
#    letter is longer than 36 characters and none with a non-ASCII character longer than 15.
# The bound is the larger of the two: about 1/1.5 of the real count for English, 1/10 for
# Chinese, and exact-ish for runs of spaces.
_SPAN_OF_ASCII: dict[str, int] = {" ": 128, "/": 98, "-": 98, "*": 81, "\n": 81, "#": 80, "|": 77,
                                  "=": 74, "_": 64, ".": 64}
_SPAN_OTHER_ASCII = 36
_SPAN_NON_ASCII = 15
_SPANS = sorted({*_SPAN_OF_ASCII.values(), _SPAN_OTHER_ASCII, _SPAN_NON_ASCII})
_RUN_SPACES = b" \t\n\x0b\x0c\r"  # what separates two runs (as the vocabulary check counts)


def _span_table() -> bytes:
    """bytes.translate table: each UTF-8 byte -> index of its span in _SPANS (255: no character)."""
    table = bytearray(256)
    for byte in range(256):
        if byte < 0x80:
            span = _SPAN_OF_ASCII.get(chr(byte), _SPAN_OTHER_ASCII)
        elif byte >= 0xC0:  # the lead byte of a non-ASCII character
            span = _SPAN_NON_ASCII
        else:  # a continuation byte: the character was counted at its lead byte
            table[byte] = 255
            continue
        table[byte] = _SPANS.index(span)
    return bytes(table)


_SPAN_TABLE = _span_table()
_RUN_TABLE = bytes(0 if byte in _RUN_SPACES else 1 for byte in range(256))


def min_tokens_bound(text: str) -> int:
    """A lower bound on InternLM2's token count for `text`, without a tokenizer.

    Linear and cheap (translates and counts over the UTF-8 bytes: well under a second for
    20 M characters), never above the real count. A document whose bound passes every context
    cannot fit, so the fit check can say so before tokenizing it.
    """
    data = text.encode("utf-8", errors="surrogatepass")
    classes = data.translate(_SPAN_TABLE)
    weight = sum(classes.count(index) / span for index, span in enumerate(_SPANS))
    del classes
    marks = data.translate(_RUN_TABLE)
    runs = marks.count(b"\x00\x01") + (1 if marks[:1] == b"\x01" else 0)
    return max(runs, int(weight) - 1)  # the weight floored, one less for rounding


def bound_violations(pieces: Iterable[str]) -> list[str]:
    """The vocabulary pieces (as text: '\u2581' already a space) that would break the bound.

    Empty for InternLM2's vocabulary (bench/tokens_per_char.py checks the real one): no piece
    holds two runs of non-whitespace, and none is longer than the span of a character in it.
    """
    bad = []
    spaces = _RUN_SPACES.decode()
    for piece in pieces:
        words = "".join(" " if char in spaces else char for char in piece).split()
        if len(words) > 1:
            bad.append(f"{piece!r} holds {len(words)} runs of non-whitespace characters")
        for char in set(piece):
            span = (_SPAN_OF_ASCII.get(char, _SPAN_OTHER_ASCII) if ord(char) < 0x80
                    else _SPAN_NON_ASCII)
            if len(piece) > span:
                bad.append(f"{piece!r} is longer than the span of {char!r} ({span})")
                break
    return bad


def cannot_fit(text: str, max_tokens: int = MAX_CONTEXT) -> bool:
    """True when `text` alone needs more tokens than `max_tokens`, proved without tokenizing."""
    return min_tokens_bound(text) > max_tokens


def _bound_prefix(text: str, keep_tokens: int, chunk: int = 65_536) -> int:
    """A length past which every prefix of `text` surely holds more than `keep_tokens` tokens."""
    used = 0
    for start in range(0, len(text), chunk):
        used += min_tokens_bound(text[start:start + chunk])
        if used > keep_tokens:
            return start + chunk
    return len(text)


def cut_position(encode: Callable[[str], list[int]], text: str, keep_tokens: int) -> int:
    """The character position where `text` holds about `keep_tokens` tokens (never more).

    A search on prefixes, exact for any tokenizer. It only ever encodes prefixes up to about
    twice the cut, never the whole of a document far longer than the cut: it starts below
    `_bound_prefix` (no longer prefix can fit), gallops up from a typical 3 characters per
    token, then halves the gap.
    """
    if keep_tokens <= 0:
        return 0
    hi = _bound_prefix(text, keep_tokens)
    if hi == len(text) and len(encode(text)) <= keep_tokens:
        return len(text)
    lo = 0
    probe = min(hi, 3 * keep_tokens)
    while probe < hi:  # gallop: double a prefix that fits until one does not
        if len(encode(text[:probe])) > keep_tokens:
            hi = probe
            break
        lo, probe = probe, min(hi, 2 * probe)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if len(encode(text[:mid])) <= keep_tokens:
            lo = mid
        else:
            hi = mid
    return lo
