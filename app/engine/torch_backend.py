"""The PyTorch backend: InternLM2 as transformers' LlamaForCausalLM, with KV-cache prefix reuse."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.engine.backend import Aborted, Backend
from app.engine.devices import DeviceChoice, pick_device
from app.engine.torch_sampling import TorchSampler
from app.engine.torch_static import StaticDecoder
from app.engine.types import EngineError, ModelLoadError, OutOfMemory
from app.internlm2.chat_format import Sampling
from app.internlm2.checkpoint import open_checkpoint
from app.internlm2.errors import CheckpointError, TokenizerError
from app.internlm2.llama_map import load_llama_model
from app.internlm2.rope import RopeScaling
from app.internlm2.tokenizer import InternLM2Tokenizer
from app.sentences import say

_log = logging.getLogger(__name__)


def _is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


class TorchBackend(Backend):
    """Runs an InternLM2 checkpoint folder on CUDA (bf16), Apple MPS (fp16) or the CPU (fp32).

    The rope base follows the conversation as on the llama.cpp backend (Backend.prepare_rope):
    one base for a whole conversation bucket instead of transformers' per-forward dynamic
    update, so cached keys stay valid while a conversation grows within its bucket, and both
    backends give the same tokens.
    """

    name = "torch"

    def __init__(self, folder: Path | str, *, device: str = "auto", dtype: str | None = None,
                 n_ctx: int | None = None, static_cache: bool | None = None,
                 compile_decode: bool | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        super().__init__()
        import torch

        self._torch = torch
        folder = Path(folder)
        self.choice: DeviceChoice = pick_device(device, dtype)
        try:
            ckpt = open_checkpoint(folder)
            self.tokenizer = InternLM2Tokenizer.from_folder(folder)
            self.config = ckpt.config
            self.model = load_llama_model(ckpt, self.choice.device, self.choice.dtype, progress=progress)
            ckpt.close()
        except (CheckpointError, TokenizerError) as exc:
            raise ModelLoadError(exc.message, exc.hint, exc.detail) from exc
        except Exception as exc:
            if _is_oom(exc):
                raise OutOfMemory(
                    say("{device} does not have enough free memory for this model.", device=self.choice.label),
                    say("Close other programs using the GPU, or use the llama.cpp (GGUF) backend."),
                ) from exc
            raise
        self.device = self.choice.label
        self.device_reason = self.choice.reason
        self.model_name = folder.name
        eos_ids = set(self.config.generation_eos_ids)
        im_end = self.tokenizer.special.im_end
        self.is_chat = im_end is not None and (im_end in eos_ids or (folder / "tokenizer_config.json").exists()
                                               and "chat_template" in (folder / "tokenizer_config.json").read_text())
        # CUDA: 4,096-token chunks read 50K tokens in 1.35 s on an H100 (2,048: 1.98 s; 8,192: 1.30 s);
        # cancel is still checked between layers.
        self.prefill_chunk = 4096 if self.choice.device.startswith("cuda") else 256
        self._cache: Any = None
        # transformers 5.x renamed past_key_values to cache; older releases know only the former.
        params = inspect.signature(self.model.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"
        self._logits: Any = None
        self._sampler: TorchSampler | None = None
        self._static: StaticDecoder | None = None
        cuda = self.choice.device.startswith("cuda")
        if static_cache if static_cache is not None else cuda:
            self._static = StaticDecoder(
                self.model, graphs=cuda, compile_step=compile_decode if compile_decode is not None else cuda,
                cancelled=lambda: self._cancel.is_set())
        self.rope_scaling = RopeScaling.from_config(self.config)
        self.set_context(n_ctx or self.config.max_position_embeddings)

    # -- context -----------------------------------------------------------------------------
    def set_context(self, n_ctx: int) -> None:
        """Set the context length (the cache is dropped); the rope base is the unscaled one until
        a request needs more than the trained length (prepare_rope)."""
        assert self.rope_scaling is not None
        self.n_ctx = n_ctx
        self._reset_cache()
        self._set_rope_base(self.rope_scaling.base_for(0, n_ctx))
        self.rope_base = self.rope_scaling.base_for(0, n_ctx)

    def _set_rope_base(self, base: float) -> None:
        """Write the inverse frequencies of `base` into the rotary embedding, in place (the static
        decoder and its CUDA graph read that same tensor)."""
        torch = self._torch
        d = self.config.head_dim
        rotary = self.model.model.rotary_emb
        inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        inv = inv.float().to(rotary.inv_freq.device)
        rotary.rope_type = "default"  # no per-forward dynamic update: the base is fixed
        rotary.inv_freq.copy_(inv)
        rotary.original_inv_freq = inv.clone()

    # -- primitives --------------------------------------------------------------------------
    @property
    def decode_mode(self) -> str:
        """How decode steps run: "eager", "static cache", "CUDA graph (+ torch.compile)"."""
        if self._static is None:
            return "eager"
        return "static cache" if self._static.mode == "eager" else self._static.mode

    def _trim(self, n: int) -> None:
        from transformers import DynamicCache

        if self._static is not None:  # entries past the valid length are masked out
            self._static.length = min(n, self._static.length)
            return
        if n == 0 or self._cache is None:
            self._cache = DynamicCache(config=self.model.config)
            return
        # Cropping by hand: Cache.crop()'s meaning changed between transformers releases.
        for layer in self._cache.layers:
            keys = getattr(layer, "keys", None)
            if keys is not None and keys.dim() == 4 and keys.shape[-2] > n:
                layer.keys = keys[..., :n, :]
                layer.values = layer.values[..., :n, :]

    def _forward(self, ids: list[int]) -> None:
        torch = self._torch
        if self._static is not None:
            self._forward_static(ids)
            return
        hooks = []
        if len(ids) > 1:  # prefill: let the cancel flag stop the chunk between layers
            def check(*_: Any) -> None:
                if self._cancel.is_set():
                    raise Aborted

            hooks = [layer.register_forward_pre_hook(check) for layer in self.model.model.layers]
        try:
            with torch.inference_mode():
                inp = torch.tensor([ids], device=self.choice.device)
                out = self.model(input_ids=inp, use_cache=True, logits_to_keep=1, **{self._cache_kw: self._cache})
            self._logits = out.logits[0, -1]
        except Aborted:
            raise
        except Exception as exc:
            raise self._compute_error(exc, len(ids)) from exc
        finally:
            for h in hooks:
                h.remove()

    def _forward_static(self, ids: list[int]) -> None:
        assert self._static is not None
        try:
            with self._torch.inference_mode():
                if len(ids) == 1:
                    self._logits = self._static.decode(ids[0], self.n_ctx)
                else:
                    self._logits = self._static.prefill(ids, self.n_ctx)
        except Aborted:
            raise
        except Exception as exc:
            raise self._compute_error(exc, len(ids)) from exc

    def _compute_error(self, exc: Exception, n_tokens: int) -> EngineError:
        """The sentence for a failure while running the model (out of memory said as such)."""
        if _is_oom(exc):
            return OutOfMemory(
                say("{device} ran out of memory while reading {tokens} tokens.", device=self.choice.label,
                    tokens=f"{n_tokens:,}"),
                say("Use a shorter context (remove the document or older turns) or the llama.cpp backend."),
            )
        return EngineError(say("The model failed while computing."),
                           say("Try again; if it keeps failing, load the model again."), f"{type(exc).__name__}: {exc}")

    def _start_sampling(self, sampling: Sampling, history: list[int]) -> None:
        self._sampler = TorchSampler(sampling, history, self.choice.device)

    def _sample(self) -> int:
        assert self._sampler is not None and self._logits is not None
        return self._sampler.next(self._logits)

    def unload(self) -> None:
        super().unload()
        self._cache = None
        self._logits = None
        if self._static is not None:
            self._static.release()
            self._static = None
        del self.model
        if self._torch.cuda.is_available():
            self._torch.cuda.empty_cache()

    def last_logits(self) -> Any:
        """The logits after the last token run (a float32 CPU tensor): for tests and checks."""
        return self._logits.float().cpu()
