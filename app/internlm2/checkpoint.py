"""Opening and validating an InternLM2 checkpoint folder (config, tokenizer, safetensors shards)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.internlm2.config import InternLM2Config, load_config
from app.internlm2.errors import CheckpointError
from app.internlm2.safetensors_io import SafetensorsReader, TensorInfo, read_header
from app.sentences import say

_INDEX = "model.safetensors.index.json"
_SINGLE = "model.safetensors"


def expected_shapes(cfg: InternLM2Config) -> dict[str, tuple[int, ...]]:
    """Every tensor an InternLM2 checkpoint must hold, with its shape."""
    h, inter, vocab = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    qkv_rows = (cfg.num_attention_heads + 2 * cfg.num_key_value_heads) * cfg.head_dim
    shapes: dict[str, tuple[int, ...]] = {
        "model.tok_embeddings.weight": (vocab, h),
        "model.norm.weight": (h,),
    }
    if not cfg.tie_word_embeddings:
        shapes["output.weight"] = (vocab, h)
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        shapes[p + "attention.wqkv.weight"] = (qkv_rows, h)
        shapes[p + "attention.wo.weight"] = (h, cfg.num_attention_heads * cfg.head_dim)
        shapes[p + "feed_forward.w1.weight"] = (inter, h)
        shapes[p + "feed_forward.w3.weight"] = (inter, h)
        shapes[p + "feed_forward.w2.weight"] = (h, inter)
        shapes[p + "attention_norm.weight"] = (h,)
        shapes[p + "ffn_norm.weight"] = (h,)
    return shapes


def _shard_files(folder: Path) -> list[Path]:
    index = folder / _INDEX
    if index.exists():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(say("{index} in {folder} is damaged.", index=_INDEX, folder=folder),
                                  say("Download the model again."), str(exc)) from exc
        files = sorted({folder / name for name in weight_map.values()})
        missing = [f.name for f in files if not f.exists()]
        if missing:
            raise CheckpointError(say("Weight file {name} is missing from {folder}.", name=missing[0], folder=folder),
                                  say("The download is incomplete; download the model again."))
        return files
    if (folder / _SINGLE).exists():
        return [folder / _SINGLE]
    found = sorted(folder.glob("*.safetensors"))
    if found:
        return found
    if (folder / "pytorch_model.bin").exists():
        raise CheckpointError(say("{folder} holds only pytorch_model.bin, which the app does not load.",
                                  folder=folder),
                              say("Download the safetensors files of the model."))
    raise CheckpointError(say("No weights (*.safetensors) in {folder}.", folder=folder),
                          say("Pick the folder that holds the model's safetensors files."))


@dataclass
class Checkpoint:
    """A validated InternLM2 checkpoint: its config, tokenizer files and lazily read tensors."""

    folder: Path
    config: InternLM2Config
    reader: SafetensorsReader

    @property
    def tokenizer_model(self) -> Path:
        return self.folder / "tokenizer.model"

    @property
    def tokenizer_config(self) -> Path:
        return self.folder / "tokenizer_config.json"

    @property
    def weight_bytes(self) -> int:
        return sum(t.nbytes for t in self.reader.tensors.values())

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_checkpoint(folder: Path | str) -> Checkpoint:
    """Open a checkpoint folder and check it fully before any weight is read.

    Raises CheckpointError naming the first problem: not a folder, wrong architecture, bias,
    missing tokenizer.model, missing/extra tensors, wrong shapes, truncated files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(say("{folder} is not a folder.", folder=folder),
                              say("Pick the folder that holds config.json and the safetensors files."))
    cfg = load_config(folder)
    if not (folder / "tokenizer.model").exists():
        raise CheckpointError(say("tokenizer.model is missing from {folder}.", folder=folder),
                              say("Download the model again: the tokenizer file is required."))
    tensors: dict[str, TensorInfo] = {}
    for shard in _shard_files(folder):
        tensors.update(read_header(shard))
    expected = expected_shapes(cfg)
    missing = sorted(set(expected) - set(tensors))
    if missing:
        raise CheckpointError(say("The checkpoint lacks tensor {name} and {more} more.", name=missing[0],
                                  more=len(missing) - 1) if len(missing) > 1 else
                              say("The checkpoint lacks tensor {name}.", name=missing[0]),
                              say("The files are incomplete or not InternLM2; download the model again."))
    extra = sorted(set(tensors) - set(expected))
    if extra:
        raise CheckpointError(say("The checkpoint has an unexpected tensor {name} and {more} more.",
                                  name=extra[0], more=len(extra) - 1) if len(extra) > 1 else
                              say("The checkpoint has an unexpected tensor {name}.", name=extra[0]),
                              say("It does not match its config.json; pick an official InternLM2 checkpoint."))
    for name, shape in expected.items():
        if tensors[name].shape != shape:
            raise CheckpointError(
                say("Tensor {name} does not have the shape its config.json implies.", name=name),
                say("The weights do not match config.json; download the model again."),
                f"it has shape {list(tensors[name].shape)}, config.json implies {list(shape)}",
            )

    return Checkpoint(folder=folder, config=cfg, reader=SafetensorsReader(tensors))
