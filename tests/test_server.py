"""The local server through the REAL openai client: a real uvicorn on a free loopback port,
the real llama.cpp engine on the tiny model (sampling scripted only where a call must appear)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import openai
import pytest

from app.engine.types import StopReason
from app.internlm2.chat_format import Prompt, Special
from app.server.engine_adapter import EngineAdapter, RunResult
from app.server.runner import LocalServer, ServerOptions, bind
from app.server.scheduler import JobReport
from tests.server_helpers import ScriptedBackend

KEY = "sk-test-0123456789"
MAX_BODY = 64 * 1024
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city now.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def _markup(served: _Served) -> str:
    """The cached prompt as text with special-token names (the tokenizer's word-start space
    after each special token removed, as the chat template writes it)."""
    text = served.backend.tokenizer.decode(served.backend.cached_tokens, skip_special=False)
    return re.sub(r"(<\|[a-z_]+\|>) ", r"\1", text)


class _Served:
    def __init__(self, server: LocalServer, backend: ScriptedBackend) -> None:
        self.server = server
        self.backend = backend
        self.reports: list[JobReport] = []
        self.finished = threading.Event()
        server.queue.on_done(self._done)

    def _done(self, report: JobReport) -> None:
        self.reports.append(report)
        self.finished.set()

    def client(self, key: str = KEY, **kwargs: object) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.server.url, api_key=key, max_retries=0, timeout=60, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def served(tiny_gguf: Path) -> Iterator[_Served]:
    backend = ScriptedBackend(tiny_gguf, n_ctx=2048, kv_type="f32")
    options = ServerOptions(port=0, api_key=KEY, max_body_bytes=MAX_BODY, max_waiting=4)
    server = LocalServer(EngineAdapter(backend, "tiny-chat"), options, bind("127.0.0.1", 0)).start()
    yield _Served(server, backend)
    server.stop()
    backend.unload()


@pytest.fixture()
def api(served: _Served) -> Iterator[_Served]:
    yield served
    served.backend.release()
    served.backend.script([])
    served.server.queue.max_waiting = 4
    served.finished.clear()


def _ask(client: openai.OpenAI, text: str, **kwargs: object) -> object:
    return client.chat.completions.create(model="tiny-chat", messages=[{"role": "user", "content": text}],
                                          temperature=0, **kwargs)  # type: ignore[call-overload]


def test_lists_the_model(api: _Served) -> None:
    models = api.client().models.list()
    assert [m.id for m in models.data] == ["tiny-chat"]


def test_chat_completion_with_usage(api: _Served) -> None:
    reply = _ask(api.client(), "What is the capital of France?", max_tokens=12)
    choice = reply.choices[0]  # type: ignore[attr-defined]
    assert choice.message.role == "assistant" and isinstance(choice.message.content, str)
    assert choice.finish_reason in ("stop", "length")
    usage = reply.usage  # type: ignore[attr-defined]
    assert 0 < usage.completion_tokens <= 12 and usage.prompt_tokens > 20
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details.cached_tokens is not None


def test_stream_assembles_to_the_non_streamed_reply(api: _Served) -> None:
    client = api.client()
    plain = _ask(client, "Tell me about long documents.", max_tokens=40, seed=3)
    chunks = list(_ask(client, "Tell me about long documents.", max_tokens=40, seed=3, stream=True))  # type: ignore[call-overload]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content  # type: ignore[attr-defined]
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1  # really streamed
    assert chunks[-1].choices[0].finish_reason == plain.choices[0].finish_reason  # type: ignore[attr-defined]
    assert chunks[-1].usage.completion_tokens == plain.usage.completion_tokens  # type: ignore[attr-defined]


def test_stream_options_include_usage_sends_a_usage_chunk(api: _Served) -> None:
    chunks = list(_ask(api.client(), "Hi", max_tokens=5, stream=True,  # type: ignore[call-overload]
                       stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens <= 5


def test_tools_request_returns_tool_calls(api: _Served) -> None:
    api.backend.script_text("Let me look.", Special("<|action_start|>"), Special("<|plugin|>"),
                            '\n{"name": "get_weather", "parameters": {"city": "Paris"}}',
                            Special("<|action_end|>"), Special("<|im_end|>"))
    reply = _ask(api.client(), "Weather in Paris?", tools=[WEATHER])
    choice = reply.choices[0]  # type: ignore[attr-defined]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert choice.message.content == "Let me look."
    # The tools were described in the plugin system turn, as InternLM2 expects.
    prompt = _markup(api)
    assert '<|im_start|>system name=<|plugin|>\n[{"name": "get_weather"' in prompt


def test_streamed_tool_call_and_no_markup_in_content(api: _Served) -> None:
    api.backend.script_text(Special("<|action_start|>"), Special("<|plugin|>"),
                            '\n{"name": "get_weather", "parameters": {"city": "Oslo"}}',
                            Special("<|action_end|>"), Special("<|im_end|>"))
    chunks = list(_ask(api.client(), "Weather in Oslo?", tools=[WEATHER], stream=True))  # type: ignore[call-overload]
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls = [t for c in chunks if c.choices for t in c.choices[0].delta.tool_calls or []]
    assert content == ""  # the call's JSON never streams as text
    assert len(calls) == 1 and calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments) == {"city": "Oslo"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_named_tool_choice_starts_the_call_in_the_prompt(api: _Served) -> None:
    api.backend.script_text('{"city": "Rome"}}', Special("<|action_end|>"), Special("<|im_end|>"))
    reply = _ask(api.client(), "Rome?", tools=[WEATHER],
                 tool_choice={"type": "function", "function": {"name": "get_weather"}})
    (call,) = reply.choices[0].message.tool_calls  # type: ignore[attr-defined]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Rome"}
    with pytest.raises(openai.BadRequestError, match="not among the tools"):
        _ask(api.client(), "Rome?", tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}})


def test_follow_up_rereads_only_the_new_turn(api: _Served) -> None:
    client = api.client()
    history: list[dict[str, object]] = [{"role": "user", "content": "Name a fox."}]
    first = client.chat.completions.create(model="m", messages=history, temperature=0, max_tokens=16)  # type: ignore[arg-type]
    history.append({"role": "assistant", "content": first.choices[0].message.content})
    history.append({"role": "user", "content": "And a dog?"})
    second = client.chat.completions.create(model="m", messages=history, temperature=0, max_tokens=4)  # type: ignore[arg-type]
    cached = second.usage.prompt_tokens_details.cached_tokens  # type: ignore[union-attr]
    assert cached == first.usage.prompt_tokens + first.usage.completion_tokens  # type: ignore[union-attr]
    new_turn = Prompt()
    new_turn.add(Special("<|im_end|>"), "\n", Special("<|im_start|>"), "user\nAnd a dog?", Special("<|im_end|>"),
                 "\n", Special("<|im_start|>"), "assistant\n")
    read = second.usage.prompt_tokens - cached  # type: ignore[union-attr]
    assert read == len(new_turn.ids(api.backend.tokenizer, bos=False))  # only the new turn was read


def test_follow_up_after_a_tool_call_reuses_the_call(api: _Served) -> None:
    api.backend.script_text(Special("<|action_start|>"), Special("<|plugin|>"),
                            '\n{"name": "get_weather", "parameters": {"city": "Lima"}}',
                            Special("<|action_end|>"), Special("<|im_end|>"))
    client = api.client()
    history: list[dict[str, object]] = [{"role": "user", "content": "Lima?"}]
    first = client.chat.completions.create(model="m", messages=history, tools=[WEATHER], temperature=0)  # type: ignore[arg-type]
    message = first.choices[0].message
    history.append(message.model_dump(exclude_none=True))
    history.append({"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": '{"temp_c": 18}'})  # type: ignore[index]
    second = client.chat.completions.create(model="m", messages=history, tools=[WEATHER], temperature=0,  # type: ignore[arg-type]
                                            max_tokens=4)
    assert second.usage.prompt_tokens_details.cached_tokens == (  # type: ignore[union-attr]
        first.usage.prompt_tokens + first.usage.completion_tokens)  # type: ignore[union-attr]
    prompt = _markup(api)
    assert '<|im_start|>environment name=<|plugin|>\n{"temp_c": 18}<|im_end|>' in prompt


def test_stop_strings_cut_the_reply(api: _Served) -> None:
    client = api.client()
    full = _ask(client, "Tell me a story.", max_tokens=40).choices[0].message.content  # type: ignore[attr-defined]
    assert len(full) > 12, "the tiny model's greedy reply should be long enough to cut"
    stop = full[6:9]
    cut = full[:full.index(stop)]
    reply = _ask(client, "Tell me a story.", max_tokens=40, stop=[stop])
    assert reply.choices[0].message.content == cut and reply.choices[0].finish_reason == "stop"  # type: ignore[attr-defined]
    chunks = list(_ask(client, "Tell me a story.", max_tokens=40, stop=stop, stream=True))  # type: ignore[call-overload]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == cut


def test_disconnect_mid_stream_cancels_within_a_second(api: _Served) -> None:
    api.backend.script(api.backend.tokenizer.encode("Hello there friend"))
    api.backend.hold()
    stream = _ask(api.client(), "Talk forever.", max_tokens=1000, stream=True)
    for chunk in stream:  # type: ignore[attr-defined]
        if chunk.choices and chunk.choices[0].delta.content:
            break
    assert api.backend.held.wait(10), "the generation never reached the held step"
    api.finished.clear()
    closed = time.monotonic()
    stream.close()  # type: ignore[attr-defined]
    assert api.finished.wait(10), "the generation did not end after the client left"
    elapsed = time.monotonic() - closed
    result = api.reports[-1].result
    assert isinstance(result, RunResult) and result.stats.stop_reason is StopReason.CANCELLED
    assert elapsed < 1.0, f"cancelling took {elapsed:.2f} s after the disconnect (bounded by 1 s)"


def test_two_concurrent_clients_are_served_one_at_a_time(api: _Served) -> None:
    client = api.client()
    alone = [_ask(client, q, max_tokens=10).choices[0].message.content for q in ("First?", "Second?")]  # type: ignore[attr-defined]
    api.backend.max_active = 0
    api.backend.hold()
    results: dict[str, str] = {}

    def ask(q: str) -> None:
        results[q] = _ask(api.client(), q, max_tokens=10).choices[0].message.content  # type: ignore[attr-defined]

    threads = [threading.Thread(target=ask, args=("First?",))]
    threads[0].start()
    assert api.backend.held.wait(10), "the first request did not start"
    threads.append(threading.Thread(target=ask, args=("Second?",)))
    threads[1].start()
    deadline = time.monotonic() + 10
    while api.server.queue.waiting < 1:
        assert time.monotonic() < deadline, "the second request never queued"
        time.sleep(0.01)
    api.backend.release()
    for t in threads:
        t.join(30)
    assert [results["First?"], results["Second?"]] == alone
    assert api.backend.max_active == 1


def test_beyond_the_queue_bound_429_with_retry_after(api: _Served) -> None:
    api.server.queue.max_waiting = 0
    api.backend.hold()
    worker = threading.Thread(target=lambda: _ask(api.client(), "Busy?", max_tokens=3))
    worker.start()
    assert api.backend.held.wait(10), "the first request did not start"
    with pytest.raises(openai.RateLimitError) as err:
        _ask(api.client(), "Me too?", max_tokens=3)
    assert int(err.value.response.headers["retry-after"]) >= 1
    api.backend.release()
    worker.join(30)


def test_no_key_or_a_wrong_key_is_401(api: _Served) -> None:
    with pytest.raises(openai.AuthenticationError, match="API key"):
        api.client(key="sk-wrong-key-123").models.list()
    assert httpx.get(api.server.url + "/models").status_code == 401
    assert httpx.get(api.server.url.removesuffix("/v1") + "/health").status_code == 200


def test_oversized_body_is_413(api: _Served) -> None:
    import random

    words = [random.choice(["fox", "river", "书生", "dog", "🦊"]) for _ in range(MAX_BODY // 3)]
    big = " ".join(words)
    with pytest.raises(openai.APIStatusError) as err:
        _ask(api.client(), big)
    assert err.value.status_code == 413
    # Without a Content-Length (chunked), the cap still holds.
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": big}]}).encode()
    chunked = httpx.post(api.server.url + "/chat/completions", content=iter([body[i:i + 4096] for i in range(0, len(body), 4096)]),
                         headers={"Authorization": f"Bearer {KEY}"})
    assert chunked.status_code == 413


def test_browser_origin_and_foreign_host_are_403(api: _Served) -> None:
    with pytest.raises(openai.PermissionDeniedError, match="web pages"):
        api.client(default_headers={"Origin": "https://evil.example"}).models.list()
    rebound = httpx.get(api.server.url + "/models", headers={"Authorization": f"Bearer {KEY}",
                                                             "Host": "evil.example:8080"})
    assert rebound.status_code == 403


def test_a_prompt_that_does_not_fit_is_400_with_the_budget_sentence(api: _Served) -> None:
    words = " ".join(f"w{i % 97}" for i in range(6000))  # far more tokens than the 2,048 context
    with pytest.raises(openai.BadRequestError, match="context holds 2,048; nothing was cut"):
        _ask(api.client(), words[:30000])
    with pytest.raises(openai.BadRequestError, match="max_tokens"):
        _ask(api.client(), "Hi", max_tokens=5000)


@pytest.mark.parametrize("fields, word", [({"temperature": 5}, "temperature"), ({"n": 2}, "n"),
                                          ({"logprobs": True}, "logprobs"), ({"messages": []}, "messages")])
def test_invalid_fields_are_400_with_a_sentence(api: _Served, fields: dict[str, object], word: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], **fields}
    r = httpx.post(api.server.url + "/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 400 and word in r.json()["error"]["message"]


def test_completions_continue_text(api: _Served) -> None:
    client = api.client()
    plain = client.completions.create(model="m", prompt="The quick brown fox", max_tokens=8, temperature=0)
    assert plain.choices[0].finish_reason in ("stop", "length") and plain.usage.completion_tokens <= 8  # type: ignore[union-attr]
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model="m", prompt="The quick brown fox", max_tokens=8, temperature=0, stream=True) if c.choices)
    assert streamed == plain.choices[0].text


def test_disconnect_while_waiting_for_a_whole_reply_cancels_it(api: _Served) -> None:
    api.backend.hold()
    body = json.dumps({"model": "m", "max_tokens": 1000, "messages": [{"role": "user", "content": "Go on."}]})
    port = int(api.server.url.rsplit(":", 1)[1].split("/")[0])
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    assert api.backend.held.wait(10), "the generation never reached the held step"
    api.finished.clear()
    closed = time.monotonic()
    conn.close()  # a non-streaming client gives up
    assert api.finished.wait(10), "the generation did not end after the client left"
    elapsed = time.monotonic() - closed
    result = api.reports[-1].result
    assert isinstance(result, RunResult) and result.stats.stop_reason is StopReason.CANCELLED
    assert elapsed < 1.0, f"cancelling took {elapsed:.2f} s after the disconnect (bounded by 1 s)"
