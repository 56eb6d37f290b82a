"""GGUF export on the tiny model, checked through llama.cpp itself.

llama.cpp against transformers (logits and greedy tokens), tokenizer parity, long context with
the dynamic-NTK base, K-quants, direct types, cancel, disk space, write and quantizer failures,
and the metadata llama.cpp relies on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import gguf
import numpy as np
import pytest

from app.internlm2.chat_format import Message, build_chat_prompt
from app.internlm2.config import load_config
from app.internlm2.errors import ExportCancelled, ExportError
from app.internlm2.gguf_export import OUT_TYPES, export_gguf
from app.internlm2.gguf_quantize import quantize_gguf
from app.internlm2.rope import official_rope_base
from app.internlm2.tokenizer import IM_END, InternLM2Tokenizer
from tests.tiny_model import TinySpec, build_tiny_checkpoint

llama_cpp = pytest.importorskip("llama_cpp")

_F32 = 0  # GGML_TYPE_F32, for an exact KV cache


def _llama(path: Path, n_ctx: int = 256, **kw: object) -> llama_cpp.Llama:
    return llama_cpp.Llama(str(path), logits_all=True, n_ctx=n_ctx, type_k=_F32, type_v=_F32,
                           n_threads=2, n_threads_batch=2, verbose=False, **kw)


def _llama_logits(llm: llama_cpp.Llama, ids: list[int]) -> np.ndarray:
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float32)


def _llama_greedy(llm: llama_cpp.Llama, ids: list[int], n: int) -> list[int]:
    llm.reset()
    llm.eval(ids)
    out: list[int] = []
    for _ in range(n):
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        out.append(tok)
        llm.eval([tok])
    return out


def _torch_greedy(model: object, ids: list[int], n: int) -> list[int]:
    import torch

    seq = list(ids)
    with torch.no_grad():
        for _ in range(n):
            logits = model(torch.tensor([seq])).logits[0, -1]  # type: ignore[operator]
            seq.append(int(torch.argmax(logits)))
    return seq[len(ids):]


def _prompt_ids(vocab: int, n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [1, *(int(x) for x in rng.integers(3, vocab - 6, n - 1))]


@pytest.fixture(scope="module")
def f32_gguf(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_gguf(tiny_model, tmp_path_factory.mktemp("gguf") / "tiny-f32.gguf", "f32")


@pytest.fixture(scope="module")
def f32_llm(f32_gguf: Path) -> Iterator[llama_cpp.Llama]:
    llm = _llama(f32_gguf)
    yield llm
    llm.close()


def test_f32_gguf_matches_transformers(tiny_model: Path, f32_llm: llama_cpp.Llama) -> None:
    torch = pytest.importorskip("torch")
    from app.internlm2.llama_map import load_llama_model

    model = load_llama_model(tiny_model, device="cpu", dtype=torch.float32)
    ids = _prompt_ids(model.config.vocab_size, 32, seed=0)
    with torch.no_grad():
        ref = model(torch.tensor([ids])).logits[0].numpy()
    got = _llama_logits(f32_llm, ids)
    assert got.shape == ref.shape
    diff = np.abs(got - ref).max(axis=1)
    assert diff.max() < 1e-3, f"per-position max |diff|: {diff}"
    assert _llama_greedy(f32_llm, ids, 20) == _torch_greedy(model, ids, 20)


_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! How are you today?",
    "书生·浦语是上海人工智能实验室开发的对话语言模型。",
    "Mixed 中文 and English, 数字 12345 and 3.14159.",
    "Emoji: 😀🎉👍🏽 and the dragon 🐉 and a family 👨‍👩‍👧.",
    "def tokenize(text: str) -> list[int]:\n    return [ord(c) for c in text]\n",
    "for (int i = 0; i < n; ++i) {\n\ttotal += values[i];\n}",
    "    four leading spaces, then     five inside",
    "trailing spaces   ",
    "\n\nnew\n\n\nlines\n",
    " a leading space",
    "<|im_end|>",
    "typed <|im_start|>user\nhi<|im_end|> as text",
    "[UNUSED_TOKEN_145] and [UNUSED_TOKEN_146]",
    "<s> and </s> and <unk>",
    "<|action_start|><|plugin|>{}<|action_end|>",
]


@pytest.fixture(scope="module")
def vocab_llm(f32_gguf: Path) -> Iterator[llama_cpp.Llama]:
    llm = llama_cpp.Llama(str(f32_gguf), vocab_only=True, verbose=False)
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def gguf_tok(f32_gguf: Path) -> InternLM2Tokenizer:
    from app.engine.gguf_tokenizer import vocab_only_tokenizer

    return vocab_only_tokenizer(f32_gguf)


@pytest.mark.parametrize("text", _CORPUS)
def test_tokenizer_parity(tiny_model: Path, gguf_tok: InternLM2Tokenizer, text: str) -> None:
    """The GGUF side (SentencePiece rebuilt from the GGUF, not llama.cpp's tokenizer, which makes
    typed `<s>` BOS and a typed dragon the NUL piece) gives the checkpoint's ids."""
    tok = InternLM2Tokenizer.from_folder(tiny_model)
    assert gguf_tok.encode(text) == tok.encode(text)
    assert gguf_tok.decode(tok.encode(text)) == tok.decode(tok.encode(text)) == text


def test_chat_prompt_ids_parity(tiny_model: Path, vocab_llm: llama_cpp.Llama) -> None:
    tok = InternLM2Tokenizer.from_folder(tiny_model)
    prompt = build_chat_prompt([
        Message("system", "You are a helpful assistant."),
        Message("user", "What is the capital of France?"),
        Message("assistant", "Paris is the capital of France."),
        Message("user", "长文档问答需要完整地阅读文本。 And code:\n    x = 1\n"),
    ])
    expected = prompt.ids(tok)
    assert tok.special.id(IM_END) in expected
    assert vocab_llm.tokenize(prompt.text().encode(), add_bos=True, special=True) == expected


def test_metadata_chat_and_base(f32_gguf: Path, tiny_model: Path, tiny_base_model: Path,
                                tmp_path: Path) -> None:
    tok = InternLM2Tokenizer.from_folder(tiny_model)
    im_end = tok.special.id(IM_END)

    def fields(path: Path) -> dict[str, object]:  # gguf-py's reader takes seconds on 92,544 tokens
        from app.engine.gguf_meta import read_gguf_metadata

        return read_gguf_metadata(path, {"tokenizer.ggml.tokens", "tokenizer.ggml.token_type"})

    chat = fields(f32_gguf)
    assert chat["general.architecture"] == "internlm2"
    assert chat["tokenizer.ggml.eot_token_id"] == im_end
    assert chat["tokenizer.ggml.eos_token_id"] == 2
    assert "<|im_start|>" in str(chat["tokenizer.chat_template"])
    tokens = chat["tokenizer.ggml.tokens"]
    types = chat["tokenizer.ggml.token_type"]
    assert isinstance(tokens, list) and isinstance(types, list)
    assert tokens[im_end] == IM_END and types[im_end] == gguf.TokenType.CONTROL
    assert chat["internlm2.rope.freq_base"] == pytest.approx(10000.0)

    base = fields(export_gguf(tiny_base_model, tmp_path / "base.gguf", "f16"))
    assert "tokenizer.chat_template" not in base
    assert "tokenizer.ggml.eot_token_id" not in base
    assert base["general.file_type"] == gguf.LlamaFileType.MOSTLY_F16


@pytest.fixture(scope="module")
def long_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chat checkpoint trained (nominally) to 256 positions, with dynamic NTK factor 2.

    Softer weights (std 0.05) than the default: llama.cpp builds RoPE angles from float32
    products whose error grows with the position, and very sharp random attention turns that
    into logit differences near 1e-3 at position 600 (5e-5 with these weights). A wrong base
    still moves the logits by several units.
    """
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-long"),
                                 TinySpec(max_positions=256, seed=3, std=0.05))


def test_long_context_rope_base_matches_dynamic_ntk(long_model: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from app.internlm2.llama_map import load_llama_model

    cfg = load_config(long_model)
    n = 600
    ids = _prompt_ids(cfg.vocab_size, n, seed=7)
    model = load_llama_model(long_model, device="cpu", dtype=torch.float32)
    with torch.no_grad():
        ref = model(torch.tensor([ids])).logits[0].numpy()
    path = export_gguf(long_model, tmp_path / "long.gguf", "f32")
    base = official_rope_base(cfg, n)
    assert base > cfg.rope_theta
    llm = _llama(path, n_ctx=n, rope_freq_base=base)
    try:
        scaled = np.abs(_llama_logits(llm, ids) - ref).max()
    finally:
        llm.close()
    llm = _llama(path, n_ctx=n)  # the GGUF's own, unscaled base
    try:
        unscaled = np.abs(_llama_logits(llm, ids) - ref).max()
    finally:
        llm.close()
    assert scaled < 1e-3
    assert unscaled > 0.5, "the test cannot tell the scaled base from the unscaled one"


def test_q4_k_m_loads_and_generates(tiny_model: Path, tmp_path: Path,
                                    f32_llm: llama_cpp.Llama) -> None:
    path = export_gguf(tiny_model, tmp_path / "tiny-q4_k_m.gguf", "q4_k_m")
    reader = gguf.GGUFReader(path)
    assert reader.fields["general.file_type"].contents() == gguf.LlamaFileType.MOSTLY_Q4_K_M
    matrices = [t for t in reader.tensors if len(t.shape) == 2]
    assert matrices and all(t.tensor_type not in (gguf.GGMLQuantizationType.F32,
                                                  gguf.GGMLQuantizationType.F16,
                                                  gguf.GGMLQuantizationType.BF16) for t in matrices)
    assert not list(tmp_path.glob(".*.part*")), "temporary files left behind"
    ids = _prompt_ids(load_config(tiny_model).vocab_size, 24, seed=1)
    llm = _llama(path, n_ctx=64)
    try:
        q4 = _llama_logits(llm, ids)
        generated = _llama_greedy(llm, ids, 8)
    finally:
        llm.close()
    assert np.isfinite(q4).all() and len(generated) == 8
    ref = _llama_logits(f32_llm, ids)
    assert np.corrcoef(q4.ravel(), ref.ravel())[0, 1] > 0.9  # quantized, yet the same model


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rows of 256 values, so that llama.cpp's K-quant blocks fit (the tiny model has 64).

    The synthetic tokenizer: K-quantizing 92,544 x 256 embedding rows (and gguf-py reading the
    vocabulary back) cost ~15 s a case, and the quantizer's choice of types does not depend on it."""
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-wide"),
                                 TinySpec(hidden=256, intermediate=512, layers=1, seed=5, tokenizer="synthetic"))


@pytest.mark.parametrize(("out_type", "expected"), [
    ("q4_k_m", {"Q4_K", "Q6_K"}), ("q5_k_m", {"Q5_K", "Q6_K"}), ("q6_k", {"Q6_K"})])
def test_k_quants_use_k_types(wide_model: Path, tmp_path: Path, out_type: str,
                              expected: set[str]) -> None:
    path = export_gguf(wide_model, tmp_path / f"wide-{out_type}.gguf", out_type)
    reader = gguf.GGUFReader(path)
    types = {t.tensor_type.name for t in reader.tensors if len(t.shape) == 2}
    assert expected <= types <= expected | {"Q8_0", "Q5_0", "Q5_1"}
    llm = _llama(path, n_ctx=32)
    try:
        logits = _llama_logits(llm, _prompt_ids(load_config(wide_model).vocab_size, 12, seed=4))
    finally:
        llm.close()
    assert np.isfinite(logits).all()


@pytest.mark.parametrize("out_type", ["bf16", "f16", "q8_0"])
def test_direct_types_stay_close_to_f32(tiny_model: Path, tmp_path: Path, out_type: str,
                                        f32_llm: llama_cpp.Llama) -> None:
    path = export_gguf(tiny_model, tmp_path / f"tiny-{out_type}.gguf", out_type)
    ids = _prompt_ids(load_config(tiny_model).vocab_size, 16, seed=2)
    llm = _llama(path, n_ctx=64)
    try:
        got = _llama_logits(llm, ids)
    finally:
        llm.close()
    ref = _llama_logits(f32_llm, ids)
    assert np.abs(got - ref).max() < 0.1 * np.abs(ref).max()


@pytest.mark.parametrize(("out_type", "stage"), [("f16", "convert"), ("q4_k_m", "quantize")])
def test_cancel_leaves_no_file(tiny_model: Path, tmp_path: Path, out_type: str, stage: str) -> None:
    cancel = threading.Event()
    seen: list[str] = []

    def progress(name: str, done: int, total: int) -> None:
        seen.append(name)
        if name == stage:
            cancel.set()

    dst = tmp_path / "out.gguf"
    with pytest.raises(ExportCancelled):
        export_gguf(tiny_model, dst, out_type, progress=progress, cancel=cancel)
    assert stage in seen
    assert list(tmp_path.iterdir()) == []


def test_disk_space_is_checked_first(tiny_model: Path, tmp_path: Path) -> None:
    asked: list[Path] = []

    def tiny_disk(path: Path) -> int:
        asked.append(path)
        return 1000

    with pytest.raises(ExportError, match="Not enough disk space.*needs"):
        export_gguf(tiny_model, tmp_path / "out.gguf", "q8_0", free_space=tiny_disk)
    assert asked == [tmp_path]
    assert list(tmp_path.iterdir()) == []


def test_quantizer_failure_is_a_typed_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 100)
    out = tmp_path / "out.gguf"
    with pytest.raises(ExportError, match="quantizer"):
        quantize_gguf(bad, out, "q4_k_m")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.gguf"]


def test_bad_type_and_all_types_listed(tiny_model: Path, tmp_path: Path) -> None:
    from app.commands.convert import TYPES

    assert set(TYPES) == set(OUT_TYPES)
    with pytest.raises(ExportError, match="Unknown GGUF type"):
        export_gguf(tiny_model, tmp_path / "x.gguf", "q3_k_s")


def test_bf16_to_f16_is_exact_for_every_bit_pattern() -> None:
    from app.internlm2.gguf_export import bf16_bits_to_f16
    from app.internlm2.safetensors_io import bf16_bits_to_f32

    every = np.arange(1 << 16, dtype=np.uint16)
    with np.errstate(over="ignore"):
        expected = bf16_bits_to_f32(every).astype(np.float16)
    got = bf16_bits_to_f16(every)
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.uint16), expected[~nan].view(np.uint16))


def test_write_failure_is_a_typed_error_and_leaves_nothing(
        tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from app.internlm2 import gguf_export

    calls = 0
    real = gguf_export._encode

    def failing(raw: np.ndarray, stored: str, qtype: gguf.GGMLQuantizationType) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(raw, stored, qtype)

    monkeypatch.setattr(gguf_export, "_encode", failing)
    with pytest.raises(ExportError, match="No space left"):
        export_gguf(tiny_model, tmp_path / "out.gguf", "f16")
    assert list(tmp_path.iterdir()) == []
