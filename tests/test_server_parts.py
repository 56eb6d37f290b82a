"""The server's parts without HTTP: stop strings on generated text, the tools mapping, the
Host parsing, the bounded queue; and the command line (a real `main.py serve` process)."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.server.errors import BadRequest, QueueFull
from app.server.protocol import ChatMessageIn, NamedToolChoice, ToolDef
from app.server.scheduler import GenerationQueue, JobSkipped
from app.server.security import host_name
from app.server.stops import StopMatcher
from app.server.tools import plan_tools, to_messages

ROOT = Path(__file__).resolve().parents[1]
_ALPHABET = "ab c\n书🦊"


def _reference(text: str, stops: list[str]) -> tuple[str, bool]:
    hits = [text.find(s) for s in stops if s and s in text]
    return (text[:min(hits)], True) if hits else (text, False)


@pytest.mark.parametrize("seed", range(200))
def test_stop_matcher_equals_a_cut_of_the_whole_text(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 60)))
    stops = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 4))]
    cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(0, 10))))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    matcher = StopMatcher(stops)
    out = "".join(matcher.push(p) for p in pieces) + matcher.flush()
    assert (out, matcher.matched) == _reference(text, stops)


def _tool(name: str) -> ToolDef:
    return ToolDef.model_validate({"type": "function", "function": {"name": name, "parameters": {}}})


def test_tool_choice_maps_to_the_plugin_protocol() -> None:
    tools = [_tool("a"), _tool("b")]
    assert plan_tools(tools, None).functions == [{"name": "a", "parameters": {}}, {"name": "b", "parameters": {}}]
    assert plan_tools(tools, "none").functions is None
    required = plan_tools(tools, "required")
    assert required.force and required.forced_text == "\n"
    named = plan_tools(tools, NamedToolChoice.model_validate({"function": {"name": "b"}}))
    assert named.forced_text == '\n{"name": "b", "parameters": '
    with pytest.raises(BadRequest):
        plan_tools(None, "required")


def test_messages_map_to_internlm2_turns() -> None:
    msgs = [ChatMessageIn.model_validate(m) for m in (
        {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
            {"id": "2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "1", "content": "42"})]
    out = to_messages(msgs)
    assert [m.role for m in out] == ["system", "user", "assistant", "assistant", "environment"]
    assert out[1].content == "Hi there" and out[4].name == "plugin"
    assert out[2].tool_call is not None and json.loads(out[2].tool_call.raw) == {"name": "f", "parameters": {"x": 1}}
    bad = ChatMessageIn.model_validate({"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": "{not json"}}]})
    with pytest.raises(BadRequest, match="not valid JSON"):
        to_messages([bad])
    image = ChatMessageIn.model_validate({"role": "user", "content": [{"type": "image_url", "image_url": {}}]})
    with pytest.raises(BadRequest, match="Only text"):
        to_messages([image])


@pytest.mark.parametrize("header, name", [("127.0.0.1:8080", "127.0.0.1"), ("LOCALHOST", "localhost"),
                                          ("[::1]:80", "::1"), ("evil.example:1", "evil.example"), ("", "")])
def test_host_names(header: str, name: str) -> None:
    assert host_name(header) == name


def test_queue_runs_one_at_a_time_and_refuses_beyond_its_bound() -> None:
    queue = GenerationQueue(max_waiting=1)
    gate, started = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        gate.wait(10)
        return 1

    try:
        first = queue.submit(slow, threading.Event())
        assert started.wait(10)
        second = queue.submit(lambda: 2, threading.Event())
        with pytest.raises(QueueFull) as err:
            queue.submit(lambda: 3, threading.Event())
        assert err.value.retry_after >= 1
        skipped = threading.Event()
        skipped.set()
        gate.set()
        assert (first.result(10), second.result(10)) == (1, 2)
        with pytest.raises(JobSkipped):  # its client left before its turn: never run
            queue.submit(lambda: 4, skipped).result(10)
    finally:
        gate.set()
        queue.close()


# -- the command line ---------------------------------------------------------------------------
def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", "serve", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_serve_refuses_a_taken_port_in_one_line(tiny_gguf: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        out = _serve("--model", str(tiny_gguf), "--port", str(taken.getsockname()[1]))
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "already in use" in out.stderr


@pytest.mark.parametrize("kind", ["missing", "garbage"])
def test_serve_refuses_a_model_that_cannot_load_in_one_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "model.gguf"
    if kind == "garbage":
        path.write_bytes(random.Random(5).randbytes(4096))
    out = _serve("--model", str(path), "--port", "0")
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert "Traceback" not in out.stderr


def test_serve_needs_an_explicit_option_beyond_loopback(tiny_gguf: Path) -> None:
    out = _serve("--model", str(tiny_gguf), "--host", "0.0.0.0", "--port", "0")
    assert out.returncode == 1 and "--allow-network" in out.stderr


def test_serve_prints_address_and_key_and_answers(tiny_gguf: Path) -> None:
    import openai

    proc = subprocess.Popen([sys.executable, "main.py", "serve", "--model", str(tiny_gguf), "--port", "0",
                             "--ctx", "512"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        url = lines[0].rsplit(" at ", 1)[1].strip()
        key = lines[1].removeprefix("API key: ").strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1") and key.startswith("sk-local-")
        client = openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60)
        assert [m.id for m in client.models.list().data] == [tiny_gguf.stem]
        reply = client.chat.completions.create(model=tiny_gguf.stem, max_tokens=3, temperature=0,
                                               messages=[{"role": "user", "content": "Hi"}])
        assert reply.usage is not None and reply.usage.completion_tokens <= 3
    finally:
        proc.terminate()
        proc.wait(30)


def test_base_model_serves_completions_and_refuses_chat(tiny_base_model: Path, tmp_path: Path) -> None:
    import openai

    from app.engine.llamacpp_backend import LlamaCppBackend
    from app.internlm2.gguf_export import export_gguf
    from app.server.engine_adapter import EngineAdapter
    from app.server.runner import LocalServer, ServerOptions, bind

    backend = LlamaCppBackend(export_gguf(tiny_base_model, tmp_path / "base.gguf", "f32"), n_ctx=512)
    server = LocalServer(EngineAdapter(backend), ServerOptions(port=0, api_key=None), bind("127.0.0.1", 0)).start()
    try:
        client = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=60)
        done = client.completions.create(model="base", prompt="The quick brown", max_tokens=6, temperature=0)
        assert done.usage is not None and 0 < done.usage.completion_tokens <= 6
        with pytest.raises(openai.BadRequestError, match="base model"):
            client.chat.completions.create(model="base", messages=[{"role": "user", "content": "Hi"}])
    finally:
        server.stop()
        backend.unload()


def test_the_server_stack_loads_only_with_serve() -> None:
    """The CLI and the window never import FastAPI, uvicorn or sse-starlette at start-up."""
    heavy = ("fastapi", "uvicorn", "sse_starlette", "starlette", "pydantic", "openai")
    code = ("import sys, app.cli, app.server, app.commands.serve; app.cli.build_parser(); "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
