"""The llama.cpp backend: a GGUF through llama-cpp-python, prefix reuse, abortable prefill."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.engine.backend import Aborted, Backend
from app.engine.budget import free_memory, kv_bytes
from app.engine.gguf_meta import GGUFInfo, read_gguf_info
from app.engine.gguf_tokenizer import GGUFTokenizer
from app.engine.llamacpp_policy import (  # noqa: F401  (the policy's names, importable from here too)
    MIN_UBATCH,
    READER_MAX_CONTEXT,
    READER_MIN_TOKENS,
    SCORES_CAP_BYTES,
    SHALLOW_CTX,
    SHALLOW_MAX,
    choose_threads,
    context_policy,
    default_threads,
    micro_batch,
    physical_cores,
    reader_min_tokens,
    use_flash_attention,
)
from app.engine.llamacpp_runtime import (
    build_has_avx512,
    check_cpu,
    import_llama_cpp,
    repacking_allowed,
    safe_model_params,
)
from app.engine.llamacpp_state import StateFormatError, convert_v_layout
from app.engine.types import EngineError, ModelLoadError, OutOfMemory
from app.internlm2.chat_format import Sampling
from app.internlm2.rope import RopeScaling
from app.sentences import say

_log = logging.getLogger(__name__)
KV_TYPES = {"f32": 0, "f16": 1, "q8_0": 8}  # GGML_TYPE_*
_PENALTY_LAST_N = 64


def _recreate(owner: Any, base: float) -> None:
    """The llama.cpp context of `owner` (a llama_cpp.Llama or a _SideContext) made again with this
    rope base, the old one freed first (its cache is dropped); ValueError if llama.cpp cannot."""
    from llama_cpp._internals import LlamaContext

    owner._ctx.close()
    owner.context_params.rope_freq_base = base
    owner.n_tokens = 0
    owner._ctx = LlamaContext(model=owner._model, params=owner.context_params, verbose=False)


class _SideContext:
    """A llama.cpp context of its own over a model the backend has already loaded (the shallow
    decoder: llamacpp_policy.use_shallow_decoder), with what the backend uses of llama_cpp.Llama
    (`eval`, `n_tokens`, `_ctx`, `context_params`) and no second copy of the weights."""

    def __init__(self, model: Any, params: Any, n_batch: int) -> None:
        from llama_cpp._internals import LlamaBatch, LlamaContext

        self._model = model
        self.context_params = params
        self.n_batch = n_batch
        self._ctx = LlamaContext(model=model, params=params, verbose=False)
        self._batch = LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=1, verbose=False)
        self.n_tokens = 0

    def eval(self, tokens: list[int]) -> None:
        """As Llama.eval: append the tokens to the cache, the logits after the last (a failed
        decode raises RuntimeError with llama.cpp's code last, as Llama's does)."""
        self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
        for i in range(0, len(tokens), self.n_batch):
            batch = tokens[i:i + self.n_batch]
            self._batch.set_batch(batch=batch, n_past=self.n_tokens, logits_all=False)
            self._ctx.decode(self._batch)
            self.n_tokens += len(batch)

    def close(self) -> None:
        self._ctx.close()
        self._batch.close()


class LlamaCppBackend(Backend):
    """Runs a GGUF on the CPU, Metal or CUDA (n_gpu_layers), with the context sized by the caller.

    The rope base follows the conversation (Backend.prepare_rope): the GGUF's unscaled base up
    to the trained length, the dynamic-NTK base of the conversation's length bucket past it
    (the GGUF holds only the unscaled base; the app's exporter adds the scaling keys). llama.cpp
    fixes the base when a context is created, so a change of base creates the context again
    (the weights stay loaded). `rope_base` given explicitly fixes the base for good.
    """

    name = "llamacpp"

    def __init__(self, path: Path | str, *, n_ctx: int = 4096, n_threads: int | None = None,
                 n_gpu_layers: int | None = None, kv_type: str = "f16", flash_attn: bool | None = None,
                 rope_base: float | None = None, n_batch: int = 512, prompt_reader: bool | None = None,
                 reader_flash_attn: bool | None = None, shallow_decoder: bool | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        super().__init__()
        path = Path(path)
        if not path.is_file():
            raise ModelLoadError(say("There is no model file at {path}.", path=path),
                                 say("Pick a .gguf file or convert a checkpoint first."))
        self.info: GGUFInfo = read_gguf_info(path)
        llama_cpp = import_llama_cpp()
        check_cpu()
        if kv_type not in KV_TYPES:
            raise EngineError(say("Unknown KV cache type {kv_type!r}.", kv_type=kv_type), say("Choose f16 or q8_0."))
        gpu = bool(llama_cpp.llama_supports_gpu_offload())
        layers = n_gpu_layers if n_gpu_layers is not None else (-1 if gpu else 0)
        threads = choose_threads(n_threads)
        scaling = self.rope_scaling_of(self.info) if rope_base is None else None
        base = scaling.base_for(0, n_ctx) if scaling is not None else float(rope_base or self.info.rope_base)
        # The context's attention kernel and micro-batch (app/engine/llamacpp_policy.py).
        offloaded = gpu and layers != 0
        avx512 = build_has_avx512()
        repack_allowed = repacking_allowed()
        # free memory is looked up only where the policy would pair the layouts on it
        memory_ok = (prompt_reader is None and avx512 and repack_allowed and not offloaded
                     and n_ctx <= READER_MAX_CONTEXT and self._reader_fits(path, n_ctx, kv_type))
        self.policy = context_policy(n_ctx, n_batch, self.info.n_heads, kv_type, offloaded=offloaded,
                                     requested_flash=flash_attn, repack_allowed=repack_allowed,
                                     avx512=avx512, requested_reader=prompt_reader, reader_memory_ok=memory_ok,
                                     requested_reader_flash=reader_flash_attn,
                                     requested_shallow=shallow_decoder)
        self.flash_attn = self.policy.flash_attn
        self.n_ubatch = self.policy.n_ubatch
        _log.info("llama.cpp context: %s", self.policy.why)
        if progress:
            progress(0, 1)

        def _open(repack: bool, flash: bool, gpu_layers: int, ubatch: int) -> Any:
            """The model with one weight layout and its context (the reader's differs in layout,
            attention kernel and micro-batch)."""
            with safe_model_params(extra_bufts=repack):
                return llama_cpp.Llama(
                    model_path=str(path), n_ctx=n_ctx, n_batch=n_batch, n_ubatch=ubatch,
                    n_threads=threads, n_threads_batch=threads, n_gpu_layers=gpu_layers,
                    type_k=KV_TYPES[kv_type], type_v=KV_TYPES[kv_type],
                    flash_attn=flash, rope_freq_base=base, logits_all=False, verbose=False,
                )

        try:
            self._llm = _open(self.policy.repack, self.flash_attn, layers, self.n_ubatch)
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(
                say("llama.cpp could not load {name} with a context of {n_ctx} tokens.", name=path.name,
                    n_ctx=f"{n_ctx:,}"),
                say("The file may be damaged or not a GGUF; convert the model again, or choose a smaller context."),
                str(exc),
            ) from exc
        self._ctx = self._llm._ctx
        # The prompt reader (llamacpp_policy.use_prompt_reader): the same model on the plain
        # layout, with its own context. The shallow decoder (use_shallow_decoder): a small
        # context with flash attention over the decoder's own model. `_holder` is the one of
        # the three that holds the newest KV cache.
        self._reader: Any = None
        self._shallow: _SideContext | None = None
        self._holder: Any = self._llm
        self._logits_llm: Any = self._llm  # the context whose logits are the newest
        self._copy_map: Any = None  # the state copy's buffer (an anonymous mmap) and its address
        self._copy_ptr: Any = None
        self.reader_flash_attn = self.policy.reader_flash_attn
        if self.policy.reader:
            try:
                self._reader = _open(False, self.reader_flash_attn, 0, self.policy.reader_ubatch)
            except (ValueError, RuntimeError) as exc:  # the chat still works without it
                _log.warning("llama.cpp: no prompt reader (%s)", exc)
        if self.policy.shallow:
            params = llama_cpp.llama_context_params.from_buffer_copy(self._llm.context_params)
            params.n_ctx = params.n_batch = params.n_ubatch = SHALLOW_CTX
            params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
            try:
                self._shallow = _SideContext(self._llm._model, params, SHALLOW_CTX)
            except ValueError as exc:  # the chat still works without it
                _log.warning("llama.cpp: no shallow decoder (%s)", exc)
        if progress:
            progress(1, 1)
        self.tokenizer = GGUFTokenizer(self._llm._model)
        # llama.cpp pads the context (to 256), but llama-cpp-python sizes its token buffer by the
        # n_ctx asked for: that is the limit.
        self.n_ctx = min(n_ctx, int(self._llm.n_ctx())) if n_ctx > 0 else int(self._llm.n_ctx())
        self.rope_scaling = scaling
        self.rope_base = base
        self.path = path  # the model file and KV type key a saved document state (doc_cache)
        self.kv_type = kv_type
        if self._reader is not None or self._shallow is not None:
            self._copy_buffer(0)  # its pages now, as llama.cpp's own caches get theirs
        self.prefill_chunk = n_batch
        self.n_threads = threads
        self.model_name = path.stem
        self.is_chat = self.info.is_chat
        offload = "all" if layers < 0 else str(layers)
        self.offloaded = gpu and layers != 0  # the KV cache lives on the GPU (ModelInfo.compute)
        if gpu and layers != 0:
            self.device = f"GPU offload ({offload} layers) + CPU, {threads} threads"
            self.device_reason = "this llama.cpp build can offload to the GPU"
        else:
            self.device = f"CPU, {threads} threads"
            self.device_reason = ("this llama.cpp build has no GPU support" if not gpu
                                  else "GPU offload is switched off in Settings")
        self._sampler: Any = None
        # ggml calls the abort callback after every graph node (~430 a token for 1.8B): a Python
        # call that must take the GIL each time, which a busy GUI thread holds. So it is armed
        # only while a prefill chunk runs; decode steps are short and are cancelled between tokens.
        self._abort_cb = llama_cpp.ggml_abort_callback(self._should_abort)
        self._no_abort_cb = llama_cpp.ggml_abort_callback(0)  # a null function pointer
        self._set_abort = llama_cpp.llama_set_abort_callback
        self._aborting = False

    def _reader_fits(self, path: Path, n_ctx: int, kv_type: str) -> bool:
        """Whether free memory holds the reader's KV cache, the state copy's buffer (as large),
        the plain weights' pages and 1 GiB to spare (else the policy reads without a reader)."""
        try:
            free = free_memory("cpu").available
        except (ImportError, OSError):
            return False
        need = 2 * kv_bytes(n_ctx, self.info.kv_bytes_per_token_f16, kv_type) + path.stat().st_size + (1 << 30)
        if free < need:
            _log.info("llama.cpp: no prompt reader (%d MiB free, %d MiB needed)", free >> 20, need >> 20)
            return False
        return True

    @property
    def has_prompt_reader(self) -> bool:
        """Whether long prompts are read on the plain layout (llamacpp_policy.use_prompt_reader)."""
        return self._reader is not None

    @property
    def has_shallow_decoder(self) -> bool:
        """Whether the first tokens decode with flash attention (llamacpp_policy.use_shallow_decoder)."""
        return self._shallow is not None

    @property
    def _reading(self) -> bool:
        """Whether the prompt reader holds the newest cache."""
        return self._reader is not None and self._holder is self._reader

    @staticmethod
    def rope_scaling_of(info: GGUFInfo) -> RopeScaling:
        """The GGUF's rope facts (dynamic NTK only where the app's exporter recorded it)."""
        dynamic = info.rope_scaling == "dynamic" and bool(info.rope_factor)
        return RopeScaling(float(info.rope_base), info.head_dim, info.context_length,
                           float(info.rope_factor) if dynamic and info.rope_factor else None)

    def _set_rope_base(self, base: float) -> None:
        """Create the llama.cpp context again with this base (the old one is freed first, so
        the KV cache is never held twice)."""
        self._holder = self._logits_llm = self._llm
        for name, what in (("_shallow", "shallow decoder"), ("_reader", "prompt reader")):
            side = getattr(self, name)  # the side contexts first, with the new base, or dropped
            if side is None:
                continue
            try:
                _recreate(side, base)
            except ValueError:
                _log.warning("llama.cpp: the %s is dropped (its context could not be set up again)", what)
                side.close()
                setattr(self, name, None)
        llm = self._llm
        old_base = float(llm.context_params.rope_freq_base)
        for attempt in (base, old_base):
            try:
                _recreate(llm, attempt)
            except ValueError:
                continue
            self._ctx = llm._ctx
            if attempt == base:
                return
            break
        else:
            raise ModelLoadError(say("llama.cpp could not set up its context again."), say("Load the model again."))
        raise OutOfMemory(
            say("There is not enough memory to read a conversation of this length ({n_ctx}-token context).",
                n_ctx=f"{self.n_ctx:,}"),
            say("Close other programs, or load the model with a smaller context."))

    def _should_abort(self, _data: Any) -> bool:
        return self._aborting and self._cancel.is_set()

    # -- primitives --------------------------------------------------------------------------
    def _trim(self, n: int) -> None:
        if n == 0:  # an empty cache starts on the decoder
            self._holder = self._llm
        holder = self._holder  # the newest cache is trimmed where it is
        holder._ctx.kv_cache_seq_rm(-1, n, -1)
        holder.n_tokens = n

    def _copy_state(self, src: Any, dst: Any) -> None:
        """The KV cache of `src` into `dst`: llama.cpp's state copy of sequence 0 (the whole-
        context one first zeroes the whole destination cache, 5x slower here). The logits stay
        behind, so the next token is sampled where they are (`_logits_llm`). Both contexts run
        the same model with the same parameters; only the weights' layout differs."""
        llama_cpp = import_llama_cpp()
        size = int(llama_cpp.llama_state_seq_get_size(src._ctx.ctx, 0))
        buf = self._copy_buffer(size)
        written = int(llama_cpp.llama_state_seq_get_data(src._ctx.ctx, buf, size, 0))
        why = "the state copy between two llama.cpp contexts failed"
        if written and self._flash_of(src) != self._flash_of(dst):  # the V layouts differ: convert
            try:
                convert_v_layout(self._copy_map, written, transposed=not self._flash_of(src))
            except StateFormatError as exc:
                why = f"{why}: {exc}"
                written = 0
        if written == 0 or int(llama_cpp.llama_state_seq_set_data(dst._ctx.ctx, buf, written, 0)) != written:
            raise EngineError(say("llama.cpp failed while computing."),
                              say("Try again; if it keeps failing, load the model again."), why)
        dst.n_tokens = src.n_tokens

    def _flash_of(self, llm: Any) -> bool:
        """Whether this context (the decoder, the reader or the shallow decoder) runs flash attention: its V is then
        stored row by row, otherwise transposed."""
        if llm is self._shallow:
            return True
        return self.reader_flash_attn if llm is self._reader else self.flash_attn

    def _copy_buffer(self, size: int) -> Any:
        """A buffer of at least `size` bytes for the state copy, kept for the next one.

        It is one anonymous mmap the size of a full cache's copy (of the shallow decoder's cache
        where there is no reader: no other copy is made then), made when the reader is (as
        llama.cpp clears each KV cache when it makes it) and populated then: a page first
        touched during a copy cost more than the copy itself (a fresh 295 MB buffer: 0.8 s
        against 0.05 s once its pages were there).
        """
        import mmap

        if self._copy_map is None or len(self._copy_map) < size:
            if self._copy_map is not None:
                self._copy_ptr = None
                self._copy_map.close()
            cap = self.n_ctx if self._reader is not None else min(self.n_ctx, SHALLOW_CTX)
            cells = 16 * cap  # each cell's position and sequence count, besides its K and V
            length = max(size, kv_bytes(cap, self.info.kv_bytes_per_token_f16, self.kv_type) + cells + (1 << 20))
            populate = getattr(mmap, "MAP_POPULATE", 0)
            if populate:
                self._copy_map = mmap.mmap(-1, length, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
            else:
                self._copy_map = mmap.mmap(-1, length)
            self._copy_ptr = ctypes.cast(ctypes.addressof(ctypes.c_char.from_buffer(self._copy_map)),
                                         ctypes.POINTER(ctypes.c_uint8))
            if not populate:
                ctypes.memset(self._copy_ptr, 0, length)  # the pages, now rather than mid-copy
        return self._copy_ptr

    def _prefill_done(self) -> None:
        """A read ended on the reader: the decoding context takes the cache now, before the
        first token is sampled (from the reader's logits), so the handover is the read's time,
        and the reply streams without a pause after its first token."""
        if self._reading:
            self._move_to(self._decoder_for(self._holder.n_tokens + 1))

    def _decoder_for(self, end: int) -> Any:
        """The context that decodes into a cache of `end` tokens: the shallow decoder up to
        SHALLOW_MAX (llamacpp_policy.use_shallow_decoder), the decoder past it."""
        return self._shallow if self._shallow is not None and end <= SHALLOW_MAX else self._llm

    def _move_to(self, target: Any) -> None:
        """The newest cache into `target` (a state copy, its V layout converted where the two
        kernels store it differently); the holder changes only once the copy is done."""
        holder = self._holder
        if target is holder:
            return
        if holder.n_tokens:
            self._copy_state(holder, target)
        else:
            target._ctx.kv_cache_seq_rm(-1, 0, -1)
            target.n_tokens = 0
        self._holder = target

    def _forward(self, ids: list[int]) -> None:
        # A long prefill's chunks go to the reader, its last short chunk too; decode steps (one
        # token) and short prefills (reader_min_tokens: shorter than the copies are worth, which
        # grows with the cache) go to a decoding context: the shallow decoder while the cache
        # stays short, the decoder after; each takes the cache from where it is first.
        held = self._holder.n_tokens
        if self._reader is not None and ((self._reading and len(ids) > 1) or len(ids) >= reader_min_tokens(held)):
            llm = self._reader
        else:
            llm = self._decoder_for(held + len(ids))
        self._move_to(llm)
        self._logits_llm = llm
        ctx = llm._ctx
        self._aborting = len(ids) > 1  # abort inside a prefill chunk; decode steps are short
        if self._aborting:
            self._set_abort(ctx.ctx, self._abort_cb, None)
        try:
            llm.eval(ids)
        except RuntimeError as exc:
            code = str(exc).rsplit(" ", 1)[-1]
            if code == "2" and self._cancel.is_set():
                raise Aborted from exc
            if code == "1":
                raise OutOfMemory(
                    say("llama.cpp found no room in its KV cache for these tokens."),
                    say("Use a larger context or a shorter conversation."),
                ) from exc
            raise EngineError(say("llama.cpp failed while computing."),
                              say("Try again; if it keeps failing, load the model again."), str(exc)) from exc
        finally:
            if self._aborting:
                self._set_abort(ctx.ctx, self._no_abort_cb, None)
            self._aborting = False

    def _start_sampling(self, sampling: Sampling, history: list[int]) -> None:
        from llama_cpp._internals import LlamaSampler

        if self._sampler is not None:
            self._sampler.close()
        s = LlamaSampler()
        if sampling.repetition_penalty != 1.0:
            s.add_penalties(self._llm.n_vocab(), _PENALTY_LAST_N, sampling.repetition_penalty, 0.0, 0.0)
            for tok in history[-_PENALTY_LAST_N:]:
                s.accept(tok)
        if sampling.temperature <= 0:
            s.add_greedy()
        else:
            if sampling.top_k and sampling.top_k > 0:
                s.add_top_k(sampling.top_k)
            if 0 < sampling.top_p < 1.0:
                s.add_top_p(sampling.top_p, 1)
            s.add_temp(sampling.temperature)
            seed = sampling.seed if sampling.seed is not None else int.from_bytes(os.urandom(4), "little")
            s.add_dist(seed & 0xFFFFFFFF)
        self._sampler = s

    def _sample(self) -> int:
        return int(self._sampler.sample(self._logits_llm._ctx, -1))

    def last_logits(self) -> Any:
        """The logits after the last token run (numpy float32 copy): for tests and checks."""
        import numpy as np

        ptr = self._logits_llm._ctx.get_logits_ith(-1)
        return np.ctypeslib.as_array(ptr, shape=(self._llm.n_vocab(),)).copy()

    def unload(self) -> None:
        super().unload()
        if self._sampler is not None:
            self._sampler.close()
            self._sampler = None
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.close()
            self._reader = None
        shallow = getattr(self, "_shallow", None)
        if shallow is not None:
            shallow.close()
            self._shallow = None
        self._holder = self._logits_llm = None  # no reference keeps a freed context alive
        if getattr(self, "_copy_map", None) is not None:
            self._copy_ptr = None
            with contextlib.suppress(BufferError):  # a pointer still exported: freed with the object
                self._copy_map.close()
            self._copy_map = None
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.close()
            del self._llm

    # -- saved state (a document read once) ----------------------------------------------------
    def save_state(self, path: Path) -> None:
        """Write the KV cache and its tokens to `path` (atomically)."""
        llama_cpp = import_llama_cpp()
        self._move_to(self._llm)  # the file is the decoder's cache
        tmp = path.with_name(path.name + ".part")
        arr = (llama_cpp.llama_token * len(self._tokens))(*self._tokens)
        ok = llama_cpp.llama_state_save_file(self._ctx.ctx, str(tmp).encode(), arr, len(self._tokens))
        if not ok:
            tmp.unlink(missing_ok=True)
            raise EngineError(say("Could not save the model state to {path}.", path=path),
                              say("Check the free disk space."))
        os.replace(tmp, path)

    def load_state(self, path: Path) -> list[int]:
        """Restore a state written by save_state; returns its tokens. A bad file raises EngineError."""
        llama_cpp = import_llama_cpp()
        self._holder = self._logits_llm = self._llm  # the decoding context's cache is replaced as a whole
        cap = self.n_ctx
        arr = (llama_cpp.llama_token * cap)()
        count = ctypes.c_size_t(0)
        ok = llama_cpp.llama_state_load_file(self._ctx.ctx, str(path).encode(), arr, cap, ctypes.byref(count))
        if not ok:
            self._reset_cache()
            raise EngineError(say("The saved model state {name} cannot be used.", name=path.name),
                              say("The reading is done again from the start."))
        self._tokens = list(arr[: count.value])
        self._llm.n_tokens = len(self._tokens)
        return list(self._tokens)
