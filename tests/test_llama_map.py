"""The Llama mapping: transformers' LlamaForCausalLM equals InternLM2's equations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from app.internlm2.checkpoint import open_checkpoint
from app.internlm2.llama_map import llama_config, load_llama_model, split_wqkv
from tests.reference_internlm2 import reference_logits
from tests.tiny_model import TinySpec, build_tiny_checkpoint


def _ids(n: int, vocab: int, seed: int = 3) -> list[int]:
    rng = np.random.default_rng(seed)
    return [1, *rng.integers(3, vocab - 6, size=n - 1).tolist()]


def test_mapped_llama_matches_reference_forward(tiny_model: Path) -> None:
    model = load_llama_model(tiny_model, dtype=torch.float32)
    cfg = open_checkpoint(tiny_model).config
    ids = _ids(32, cfg.vocab_size)
    with torch.no_grad():
        got = model(torch.tensor([ids])).logits[0].double()
    want = reference_logits(tiny_model, ids)
    assert got.shape == want.shape
    assert (got - want).abs().max().item() < 1e-4


def test_dynamic_ntk_past_trained_length_matches_reference(tmp_path: Path) -> None:
    folder = build_tiny_checkpoint(tmp_path / "short", TinySpec(max_positions=64, seed=5))
    model = load_llama_model(folder, dtype=torch.float32)
    ids = _ids(150, open_checkpoint(folder).config.vocab_size, seed=9)
    with torch.no_grad():
        got = model(torch.tensor([ids])).logits[0].double()
    want = reference_logits(folder, ids)
    assert (got - want).abs().max().item() < 1e-4


def test_rope_scaling_comes_from_the_checkpoint(tmp_path: Path) -> None:
    plain = build_tiny_checkpoint(tmp_path / "plain", TinySpec(rope_factor=0.0, rope_theta=500000.0))
    cfg = llama_config(open_checkpoint(plain).config)
    assert cfg.rope_parameters["rope_type"] == "default"
    assert cfg.rope_parameters["rope_theta"] == 500000.0


def test_wqkv_split_follows_kv_groups(tiny_model: Path) -> None:
    cfg = open_checkpoint(tiny_model).config
    d, g = cfg.head_dim, cfg.queries_per_kv
    rows = np.arange((cfg.num_attention_heads + 2 * cfg.num_key_value_heads) * d)[:, None]
    q, k, v = split_wqkv(np.repeat(rows, 2, axis=1), cfg)
    # KV head 1's block starts after KV head 0's g query heads + 1 key + 1 value.
    block = (g + 2) * d
    assert q[g * d, 0] == block
    assert k[d, 0] == block + g * d
    assert v[0, 0] == g * d + d
    assert q.shape[0] == cfg.num_attention_heads * d and k.shape[0] == v.shape[0] == cfg.num_key_value_heads * d


def test_load_streams_and_reports_progress(tiny_model: Path) -> None:
    seen: list[tuple[int, int]] = []
    load_llama_model(tiny_model, dtype=torch.bfloat16, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and len(seen) == seen[-1][1]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_bf16_weights_arrive_exactly(tiny_model: Path, dtype: torch.dtype) -> None:
    model = load_llama_model(tiny_model, dtype=dtype)
    with open_checkpoint(tiny_model) as ck:
        want = torch.from_numpy(ck.reader.float32("output.weight"))
    assert torch.equal(model.lm_head.weight.float(), want)
