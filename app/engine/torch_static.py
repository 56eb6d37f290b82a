"""A static KV cache and a CUDA-graph decode step for the PyTorch backend (fast decode on CUDA).

The Llama weights of the loaded transformers model are run by a small forward of our own:
q/k/v and gate/up are fused into one matrix each (the model's own parameters become views of
them, so no memory is added and the transformers path still works), the KV cache is one
preallocated tensor whose capacity grows in powers of two up to the context (trimming the
cache is setting its valid length: entries past it are masked out), prefill runs in chunks
through SDPA, and one decode step is captured in a CUDA graph per cache capacity and replayed
for every token. Optionally the elementwise work around the matrix products is fused by
torch.compile first. Each of these falls back, with a log line, where it fails: compiled ->
plain ops, graph -> eager. Everything here runs on the caller's (the worker's) thread.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from app.engine.backend import Aborted

_log = logging.getLogger(__name__)
MIN_CAPACITY = 1024


def _rms(x: Any, w: Any, eps: float) -> Any:
    import torch

    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return w * xf.to(x.dtype)


def _pre(x: Any, ln: Any, wqkv: Any, cos: Any, sin: Any, eps: float, nq: int, nkv: int,
         qscale: float = 1.0) -> Any:
    """Norm, fused q/k/v projection, rotary embedding: q [nq, n, d] (times qscale), k;v [2 nkv, n, d]."""
    import torch
    import torch.nn.functional as F

    d = cos.shape[-1]
    qkv = F.linear(_rms(x, ln, eps), wqkv).view(x.shape[0], nq + 2 * nkv, d).transpose(0, 1)
    qk = qkv[: nq + nkv]
    rot = torch.cat((-qk[..., d // 2:], qk[..., : d // 2]), -1)
    qk = qk * cos + rot * sin
    q = qk[:nq] * qscale if qscale != 1.0 else qk[:nq]
    return q, torch.cat((qk[nq:], qkv[nq + nkv:]), 0)  # k and v stacked: [2 * nkv, n, d]


def _post(x: Any, attn: Any, wo: Any, ln: Any, wgu: Any, wdown: Any, eps: float, inter: int) -> Any:
    """Attention output projection, residual, norm, SwiGLU MLP, residual."""
    import torch.nn.functional as F

    x = x + F.linear(attn, wo)
    gu = F.linear(_rms(x, ln, eps), wgu)
    return x + F.linear(F.silu(gu[..., :inter]) * gu[..., inter:], wdown)


def _mid(x: Any, attn: Any, wo: Any, ln2: Any, wgu: Any, wdown: Any, ln1: Any, wqkv: Any, cos: Any,
         sin: Any, eps: float, inter: int, nq: int, nkv: int, qscale: float) -> tuple[Any, Any, Any]:
    """The end of one layer and the start of the next, in one piece (fused across the seam)."""
    x = _post(x, attn, wo, ln2, wgu, wdown, eps, inter)
    q, kv = _pre(x, ln1, wqkv, cos, sin, eps, nq, nkv, qscale)
    return x, q, kv


def _cos_sin(positions: Any, inv_freq: Any, scale: float, dtype: Any) -> tuple[Any, Any]:
    import torch

    freqs = positions.float()[:, None] * inv_freq.float()[None, :]
    emb = torch.cat((freqs, freqs), -1)
    return (emb.cos() * scale).to(dtype), (emb.sin() * scale).to(dtype)


def _final(x: Any, norm: Any, head: Any, eps: float) -> Any:
    import torch.nn.functional as F

    return F.linear(_rms(x, norm, eps), head)[0]


class StaticDecoder:
    """One model's static KV cache and decode step. Not thread-safe: one owner thread."""

    def __init__(self, model: Any, *, graphs: bool, compile_step: bool,
                 cancelled: Callable[[], bool], min_capacity: int = MIN_CAPACITY) -> None:
        import torch

        self._torch = torch
        cfg = model.config
        self.nq, self.nkv = int(cfg.num_attention_heads), int(cfg.num_key_value_heads)
        self.d = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // self.nq)
        self.inter = int(cfg.intermediate_size)
        self.eps = float(cfg.rms_norm_eps)
        m = model.model
        self._embed = m.embed_tokens.weight.detach()
        self._norm = m.norm.weight.detach()
        self._head = model.lm_head.weight.detach()
        self._rotary = m.rotary_emb
        self.device = self._embed.device
        self.dtype = self._embed.dtype
        with torch.no_grad():
            self._layers = [self._fuse(layer) for layer in m.layers]
        self._cancelled = cancelled
        self._min_cap = min_capacity
        self._kv: Any = None  # [layers, 2, nkv, capacity, d]
        self.capacity = 0
        self.length = 0  # valid entries; everything past it is masked out
        self._tok = torch.zeros(1, dtype=torch.long, device=self.device)
        self._pos = torch.zeros(1, dtype=torch.long, device=self.device)
        self._arange: Any = None
        self._graphs = graphs
        self._graph: Any = None  # (CUDAGraph, output) for the current capacity
        self._fns: dict[str, Callable[..., Any]] = {}
        self._compiled = False
        if compile_step:
            self._compile()
        self.mode = "eager"

    @staticmethod
    def _fuse(layer: Any) -> tuple[Any, ...]:
        """Fused weights of one layer; the module's parameters become views of them."""
        import torch

        at, mlp = layer.self_attn, layer.mlp
        wqkv = torch.cat([at.q_proj.weight, at.k_proj.weight, at.v_proj.weight], 0).detach()
        wgu = torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight], 0).detach()
        a, b = at.q_proj.weight.shape[0], at.k_proj.weight.shape[0]
        at.q_proj.weight.data, at.k_proj.weight.data = wqkv[:a], wqkv[a:a + b]
        at.v_proj.weight.data = wqkv[a + b:]
        g = mlp.gate_proj.weight.shape[0]
        mlp.gate_proj.weight.data, mlp.up_proj.weight.data = wgu[:g], wgu[g:]
        return (layer.input_layernorm.weight.detach(), wqkv, at.o_proj.weight.detach(),
                layer.post_attention_layernorm.weight.detach(), wgu, mlp.down_proj.weight.detach())

    def _compile(self) -> None:
        torch = self._torch
        try:
            from app.paths import cache_dir

            os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir() / "torchinductor"))
        except Exception:  # noqa: BLE001 - the cache folder is an optimisation only
            pass
        try:
            self._fns = {f.__name__: torch.compile(f, fullgraph=True, dynamic=False)
                         for f in (_pre, _mid, _post, _cos_sin, _final)}
            self._compiled = True
        except Exception as exc:  # noqa: BLE001
            _log.warning("torch.compile is not available (%s); the decode step runs uncompiled", exc)

    # -- cache -------------------------------------------------------------------------------
    def reserve(self, need: int, limit: int) -> None:
        """Make room for `need` tokens (capacity: a power of two, at most `limit`)."""
        if need <= self.capacity:
            return
        torch = self._torch
        cap = max(self._min_cap, 1 << max(0, need - 1).bit_length())
        cap = max(need, min(cap, limit))
        kv = torch.zeros((len(self._layers), 2, self.nkv, cap, self.d), dtype=self.dtype, device=self.device)
        if self._kv is not None and self.length:
            kv[:, :, :, : self.length] = self._kv[:, :, :, : self.length]
        self._graph = None  # captured with the old buffers
        self._kv = kv
        self.capacity = cap
        self._arange = torch.arange(cap, device=self.device)
        _log.info("static KV cache: %d tokens", cap)

    def release(self) -> None:
        self._graph = None
        self._kv = None
        self.capacity = self.length = 0

    def _rope(self, positions: Any, fn: Callable[..., Any] = _cos_sin) -> tuple[Any, Any]:
        scale = float(getattr(self._rotary, "attention_scaling", 1.0))
        return fn(positions, self._rotary.inv_freq, scale, self.dtype)

    # -- prefill (eager, chunked, SDPA) ------------------------------------------------------
    def prefill(self, ids: list[int], limit: int) -> Any:
        """Run ids after the valid cache; returns the logits after the last one."""
        torch = self._torch
        import torch.nn.functional as F

        p, n = self.length, len(ids)
        self.reserve(p + n, limit)
        g = self.nq // self.nkv
        x = F.embedding(torch.tensor(ids, device=self.device), self._embed)
        cos, sin = self._rope(torch.arange(p, p + n, device=self.device))
        mask = None
        if p > 0:  # the chunk sees the whole cache and itself causally: a lower-right causal mask
            try:
                from torch.nn.attention.bias import causal_lower_right

                mask = causal_lower_right(n, p + n)
            except ImportError:  # older torch: a boolean mask
                mask = self._arange[None, : p + n] <= torch.arange(p, p + n, device=self.device)[:, None]
        for i, (ln1, wqkv, wo, ln2, wgu, wdown) in enumerate(self._layers):
            if self._cancelled():
                raise Aborted
            q, kv = _pre(x, ln1, wqkv, cos, sin, self.eps, self.nq, self.nkv)
            self._kv[i, :, :, p:p + n] = kv.reshape(2, self.nkv, n, self.d)
            kc, vc = self._kv[i, 0], self._kv[i, 1]
            keys, vals = kc[:, : p + n], vc[:, : p + n]
            if g > 1:
                keys, vals = keys.repeat_interleave(g, 0), vals.repeat_interleave(g, 0)
            o = F.scaled_dot_product_attention(q[None], keys[None], vals[None], attn_mask=mask,
                                               is_causal=mask is None)
            x = _post(x, o[0].transpose(0, 1).reshape(n, self.nq * self.d), wo, ln2, wgu, wdown,
                      self.eps, self.inter)
        self.length = p + n
        return _final(x[-1:], self._norm, self._head, self.eps)

    # -- decode (one token; a CUDA graph where possible) -----------------------------------
    def _step(self) -> Any:
        """One decode step from the static token/position buffers (graph-capturable)."""
        torch = self._torch
        import torch.nn.functional as F

        fn = self._fns
        pre, mid, post = fn.get("_pre", _pre), fn.get("_mid", _mid), fn.get("_post", _post)
        x = F.embedding(self._tok, self._embed)
        cos, sin = self._rope(self._pos, fn.get("_cos_sin", _cos_sin))
        # Positions past the valid length get -inf: one additive mask for all layers.
        bias = torch.zeros(self.capacity, dtype=self.dtype, device=self.device)
        bias = bias.masked_fill(self._arange > self._pos, float("-inf"))
        g, qs, layers = self.nq // self.nkv, self.d ** -0.5, self._layers
        q, kv = pre(x, layers[0][0], layers[0][1], cos, sin, self.eps, self.nq, self.nkv, qs)
        for i, (_, _, wo, ln2, wgu, wdown) in enumerate(layers):
            self._kv[i].index_copy_(2, self._pos, kv.reshape(2, self.nkv, 1, self.d))
            kc, vc = self._kv[i, 0], self._kv[i, 1]
            s = torch.baddbmm(bias, q.reshape(self.nkv, g, self.d), kc.transpose(1, 2))
            o = torch.bmm(torch.softmax(s, -1), vc).reshape(1, self.nq * self.d)  # softmax: float inside
            if i + 1 < len(layers):
                ln1, wqkv = layers[i + 1][0], layers[i + 1][1]
                x, q, kv = mid(x, o, wo, ln2, wgu, wdown, ln1, wqkv, cos, sin, self.eps, self.inter,
                               self.nq, self.nkv, qs)
            else:
                x = post(x, o, wo, ln2, wgu, wdown, self.eps, self.inter)
        return fn.get("_final", _final)(x, self._norm, self._head, self.eps)

    def decode(self, tok: int, limit: int) -> Any:
        """Run one token at the valid length; returns its logits (a buffer reused next step)."""
        self.reserve(self.length + 1, limit)
        self._tok.fill_(tok)
        self._pos.fill_(self.length)
        out = self._run_step()
        self.length += 1
        return out

    def _run_step(self) -> Any:
        if self._graphs and self._graph is None:
            self._capture()
        if self._graph is not None:
            graph, out = self._graph
            graph.replay()
            return out
        try:
            return self._step()
        except Exception as exc:
            if not self._compiled:
                raise
            _log.warning("the compiled decode step failed (%s); running it uncompiled", exc)
            self._uncompile()
            return self._step()

    def _uncompile(self) -> None:
        self._fns, self._compiled = {}, False

    def _capture(self) -> None:
        """Capture the decode step in a CUDA graph (compiled first, then plain, then eager)."""
        torch = self._torch
        while True:
            try:
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    for _ in range(3):  # compiles (first time) and warms up the kernels
                        self._step()
                torch.cuda.current_stream().wait_stream(side)
                graph = torch.cuda.CUDAGraph()  # its own memory pool: an old graph's may be gone
                with torch.cuda.graph(graph):
                    out = self._step()
                self._graph = (graph, out)
                self.mode = "CUDA graph" + (" + torch.compile" if self._compiled else "")
                _log.info("decode step captured in a CUDA graph (%s, cache %d tokens)", self.mode, self.capacity)
                return
            except Exception as exc:  # noqa: BLE001 - any failure here has a slower way out
                torch.cuda.synchronize()
                if self._compiled:
                    _log.warning("compiling the decode step failed (%s); capturing it uncompiled", exc)
                    self._uncompile()
                    continue
                _log.warning("CUDA graph capture failed (%s); decoding eagerly", exc)
                self._graphs = False
                self._graph = None
                self.mode = "eager"
                return
