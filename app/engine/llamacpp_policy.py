"""How the llama.cpp backend sets up each context: attention kernel, micro-batch, threads.

Chosen from bench/cpu_sweep.py's tables (bench/README.md, "CPU sweep"): every figure of a
context, from the first prefill to a follow-up against a long cache, was measured for each
setting in fresh processes, and the policy takes the setting that wins the phases the context
will spend its time in. The decisions are pure functions of the context's facts, so tests
check them without timing anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Without flash attention llama.cpp holds the attention scores of one micro-batch against the
# whole context (n_ubatch x n_ctx x heads floats); the micro-batch shrinks to keep that bounded.
SCORES_CAP_BYTES = 256 * 1024 * 1024
MIN_UBATCH = 64  # the cap then holds up to a 65,536-token context (16 heads)


@dataclass(frozen=True)
class ContextPolicy:
    """The settings of one llama.cpp context and the reason, for the log."""

    flash_attn: bool
    n_ubatch: int
    repack: bool  # the model's extra (repacking) buffer types, fixed when the weights load
    why: str
    reader: bool = False  # a second context on the plain layout reads long prompts (use_prompt_reader)
    reader_flash_attn: bool = False  # the reader's attention kernel (reader_flash_attention)
    reader_ubatch: int = 0  # and its micro-batch
    shallow: bool = False  # a small context with flash attention decodes the first tokens (use_shallow_decoder)


# A context at least this large was asked for to hold a document (the default chat context is
# 4,096; a document's "larger context" choice reloads the model with more): its time goes to
# reading, not to decoding.
LONG_CONTEXT = 8192


def use_flash_attention(requested: bool | None, kv_type: str, offloaded: bool) -> bool:
    """Flash attention on a GPU (and always for a q8_0 cache, which needs it); off on the CPU
    at every context size.

    On the CPU ggml's flash-attention kernel walks the whole KV cache once per query row and
    head. bench/cpu_sweep.py (AVX512 build, 1 thread, CPU time, so the shared machine's load
    does not count) measured it against the plain path phase by phase: it reads a prompt
    faster (+1-5% for 512 tokens, +9% for 4,096) and decodes as fast at depth 16, but every
    later token costs more (-5% at depth 512, -29% at 2,048, -42% at 4,096) and so does a
    24-token follow-up (+15% at 512, +90% at 2,048, +150% at 4,096). A chat decodes hundreds
    of tokens at a depth of at least its prompt, so even the shortest context spends more time
    where it loses than where it wins: there is no context size at which it pays on the CPU
    for the context as a whole. (Its lead at depth 16 pays for the first tokens alone: those
    decode on a small context of their own, use_shallow_decoder.) An explicit True/False from
    the caller wins, except for q8_0.
    """
    if kv_type == "q8_0":
        return True
    return offloaded if requested is None else requested


def micro_batch(n_batch: int, n_ctx: int, n_heads: int, flash_attn: bool) -> int:
    """n_ubatch: n_batch, or without flash attention as many rows as SCORES_CAP_BYTES allows
    (a power of two, at least MIN_UBATCH; on 2 cores 64 rows prefilled 2,000 tokens at 52 tok/s,
    512 rows at 51-60 tok/s)."""
    if flash_attn:
        return n_batch
    rows = SCORES_CAP_BYTES // max(1, n_ctx * max(1, n_heads) * 4)
    size = MIN_UBATCH
    while size * 2 <= min(rows, n_batch):
        size *= 2
    return min(n_batch, size)


def use_repacking(n_ctx: int, repack_allowed: bool, offloaded: bool, avx512: bool) -> bool:
    """Repack the weights (llama.cpp's extra CPU buffer types), except for a document-sized
    context on an AVX512 build, and never where the AMX guard forbids it (`repack_allowed`).

    Measured with bench/cpu_sweep.py (1 thread, CPU time): on an AVX512 build, repacked Q4_K
    weights decode faster (+18% at depth 16, +8% at 4,096) but read a prompt slower (52
    against 75 tok/s for 512 tokens, 38 against 50 for 4,096: the plain layout gets the
    AVX512 matrix kernels). A chat spends its time decoding; a context sized for a document
    spends it reading the document (16,000 tokens: about 100 s saved, against about 6 s lost
    over a 300-token answer). On the AVX2-only build repacking wins both (prefill 34 against
    33 tok/s, decode +17%), so it stays on everywhere there.
    """
    if not repack_allowed:
        return False
    return offloaded or not avx512 or n_ctx < LONG_CONTEXT


# A prefill of at least this many new tokens goes to the prompt reader: below it the two state
# copies (about 0.05 s per 1,000 cached tokens, bench/README.md) cost more than the faster
# reading saves.
READER_MIN_TOKENS = 128
# ... and at least 1/40 of what the decoder holds when it does (reader_min_tokens).
READER_DEPTH_RATIO = 40


def reader_min_tokens(cached: int) -> int:
    """The fewest new tokens a prefill needs to go to the reader when the decoder holds `cached`
    tokens: the cache goes to the reader and back (two copies, each converted between the V
    layouts), a cost that grows with `cached`, while reading on the plain layout saves a few
    milliseconds a token. Measured (bench/README.md, "Issue 17, session 6"; 2 threads, the
    best of 2 alternating tries each): after 2,000 cached tokens 128 new ones took 1.65 s
    through the reader against 1.96 s on the decoder; after 8,000, 128 took 4.02 against 3.44 s
    and 256 took 6.59 against 7.08 s (the copies about 1.5 s, the reading about 7 ms a token
    faster: even at about 200 tokens). So max(128, cached / 40): 128 up to 5,120 cached tokens,
    200 at 8,000, 400 at 16,000.
    """
    return max(READER_MIN_TOKENS, cached // READER_DEPTH_RATIO)


# The largest context that gets a prompt reader: a 16,384-token conversation with room for its
# answer. Past it a second KV cache (and the state copy's buffer, as large) costs gigabytes.
READER_MAX_CONTEXT = 20480


def use_prompt_reader(n_ctx: int, repack_allowed: bool, offloaded: bool, avx512: bool,
                      requested: bool | None = None, memory_ok: bool = False) -> bool:
    """On an AVX512 CPU build a context gets both weight layouts: the repacked one decodes
    (8-18% faster) and a second llama.cpp context on the plain layout reads the prompts (1.25-1.45x
    faster: use_repacking's figures). The KV cache goes from one to the other as llama.cpp's
    own state copy of sequence 0 (llama_state_seq_get_data / set_data) after a long prefill and
    before the next.

    It costs a second KV cache (96 KiB a token for 1.8B in f16: 384 MiB for 4,096 tokens, 1.5 GiB
    for 16,384), a buffer for the copy as large (made with the reader, its pages populated then:
    a page first touched mid-copy costs more than the copy), and the plain weights' pages (the
    GGUF is memory-mapped: they are the file's page cache). So it is for contexts up to READER_MAX_CONTEXT, where free
    memory holds all that with a margin (`memory_ok`, the backend's check); larger document
    contexts read on the plain layout alone. A copy moves about 3 GB/s (150 ms for 4,096
    tokens, and the V layout's conversion about 100 ms more: reader_flash_attention), once when
    a read ends and once before a long follow-up. Where the
    layouts agree (AVX2 builds, where repacking wins both; a GPU) or the AMX guard forbids
    repacking there is nothing to pair. An explicit True/False wins (tests, bench), but never
    without a repacked model to pair with.
    """
    if not repack_allowed or offloaded:
        return False
    if requested is not None:
        return requested
    return avx512 and memory_ok and n_ctx <= READER_MAX_CONTEXT


def reader_flash_attention(kv_type: str, requested: bool | None = None) -> bool:
    """The prompt reader runs flash attention over an f16 cache (unless asked otherwise: tests,
    bench), and never over an f32 one: llama.cpp casts K and V to f16 for flash attention, so
    the exactness an f32 cache is chosen for would be lost (0.0036 off the official logits
    where the plain kernel is within 2e-3, tests/test_rope.py). Over an f16 cache flash attention
    is what raw llama.cpp runs by default on the CPU.

    The reader only reads: the phases flash attention loses on the CPU (decode steps and short
    follow-ups against a deep cache, use_flash_attention) run on the decoder. Reading, it wins at
    every depth the reader serves: on the plain layout (2 threads, 512-token chunks) it read the
    first 512 tokens at 146 against 139 tok/s, the chunk at 4,096 at 81 against 71, the one at
    16,384 at 28 against 25, and all 16,384 at 49.4 against 43.2 tok/s (bench/README.md, "Issue
    17, session 6"). Its cache stores V row by row and the decoder's transposed, so each
    handover converts the copy (llamacpp_state.convert_v_layout: about 25 ms per 1,000 cached
    tokens, 0.3% of reading them), and the handover happens when a read ends, before the first
    token is sampled (Backend._prefill_done): its cost is the read's, not the reply's.
    """
    return kv_type == "f16" if requested is None else requested


# A decode step at a depth below SHALLOW_MAX runs with flash attention on a small second context
# of SHALLOW_CTX cells over the decoder's own (repacked) weights; from SHALLOW_MAX on, the decoder
# without flash attention takes the cache.
SHALLOW_MAX = 192
SHALLOW_CTX = 256


def use_shallow_decoder(n_ctx: int, flash_attn: bool, kv_type: str, offloaded: bool, repack: bool,
                        avx512: bool, requested: bool | None = None) -> bool:
    """Whether the first SHALLOW_MAX tokens of a context decode with flash attention.

    On the CPU flash attention decodes faster while the cache is short and slower once it is
    not. In the app's own two contexts (bench/shallow_decoder.py: single steps alternating
    between them at the same depth, an AMD Zen 4, 2 threads) it was ahead by 9.1% over depths
    16-48, 6.8% over 64-96, 3.6% over 100-132 and about 1% up to 192; raw llama-cpp-python
    (bench/cpu_pair.py) put it 5-9% ahead up to 160 and 7-10% behind at 256 and 512 there, and
    3% ahead up to 128 and behind from 256 on an Intel Xeon (bench/README.md, "Issue 17,
    sessions 8 and 9"). A chat's first reply starts decoding at about 110 tokens (the official
    system prompt and a question), a base model's or a bare question's much earlier. The
    shallow decoder is a second llama.cpp context on the same loaded model (no second copy of
    the weights): SHALLOW_CTX cells of KV cache (24 MiB for 1.8B in f16) and a small compute
    buffer. The decoder takes the cache at the first step past SHALLOW_MAX, converted between
    the V layouts (llamacpp_state; 17 ms for 192 tokens there, a third of one step, once).

    Only where it was measured and the decoder runs without flash attention: the CPU, an f16
    cache (flash attention would cast an f32 one to f16, losing the exactness it is chosen
    for), the repacked layout of an AVX512 build, and a context larger than the shallow one.
    An explicit True/False wins (tests, bench), but never with a GPU, flash attention already on
    or a context no larger than the shallow one.
    """
    if offloaded or flash_attn or n_ctx <= SHALLOW_CTX:
        return False
    if requested is not None:
        return requested
    return kv_type == "f16" and repack and avx512


def context_policy(n_ctx: int, n_batch: int, n_heads: int, kv_type: str, offloaded: bool,
                   requested_flash: bool | None = None, repack_allowed: bool = True,
                   avx512: bool = True, requested_reader: bool | None = None,
                   reader_memory_ok: bool = False, requested_reader_flash: bool | None = None,
                   requested_shallow: bool | None = None) -> ContextPolicy:
    """The attention kernel, micro-batch and weight layout for a context of n_ctx tokens (a
    batch never exceeds the context: llama-cpp-python cuts n_batch to n_ctx)."""
    n_batch = max(1, min(n_batch, n_ctx)) if n_ctx > 0 else n_batch
    flash = use_flash_attention(requested_flash, kv_type, offloaded)
    ubatch = micro_batch(n_batch, n_ctx, n_heads, flash)
    reader = not flash and use_prompt_reader(n_ctx, repack_allowed, offloaded, avx512, requested_reader,
                                             reader_memory_ok)
    repack = reader or use_repacking(n_ctx, repack_allowed, offloaded, avx512)  # the reader pairs with it
    if requested_flash is not None and kv_type != "q8_0":
        why = "flash attention as asked"
    elif kv_type == "q8_0":
        why = "flash attention: a q8_0 cache needs it"
    elif offloaded:
        why = "flash attention: the cache is on the GPU"
    else:
        why = "no flash attention: on the CPU it costs more per decoded token than it saves in prefill"
    layout = ("repacked weights" + (" (decode first)" if avx512 and not reader else "") if repack else
              "weights as in the file (the AMX guard)" if not repack_allowed else
              "weights as in the file (a document's context: prefill first)")
    reader_flash = reader and reader_flash_attention(kv_type, requested_reader_flash)
    reader_ubatch = micro_batch(n_batch, n_ctx, n_heads, reader_flash) if reader else 0
    if reader:
        layout += (f", prompts of max({READER_MIN_TOKENS}, cached/{READER_DEPTH_RATIO})+ new tokens read on the plain layout"
                   f" ({'with' if reader_flash else 'without'} flash attention, n_ubatch {reader_ubatch})")
    shallow = use_shallow_decoder(n_ctx, flash, kv_type, offloaded, repack, avx512, requested_shallow)
    if shallow:
        layout += f", the first {SHALLOW_MAX} tokens decoded with flash attention"
    return ContextPolicy(flash, ubatch, repack, f"{why}; n_ubatch {ubatch}; {layout}; a {n_ctx:,}-token context",
                         reader, reader_flash, reader_ubatch, shallow)


def physical_cores() -> int:
    """Physical cores (llama.cpp runs best with one thread per core)."""
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
        if n:
            return int(n)
    except ImportError:
        pass
    return max(1, (os.cpu_count() or 2) // 2)


def default_threads(cores: int | None = None) -> int:
    """The thread count when the user set none: one per physical core, leaving one core for
    the window (and the rest of the desktop) on machines with more than four."""
    n = physical_cores() if cores is None else cores
    return n - 1 if n > 4 else max(1, n)


def choose_threads(requested: int | None, cpus: int | None = None) -> int:
    """The thread count to run with: the user's (Settings), at most one per logical CPU (more
    threads than CPUs only wait for each other in llama.cpp's barriers), else default_threads()."""
    if not requested or requested < 1:
        return default_threads()
    return max(1, min(requested, cpus or os.cpu_count() or requested))
