"""Checkpoint reading and validation: every bad checkpoint gives its own typed error."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.internlm2.checkpoint import open_checkpoint
from app.internlm2.errors import CheckpointError
from app.internlm2.safetensors_io import write_safetensors


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_reads_sharded_checkpoint_lazily(tiny_model: Path) -> None:
    with open_checkpoint(tiny_model) as ck:
        assert (tiny_model / "model.safetensors.index.json").exists()
        assert len({t.path for t in ck.reader.tensors.values()}) == 2
        assert ck.config.num_key_value_heads == 2 and ck.config.queries_per_kv == 2
        assert ck.config.rope_scaling_type == "dynamic" and ck.config.rope_scaling_factor == 2.0
        emb = ck.reader.float32("model.tok_embeddings.weight")
        rows = ck.reader.float32("model.tok_embeddings.weight", rows=(10, 20))
        assert np.array_equal(emb[10:20], rows)


def _edit_config(folder: Path, **changes: object) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(changes)
    (folder / "config.json").write_text(json.dumps(cfg))


def _single_file(folder: Path) -> Path:
    return sorted(folder.glob("*.safetensors"))[0]


def _wrong_arch(f: Path) -> None:
    _edit_config(f, architectures=["LlamaForCausalLM"], model_type="llama")


def _bias(f: Path) -> None:
    _edit_config(f, bias=True)


def _no_tokenizer(f: Path) -> None:
    (f / "tokenizer.model").unlink()


def _truncated(f: Path) -> None:
    shard = _single_file(f)
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) - 1000])


def _wrong_shape(f: Path) -> None:
    _edit_config(f, intermediate_size=96)


def _missing_tensor(f: Path) -> None:
    shard = _single_file(f)
    from app.internlm2.safetensors_io import read_header

    infos = read_header(shard)
    with open_checkpoint(f) as ck:
        arrays = {n: ck.reader.float32(n) for n in infos if n != "model.norm.weight" and n in ck.reader.tensors}
    shard.unlink()
    (f / "model.safetensors.index.json").unlink(missing_ok=True)
    for other in f.glob("*.safetensors"):
        other.unlink()
    write_safetensors(f / "model.safetensors", arrays, "F32")


def _extra_tensor(f: Path) -> None:
    _edit_config(f, num_hidden_layers=1)


def _no_config(f: Path) -> None:
    (f / "config.json").unlink()


def _garbage_header(f: Path) -> None:
    _single_file(f).write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")


@pytest.mark.parametrize(
    ("breaker", "words"),
    [
        (_wrong_arch, "not an InternLM2 checkpoint"),
        (_bias, "bias=true"),
        (_no_tokenizer, "tokenizer.model is missing"),
        (_truncated, "truncated"),
        (_wrong_shape, "has shape"),
        (_missing_tensor, "lacks tensor model.norm.weight"),
        (_extra_tensor, "unexpected tensor model.layers.1"),
        (_no_config, "config.json is missing"),
        (_garbage_header, "damaged header"),
    ],
)
def test_bad_checkpoint_gives_typed_error(tiny_base_model: Path, tmp_path: Path,
                                          breaker: Callable[[Path], None], words: str) -> None:
    folder = _copy(tiny_base_model, tmp_path / "bad")
    breaker(folder)
    with pytest.raises(CheckpointError) as err:
        open_checkpoint(folder)
    assert words in str(err.value)


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a folder"):
        open_checkpoint(tmp_path / "nowhere")


def test_missing_shard_named(tiny_model: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model, tmp_path / "cut")
    (folder / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model-00002-of-00002.safetensors is missing"):
        open_checkpoint(folder)
