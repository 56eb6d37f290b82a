"""Builds a tiny random InternLM2 checkpoint folder, real in every detail but size.

The tokenizer is the real InternLM2 one (tests/data/internlm2-tokenizer: 92,544 pieces, the
published special ids, no dummy prefix), so tests see the pieces real users get; random
weights with it behave like the real model in every respect but the quality of the answers.
`TinySpec(tokenizer="synthetic")` trains a small SentencePiece model on a built-in corpus
instead (600 pieces, WITH a dummy prefix), only where a test needs one:
- tests/test_tokenizer.py, the dummy-prefix decode rule (the real tokenizer has none);
- tests/test_gguf_export.py's wide model, whose K-quant type checks do not depend on the
  vocabulary and would quantize 92,544 x 256 embedding rows per case.
tests/test_longdoc.py trains its own long-piece tokenizer: 200,000 characters in ~9,000 tokens,
so that reading them whole takes seconds on the tiny model.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as sp_pb2

from app.internlm2.chat_format import CHAT_TEMPLATE
from app.internlm2.safetensors_io import write_safetensors

# The real InternLM2 tokenizer (Apache-2.0, see its SOURCE.md and LICENSE): 92,544 pieces,
# add_dummy_prefix False, the special ids of the published models.
REAL_TOKENIZER_DIR = Path(__file__).parent / "data" / "internlm2-tokenizer"
_REAL_SHA256 = "f868398fc4e05ee1e8aeba95ddf18ddcc45b8bce55d5093bead5bbf80429b48b"
REAL_VOCAB = 92544

SPECIALS = ["<|plugin|>", "<|interpreter|>", "<|action_end|>", "<|action_start|>", "<|im_end|>", "<|im_start|>"]

_CORPUS_LINES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "InternLM2 is a family of open language models from Shanghai AI Laboratory.",
    "Long documents are read whole: two hundred thousand characters fit in the context.",
    "def tokenize(text: str) -> list[int]:\n    return [ord(c) for c in text]",
    "for (int i = 0; i < n; ++i) { total += values[i]; }",
    "书生·浦语是上海人工智能实验室开发的对话语言模型。",
    "长文档问答需要完整地阅读文本，而不是只检索几个片段。",
    "我们今天去公园散步，天气很好，阳光明媚。",
    "Numbers like 3.14159, 2026 and 42 appear in text; so do URLs like https://example.org.",
    "  indented lines,\ttabs, and    runs of spaces matter for code.",
    "Question: what is the capital of France? Answer: Paris is the capital of France.",
    "The assistant answers helpfully, honestly and harmlessly in English and 中文.",
]


@functools.lru_cache(maxsize=1)
def real_tokenizer_bytes() -> bytes:
    data = (REAL_TOKENIZER_DIR / "tokenizer.model").read_bytes()
    if hashlib.sha256(data).hexdigest() != _REAL_SHA256:
        raise RuntimeError(f"{REAL_TOKENIZER_DIR / 'tokenizer.model'} is not the published InternLM2 tokenizer")
    return data


def _train_tokenizer(vocab_size: int) -> sp_pb2.ModelProto:
    corpus = [line for _ in range(30) for line in _CORPUS_LINES]
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=buf, vocab_size=vocab_size,
        model_type="bpe", byte_fallback=True, character_coverage=1.0, split_digits=True,
        add_dummy_prefix=True, remove_extra_whitespaces=False, allow_whitespace_only_pieces=True,
        normalization_rule_name="identity", unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        hard_vocab_limit=False, num_threads=1, minloglevel=2,
    )
    proto = sp_pb2.ModelProto()
    proto.ParseFromString(buf.getvalue())
    # The real tokenizer.model carries placeholders at the special ids, at the vocabulary's end.
    for k in range(len(SPECIALS)):
        piece = proto.pieces.add()
        piece.piece = f"[UNUSED_TOKEN_{141 + k}]"
        piece.score = 0.0
        piece.type = sp_pb2.ModelProto.SentencePiece.USER_DEFINED
    return proto


@dataclass(frozen=True)
class TinySpec:
    """Shape of the tiny model. Defaults: GQA 4 heads / 2 KV heads, 2 layers."""

    hidden: int = 64
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    intermediate: int = 128
    max_positions: int = 2048
    rope_theta: float = 10000.0
    rope_factor: float = 2.0
    tokenizer: str = "real"  # or "synthetic" (see the module docstring)
    vocab_target: int = 600  # pieces of the synthetic tokenizer
    dtype: str = "BF16"
    shards: int = 1
    seed: int = 0
    chat: bool = True
    std: float = 0.08


def internlm2_tensors(spec: TinySpec, vocab: int) -> dict[str, np.ndarray]:
    """Random InternLM2 tensors with the real names and layout for `spec`."""
    rng = np.random.default_rng(spec.seed)
    head_dim = spec.hidden // spec.heads

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * spec.std).astype(np.float32)

    out: dict[str, np.ndarray] = {"model.tok_embeddings.weight": w(vocab, spec.hidden) * 10}
    for i in range(spec.layers):
        p = f"model.layers.{i}."
        out[p + "attention.wqkv.weight"] = w((spec.heads + 2 * spec.kv_heads) * head_dim, spec.hidden) * 4
        out[p + "attention.wo.weight"] = w(spec.hidden, spec.hidden)
        out[p + "feed_forward.w1.weight"] = w(spec.intermediate, spec.hidden)
        out[p + "feed_forward.w3.weight"] = w(spec.intermediate, spec.hidden)
        out[p + "feed_forward.w2.weight"] = w(spec.hidden, spec.intermediate)
        out[p + "attention_norm.weight"] = (1.0 + 0.1 * rng.standard_normal(spec.hidden)).astype(np.float32)
        out[p + "ffn_norm.weight"] = (1.0 + 0.1 * rng.standard_normal(spec.hidden)).astype(np.float32)
    out["model.norm.weight"] = (1.0 + 0.1 * rng.standard_normal(spec.hidden)).astype(np.float32)
    out["output.weight"] = w(vocab, spec.hidden) * 4
    return out


def write_real_tokenizer(folder: Path, chat: bool) -> None:
    """The published files, unchanged (a base model's config has no chat template)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer.model").write_bytes(real_tokenizer_bytes())
    shutil.copyfile(REAL_TOKENIZER_DIR / "special_tokens_map.json", folder / "special_tokens_map.json")
    cfg = json.loads((REAL_TOKENIZER_DIR / "tokenizer_config.json").read_text(encoding="utf-8"))
    if not chat:
        cfg.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False), encoding="utf-8")


def write_tokenizer_files(folder: Path, proto: sp_pb2.ModelProto, chat: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer.model").write_bytes(proto.SerializeToString())
    vocab = len(proto.pieces)
    first = vocab - len(SPECIALS)
    added = {"0": "<unk>", "1": "<s>", "2": "</s>"}
    added.update({str(first + k): name for k, name in enumerate(SPECIALS)})
    tok_cfg = {
        "add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
        "pad_token": "</s>", "unk_token": "<unk>", "model_max_length": 1000000000000000019884624838656,
        "tokenizer_class": "InternLM2Tokenizer",
        "added_tokens_decoder": {k: {"content": v, "lstrip": False, "normalized": False, "rstrip": False,
                                     "single_word": False, "special": True} for k, v in added.items()},
        "additional_special_tokens": SPECIALS,
    }
    if chat:
        tok_cfg["chat_template"] = CHAT_TEMPLATE
    (folder / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2, ensure_ascii=False))
    (folder / "special_tokens_map.json").write_text(json.dumps(
        {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"}))


def build_tiny_checkpoint(folder: Path, spec: TinySpec = TinySpec(), proto: sp_pb2.ModelProto | None = None) -> Path:
    """Write config, generation config, tokenizer and safetensors weights into `folder`.

    `proto`: a SentencePiece model to use instead of the spec's tokenizer (its last pieces must
    be the 6 special placeholders)."""
    if proto is None and spec.tokenizer == "real":
        vocab = REAL_VOCAB
        write_real_tokenizer(folder, spec.chat)
    else:
        if proto is None:
            if spec.tokenizer != "synthetic":
                raise ValueError(f"unknown tokenizer {spec.tokenizer!r}: 'real' or 'synthetic'")
            proto = _train_tokenizer(spec.vocab_target)
        vocab = len(proto.pieces)
        write_tokenizer_files(folder, proto, spec.chat)
    im_end = vocab - 2
    config = {
        "architectures": ["InternLM2ForCausalLM"], "model_type": "internlm2",
        "auto_map": {"AutoConfig": "configuration_internlm2.InternLM2Config"},
        "bias": False, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2,
        "hidden_act": "silu", "hidden_size": spec.hidden, "initializer_range": 0.02,
        "intermediate_size": spec.intermediate, "max_position_embeddings": spec.max_positions,
        "num_attention_heads": spec.heads, "num_hidden_layers": spec.layers,
        "num_key_value_heads": spec.kv_heads, "rms_norm_eps": 1e-05,
        "rope_scaling": {"type": "dynamic", "factor": spec.rope_factor} if spec.rope_factor else None,
        "rope_theta": spec.rope_theta, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "use_cache": True, "vocab_size": vocab, "attn_implementation": "eager",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    gen = {"bos_token_id": 1, "eos_token_id": [2, im_end] if spec.chat else 2, "pad_token_id": 2}
    (folder / "generation_config.json").write_text(json.dumps(gen, indent=2))
    tensors = internlm2_tensors(spec, vocab)
    names = list(tensors)
    if spec.shards <= 1:
        write_safetensors(folder / "model.safetensors", tensors, spec.dtype)
        return folder
    per = -(-len(names) // spec.shards)
    weight_map: dict[str, str] = {}
    total = 0
    for s in range(spec.shards):
        part = {n: tensors[n] for n in names[s * per:(s + 1) * per]}
        fname = f"model-{s + 1:05d}-of-{spec.shards:05d}.safetensors"
        write_safetensors(folder / fname, part, spec.dtype)
        weight_map.update({n: fname for n in part})
        total += sum(a.size for a in part.values()) * 2
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    return folder


def make_reply_stop(folder: Path, prompt_ids: list[int], *, min_step: int = 3, max_step: int = 8) -> int:
    """Rewrite output.weight so that greedy decoding of `prompt_ids` emits <|im_end|> after k tokens.

    Only the <|im_end|> row of the output matrix changes, so the hidden states of the greedy
    run do not: the row is set along the hidden state of step k, scaled so that <|im_end|>
    wins at step k by a clear margin and loses by a clear margin at every earlier step.
    Returns k (the number of reply tokens before <|im_end|>).
    """
    import torch

    from app.internlm2.checkpoint import open_checkpoint
    from app.internlm2.safetensors_io import read_header
    from tests.reference_internlm2 import reference_hidden

    with open_checkpoint(folder) as ck:
        out_w = torch.from_numpy(ck.reader.float32("output.weight")).double()
        vocab = ck.config.vocab_size
        shard = ck.reader.info("output.weight").path
    im_end = vocab - 2
    ids, hidden = list(prompt_ids), []
    for _ in range(max_step + 1):
        h = reference_hidden(folder, ids)[-1]
        logits = h @ out_w.T
        logits[im_end] = float("-inf")
        hidden.append((h, float(logits.max())))
        ids.append(int(logits.argmax()))
    margin = 2.0
    for k in range(min_step, max_step + 1):
        hk, best_k = hidden[k]
        unit = hk / hk.norm()
        # im_end logit at step j is alpha * (h_j . unit); need it > best at k, < best at j < k.
        alpha = (best_k + 2 * margin) / float(hk @ unit)
        if all(alpha * float(hj @ unit) < best_j - margin for hj, best_j in hidden[:k]):
            out_w[im_end] = alpha * unit
            break
    else:  # pragma: no cover - depends on the random weights; the fixture's seed is fixed
        raise RuntimeError("no step found to place <|im_end|>")
    infos = read_header(shard)
    with open_checkpoint(folder) as ck:
        arrays = {n: ck.reader.float32(n) for n in infos}
    arrays["output.weight"] = out_w.float().numpy()
    write_safetensors(shard, arrays, infos["output.weight"].dtype)
    return k
