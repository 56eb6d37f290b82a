"""Chat format: ChatML layout, stop tokens, tool calls, the base model's plain prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.internlm2.catalog import find_model, load_catalog
from app.internlm2.chat_format import (
    DEFAULT_SYSTEM_PROMPT,
    OFFICIAL_SAMPLING,
    Message,
    ToolCall,
    build_base_prompt,
    build_chat_prompt,
    parse_reply,
    stop_ids,
)
from app.internlm2.config import load_config
from app.internlm2.rope import ntk_rope_base, official_rope_base
from app.internlm2.tokenizer import IM_END, IM_START, InternLM2Tokenizer


@pytest.fixture(scope="module")
def tok(tiny_model: Path) -> InternLM2Tokenizer:
    return InternLM2Tokenizer.from_folder(tiny_model)


def test_chatml_layout_and_ids(tok: InternLM2Tokenizer) -> None:
    prompt = build_chat_prompt([Message("system", "Be brief."), Message("user", "Hi <|im_end|>")])
    assert prompt.text() == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi <|im_end|><|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    ids = prompt.ids(tok)
    im_start, im_end = tok.special.id(IM_START), tok.special.id(IM_END)
    assert ids[0] == tok.special.bos and ids[1] == im_start
    # Exactly the template's specials: 3 starts and 2 ends; the typed "<|im_end|>" is plain text.
    assert ids.count(im_start) == 3 and ids.count(im_end) == 2
    assert ids[-1] != im_end
    assert tok.decode(ids, skip_special=False).endswith("<|im_start|>assistant\n")


def test_text_between_specials_is_one_run(tok: InternLM2Tokenizer) -> None:
    prompt = build_chat_prompt([Message("user", "hello")], add_generation_prompt=False)
    im_start, im_end = tok.special.id(IM_START), tok.special.id(IM_END)
    ids = prompt.ids(tok)
    assert ids == [tok.special.bos, im_start, *tok.encode("user\nhello"), im_end, *tok.encode("\n")]


def test_stop_ids_always_hold_im_end_for_chat(tok: InternLM2Tokenizer) -> None:
    assert stop_ids(tok, chat=True) == {2, tok.special.id(IM_END)}
    assert stop_ids(tok, chat=False) == {2}
    assert tok.special.id(IM_END) in stop_ids(tok, chat=True, generation_eos=[2])


def test_tools_and_environment_turns(tok: InternLM2Tokenizer) -> None:
    call = ToolCall("plugin", "search", {"q": "x"}, '{"name": "search", "parameters": {"q": "x"}}')
    msgs = [
        Message("system", DEFAULT_SYSTEM_PROMPT),
        Message("user", "find x"),
        Message("assistant", "Let me search.", tool_call=call),
        Message("environment", '{"result": 1}', name="plugin"),
    ]
    text = build_chat_prompt(msgs, tools=[{"name": "search"}]).text()
    assert "<|im_start|>system name=<|plugin|>\n[{\"name\": \"search\"}]<|im_end|>\n" in text
    assert "Let me search.<|action_start|><|plugin|>\n{\"name\": \"search\"" in text
    assert "<|action_end|><|im_end|>" in text
    assert "<|im_start|>environment name=<|plugin|>\n{\"result\": 1}<|im_end|>" in text
    ids = build_chat_prompt(msgs, tools=[{"name": "search"}]).ids(tok)
    assert ids.count(tok.special.id("<|plugin|>")) == 3


def test_parse_tool_call() -> None:
    reply = parse_reply('I will look.<|action_start|><|plugin|>\n{"name": "weather", '
                        '"parameters": {"city": "上海"}}<|action_end|><|im_end|>')
    assert reply.content == "I will look."
    assert reply.tool_call is not None
    assert reply.tool_call.kind == "plugin" and reply.tool_call.name == "weather"
    assert reply.tool_call.parameters == {"city": "上海"}
    code = parse_reply("Run it:<|action_start|><|interpreter|>\nprint(1)<|action_end|>")
    assert code.tool_call is not None and code.tool_call.parameters == {"code": "print(1)"}
    plain = parse_reply("Just text.<|im_end|>")
    assert plain.tool_call is None and plain.content == "Just text."


def test_base_model_has_no_template(tok: InternLM2Tokenizer) -> None:
    prompt = build_base_prompt("Once upon a time")
    assert prompt.ids(tok) == [tok.special.bos, *tok.encode("Once upon a time")]


def test_official_defaults() -> None:
    assert (OFFICIAL_SAMPLING.temperature, OFFICIAL_SAMPLING.top_p) == (0.8, 0.8)
    assert OFFICIAL_SAMPLING.max_new_tokens == 1024 and OFFICIAL_SAMPLING.repetition_penalty == 1.0
    assert DEFAULT_SYSTEM_PROMPT.startswith("You are an AI assistant whose name is InternLM (书生·浦语).")


def test_ntk_base_formula(tiny_model: Path) -> None:
    assert ntk_rope_base(1e6, 128, 2.0, 32768, 32768) == 1e6
    # 64K tokens: scale 3, exponent 128/126.
    assert ntk_rope_base(1e6, 128, 2.0, 32768, 65536) == pytest.approx(1e6 * 3 ** (128 / 126))
    cfg = load_config(tiny_model)
    assert official_rope_base(cfg, cfg.max_position_embeddings) == cfg.rope_theta
    assert official_rope_base(cfg, 4 * cfg.max_position_embeddings) > cfg.rope_theta


def test_catalog_has_the_three_models() -> None:
    models = load_catalog()
    assert {m.repo for m in models} == {
        "internlm/internlm2-1_8b", "internlm/internlm2-chat-1_8b-sft", "internlm/internlm2-chat-1_8b"}
    assert models[0].repo == "internlm/internlm2-chat-1_8b" and models[0].recommended
    base = find_model("internlm/internlm2-1_8b")
    assert base is not None and not base.is_chat and "model.safetensors" in base.files
    assert all(m.default_quant == "q4_k_m" for m in models)
