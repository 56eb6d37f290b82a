"""Sampling on the device for the PyTorch backend: greedy, temperature, top-k, top-p, penalty."""

from __future__ import annotations

from typing import Any

from app.internlm2.chat_format import Sampling

PENALTY_LAST_N = 64  # tokens the repetition penalty looks back on (llama.cpp's default too)


class TorchSampler:
    """Picks tokens from logits with one reply's settings; seeded for repeatable replies."""

    def __init__(self, sampling: Sampling, history: list[int], device: str) -> None:
        import torch

        self._torch = torch
        self.s = sampling
        self._recent = list(history[-PENALTY_LAST_N:])
        self._gen: Any = None
        if sampling.temperature > 0:
            self._gen = torch.Generator(device=device)
            if sampling.seed is not None:
                self._gen.manual_seed(int(sampling.seed))
            else:
                self._gen.seed()

    def next(self, logits: Any) -> int:
        torch = self._torch
        s = self.s
        if s.temperature <= 0 and s.repetition_penalty == 1.0:  # plain greedy: no float copy
            tok = int(torch.argmax(logits).item())
            self._recent.append(tok)
            if len(self._recent) > PENALTY_LAST_N:
                self._recent.pop(0)
            return tok
        x = logits.float()
        if s.repetition_penalty != 1.0 and self._recent:
            idx = torch.tensor(sorted(set(self._recent)), device=x.device)
            vals = x[idx]
            x = x.clone()
            x[idx] = torch.where(vals > 0, vals / s.repetition_penalty, vals * s.repetition_penalty)
        if s.temperature <= 0:
            tok = int(torch.argmax(x).item())
        else:
            x = x / s.temperature
            if s.top_k and s.top_k > 0:
                kth = torch.topk(x, min(s.top_k, x.numel())).values[-1]
                x = torch.where(x < kth, torch.full_like(x, float("-inf")), x)
            if 0 < s.top_p < 1.0:
                sorted_x, order = torch.sort(x, descending=True)
                probs = torch.softmax(sorted_x, -1)
                keep = torch.cumsum(probs, -1) - probs < s.top_p  # always keeps the top token
                sorted_x = torch.where(keep, sorted_x, torch.full_like(sorted_x, float("-inf")))
                x = torch.full_like(x, float("-inf")).scatter(0, order, sorted_x)
            probs = torch.softmax(x, -1)
            tok = int(torch.multinomial(probs, 1, generator=self._gen).item())
        self._recent.append(tok)
        if len(self._recent) > PENALTY_LAST_N:
            self._recent.pop(0)
        return tok
