"""The inference worker on its QThread, observed through its signals (real tiny models)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.engine.loader import LoadSpec, open_backend
from app.engine.types import Finished, GenerateRequest, ModelInfo, StopReason
from app.internlm2.chat_format import Message, Sampling, build_chat_prompt, stop_ids
from app.internlm2.tokenizer import InternLM2Tokenizer
from app.ui.workers.inference_worker import InferenceClient
from tests.conftest import STOP_PROMPT
from tests.pacing import endless_reply, held_reading


@pytest.fixture()
def client(qtbot: QtBot) -> Iterator[InferenceClient]:
    c = InferenceClient()
    yield c
    c.shutdown()


def _request(folder: Path, text: str, **sampling: Any) -> GenerateRequest:
    tok = InternLM2Tokenizer.from_folder(folder)
    ids = build_chat_prompt([Message("user", text)]).ids(tok)
    return GenerateRequest(ids, Sampling(temperature=0.0, **sampling), frozenset(stop_ids(tok, chat=True)))


def _load(qtbot: QtBot, client: InferenceClient, spec: LoadSpec) -> ModelInfo:
    with qtbot.waitSignal(client.loaded, timeout=60000) as blocker:
        client.load(spec)
    info = blocker.args[0]
    assert isinstance(info, ModelInfo)
    return info


@pytest.mark.parametrize("kind", ["gguf", "folder"])
def test_load_generate_and_stop_on_im_end(qtbot: QtBot, client: InferenceClient,
                                          stop_model: tuple[Path, Path, int], kind: str) -> None:
    folder, gguf, k = stop_model
    info = _load(qtbot, client, LoadSpec(gguf if kind == "gguf" else folder, n_ctx=1024, kv_type="f32"))
    assert info.backend == ("llamacpp" if kind == "gguf" else "torch") and info.device
    assert info.n_ctx == 1024 and info.is_chat and info.compute == "cpu" and info.vocab_size > 0
    assert len(info.vocab) == 16 and info.tokenizer.encode("hi")
    texts: list[str] = []
    client.textReady.connect(texts.append)
    with qtbot.waitSignal(client.finished, timeout=60000) as blocker:
        assert client.generate(_request(folder, STOP_PROMPT))
    done: Finished = blocker.args[0]
    assert done.stats.stop_reason is StopReason.STOP_TOKEN and done.stats.new_tokens == k == len(done.token_ids)
    assert "".join(texts) == done.text
    assert not client.busy


def test_text_is_batched_not_one_signal_per_token(qtbot: QtBot, client: InferenceClient,
                                                  stop_model: tuple[Path, Path, int]) -> None:
    folder, gguf, _ = stop_model
    _load(qtbot, client, LoadSpec(gguf, n_ctx=1024))
    texts: list[str] = []
    client.textReady.connect(texts.append)
    with qtbot.waitSignal(client.finished, timeout=60000) as blocker:
        client.generate(_request(folder, "Write a lot.", max_new_tokens=200))
    assert blocker.args[0].stats.new_tokens == 200
    # The tiny model writes thousands of tokens a second: far fewer signals than tokens.
    assert 1 <= len(texts) < 100
    assert "".join(texts) == blocker.args[0].text


def test_second_request_while_busy_is_refused(qtbot: QtBot, client: InferenceClient,
                                              stop_model: tuple[Path, Path, int]) -> None:
    folder, gguf, _ = stop_model
    _load(qtbot, client, LoadSpec(gguf, n_ctx=4096))
    refusals: list[str] = []
    client.refused.connect(refusals.append)
    with endless_reply(client.worker.backend), \
            qtbot.waitSignal(client.finished, timeout=60000) as blocker:  # it ends at the cancel only
        assert client.generate(_request(folder, "long " * 50, max_new_tokens=2000))
        assert not client.generate(_request(folder, "second"))
        client.cancel()
    assert refusals and "still being written" in refusals[0]
    assert blocker.args[0].stats.stop_reason is StopReason.CANCELLED


@pytest.mark.parametrize("case", ["missing", "corrupt"])
def test_load_failures_arrive_as_failed_and_worker_survives(qtbot: QtBot, client: InferenceClient,
                                                            stop_model: tuple[Path, Path, int],
                                                            tmp_path: Path, case: str) -> None:
    path = tmp_path / "model.gguf"
    if case == "corrupt":
        path.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 64)
    with qtbot.waitSignal(client.loadFailed, timeout=30000) as blocker:
        client.load(LoadSpec(path))
    message = blocker.args[0]
    assert ("no model" in message) if case == "missing" else ("not a readable GGUF" in message)
    assert "Traceback" not in message
    _load(qtbot, client, LoadSpec(stop_model[1], n_ctx=512))  # the next request is served


def test_out_of_memory_arrives_as_failed_and_next_request_works(qtbot: QtBot, client: InferenceClient,
                                                                stop_model: tuple[Path, Path, int],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    folder = stop_model[0]
    _load(qtbot, client, LoadSpec(folder, n_ctx=1024))
    backend = client.worker.backend
    assert backend is not None
    real_forward = backend.model.forward  # type: ignore[attr-defined]
    calls = {"n": 0}

    def oom_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(backend.model, "forward", oom_once)  # type: ignore[attr-defined]
    with qtbot.waitSignal(client.failed, timeout=30000) as blocker:
        client.generate(_request(folder, STOP_PROMPT))
    assert "ran out of memory" in blocker.args[0] and "shorter context" in blocker.args[0]
    assert not client.busy
    with qtbot.waitSignal(client.finished, timeout=60000) as done:
        client.generate(_request(folder, STOP_PROMPT))
    assert done.args[0].stats.stop_reason is StopReason.STOP_TOKEN


def test_generate_without_model(qtbot: QtBot, client: InferenceClient, stop_model: tuple[Path, Path, int]) -> None:
    with qtbot.waitSignal(client.failed, timeout=10000) as blocker:
        client.generate(_request(stop_model[0], "hi"))
    assert "No model is loaded" in blocker.args[0]


def test_factory_is_the_real_loader() -> None:
    assert InferenceClient.__init__.__defaults__ is not None
    assert InferenceClient.__init__.__defaults__[0] is open_backend


def test_stop_after_a_reply_ended_does_not_cancel_the_next(qtbot: QtBot, client: InferenceClient,
                                                           stop_model: tuple[Path, Path, int]) -> None:
    folder, gguf, k = stop_model
    _load(qtbot, client, LoadSpec(gguf, n_ctx=1024))
    with qtbot.waitSignal(client.finished, timeout=60000):
        client.generate(_request(folder, STOP_PROMPT))
    client.cancel()  # a late Stop: the reply already ended
    with qtbot.waitSignal(client.finished, timeout=60000) as blocker:
        client.generate(_request(folder, STOP_PROMPT))
    assert blocker.args[0].stats.stop_reason is StopReason.STOP_TOKEN and blocker.args[0].stats.new_tokens == k


def test_stop_right_after_send_applies(qtbot: QtBot, client: InferenceClient,
                                       stop_model: tuple[Path, Path, int]) -> None:
    folder, gguf, _ = stop_model
    _load(qtbot, client, LoadSpec(gguf, n_ctx=4096))
    # The first prefill chunk waits for the cancel: however slow this thread is, none is sampled.
    with held_reading(client.worker.backend, chunks=0), \
            qtbot.waitSignal(client.finished, timeout=60000) as blocker:
        client.generate(_request(folder, "long " * 400, max_new_tokens=50))
        client.cancel()
    assert blocker.args[0].stats.stop_reason is StopReason.CANCELLED and blocker.args[0].stats.new_tokens == 0
