"""`download` and `models` on the command line, and the offline proof: sockets blocked, the app answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from tests.fakehub import FakeHub, closed_port_endpoint
from tests.tinyhub import CHAT_ID, block_foreign_sockets, tiny_hub

ROOT = Path(__file__).resolve().parents[1]

# Imported by every Python process started with this folder on PYTHONPATH: any TCP connection
# or name lookup raises, and is written to the file in NETWORK_LOG first.
_SITECUSTOMIZE = textwrap.dedent('''
    import os, socket

    def _refuse(what):
        with open(os.environ["NETWORK_LOG"], "a", encoding="utf-8") as fh:
            fh.write(what + "\\n")
        raise OSError("network blocked by the test: " + what)

    _real_connect = socket.socket.connect

    def _connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            _refuse(f"connect {address!r}")
        return _real_connect(sock, address)

    socket.socket.connect = _connect
    socket.socket.connect_ex = lambda sock, address: _connect(sock, address) or 0
    socket.create_connection = lambda address, *a, **k: _refuse(f"create_connection {address!r}")
    socket.getaddrinfo = lambda host, *a, **k: _refuse(f"getaddrinfo {host!r}")
''')


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    return cache


@pytest.fixture
def hub(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    block_foreign_sockets(monkeypatch)
    with tiny_hub(tiny_model) as fake:
        yield fake


def models_json(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["models", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {str(row["id"] or row["name"]): row for row in rows}


def test_models_lists_the_catalog_without_a_download(
        hf_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line[2:].split()[0] for line in lines[:3]] == [
        "internlm2-chat-1_8b", "internlm2-chat-1_8b-sft", "internlm2-1_8b"]
    assert lines[0].startswith("* ") and all(line.endswith("not downloaded") for line in lines[:3])


def test_download_and_convert_then_models_shows_it(
        hub: FakeHub, hf_cache: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["download", CHAT_ID, "--convert", "q8_0", "--endpoint", hub.endpoint])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "download" in captured.err and "100%" in captured.err  # the progress bar reached the end
    assert "Converted to " in captured.out
    row = models_json(capsys)[CHAT_ID]
    assert row["state"] == "converted" and row["bytes_present"] == sum(
        (tiny_model / n).stat().st_size for n in os.listdir(tiny_model))
    ggufs = row["ggufs"]
    assert isinstance(ggufs, list) and [g["type"] for g in ggufs] == ["q8_0"]
    assert Path(ggufs[0]["path"]).is_file()
    assert models_json(capsys)["internlm2-1_8b"]["state"] == "not downloaded"


def test_download_takes_the_endpoint_from_hf_endpoint(
        hub: FakeHub, hf_cache: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    assert main(["download", CHAT_ID, "--quiet"]) == 0
    assert models_json(capsys)[CHAT_ID]["state"] == "downloaded"
    assert any(r.method == "GET" for r in hub.requests)


@pytest.mark.parametrize(("argv", "words"), [
    (["download", "no-such-model"], "no model 'no-such-model' in the catalog"),
    (["download", CHAT_ID, "--endpoint", "ftp://mirror"], "is not a web address"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(
        hf_cache: Path, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_hub_errors_are_one_line(hub: FakeHub, hf_cache: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    hub.fail(500, "config.json")
    assert main(["download", CHAT_ID, "--quiet", "--endpoint", hub.endpoint]) == 1
    err = capsys.readouterr().err
    assert "HTTP 500" in err and err.count("\n") == 1
    assert main(["download", CHAT_ID, "--quiet", "--endpoint", closed_port_endpoint()]) == 1
    err = capsys.readouterr().err
    assert "Could not reach the model hub" in err and err.count("\n") == 1


# -- offline: nothing touches the network unless the person asks -------------------------------
def _blocked_run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    full_env = {**os.environ, "PYTHONPATH": str(site), "NETWORK_LOG": str(tmp_path / "network.log")}
    full_env.pop("HF_HUB_OFFLINE", None)
    full_env.pop("HF_ENDPOINT", None)
    full_env.update(env)
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=300)


def test_the_network_block_really_blocks(tmp_path: Path, hub: FakeHub) -> None:
    """The guard the offline test relies on: a download (the person asking) is refused and logged."""
    result = _blocked_run(["download", CHAT_ID, "--endpoint", hub.endpoint, "--quiet"], tmp_path)
    assert result.returncode == 1 and "Could not reach the model hub" in result.stderr
    assert "127.0.0.1" in (tmp_path / "network.log").read_text(encoding="utf-8")
    assert hub.requests == []


def test_offline_after_the_first_download_the_app_starts_lists_loads_and_answers(
        tmp_path: Path, tiny_model: Path, hf_cache: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    block_foreign_sockets(monkeypatch)
    with tiny_hub(tiny_model) as fake:
        assert main(["download", CHAT_ID, "--convert", "q8_0", "--quiet", "--endpoint", fake.endpoint]) == 0
    gguf = Path(models_json(capsys)[CHAT_ID]["ggufs"][0]["path"])  # type: ignore[index]
    # the hub is gone and every socket is blocked; HF_HUB_OFFLINE is not set
    listed = _blocked_run(["models"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "converted (Q8_0)" in listed.stdout
    asked = _blocked_run(["ask", "--model", str(gguf), "--temperature", "0", "--max-tokens", "4",
                          "--ctx", "256", "--json", "Hello?"], tmp_path)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout.splitlines()[-1])
    assert answer["backend"] == "llamacpp" and 1 <= answer["new_tokens"] <= 4
    started = _blocked_run(["--version"], tmp_path)
    assert started.returncode == 0
    # with offline mode on, `download` of the model already there is answered from the cache
    cached = _blocked_run(["download", CHAT_ID, "--quiet"], tmp_path, HF_HUB_OFFLINE="1")
    assert cached.returncode == 0, cached.stderr
    assert "Downloaded InternLM2-Chat-1.8B" in cached.stdout
    log = tmp_path / "network.log"
    assert not log.exists() or log.read_text(encoding="utf-8") == ""
