"""The command line as a daily user meets it: usage errors, help, the next command, catalog ids
for --model, hints that name command-line fixes, and the Qt library check before the window."""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import COMMANDS, build_parser, main
from app.commands.hints import cli_sentence, program
from app.qt_libraries import (
    QT_XCB_LIBRARIES,
    missing_qt_libraries_sentence,
    missing_sentence,
    qt_platform,
)
from tests.fakehub import closed_port_endpoint
from tests.tinyhub import CHAT_ID, block_foreign_sockets, tiny_hub

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A platform plugin that does not exist: had the window been started, Qt would abort.
    full = {**os.environ, "QT_QPA_PLATFORM": "no-such-platform", **env}
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    return cache


def _unknown_words(n: int) -> list[str]:
    rng = random.Random(13)
    words = ["foo", "chat", "Ask", "model", "läuft", "模型", "x" * 300]
    while len(words) < n:
        words.append("".join(rng.choice(string.ascii_letters + string.digits + "_.")
                             for _ in range(rng.randrange(1, 12))))
    return [w for w in words if w not in COMMANDS and not w.startswith("-")]


# -- usage and help ----------------------------------------------------------------------------
def test_an_unknown_command_prints_usage_and_exits_2_without_the_window() -> None:
    result = _run("foo", "bar")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("usage: python main.py") and "invalid choice: 'foo'" in result.stderr
    assert "models" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("word", _unknown_words(24))
def test_any_unknown_word_is_a_usage_error(word: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import main as entry

    def no_window(_argv: list[str]) -> int:
        raise AssertionError("the window was started")

    import app.ui.startup.application

    monkeypatch.setattr(app.ui.startup.application, "run_gui", no_window)
    monkeypatch.setattr(sys, "argv", ["main.py", word, "--model", "x.gguf"])
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_help_lists_selftest_and_the_commands() -> None:
    result = _run("--help")
    assert result.returncode == 0
    assert "--selftest" in result.stdout and "check an install" in result.stdout
    for name in COMMANDS:
        assert name in result.stdout


def test_selftest_help_is_its_own() -> None:
    result = _run("--selftest", "--help")
    assert result.returncode == 0 and "--question" in result.stdout


def test_selftest_through_the_console_script_says_how_to_run_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--selftest", "--model", "x.gguf"]) == 2
    assert "--selftest --model PATH" in capsys.readouterr().err


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


@pytest.mark.parametrize("name", ["ask", "models", "download"])
def test_every_option_has_help_text(name: str) -> None:
    parser = _subparser(name)
    missing = [a.dest for a in parser._actions
               if not isinstance(a, argparse._HelpAction) and not (a.help and a.help.strip())]
    assert missing == []


# -- models: marks and the next command ---------------------------------------------------------
def test_models_explains_its_marks_and_says_the_next_command(
        hf_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "* recommended" in out and "+ added by you" in out
    assert out.strip().splitlines()[-1] == (
        f"Next: download and convert the recommended model with {program()} "
        f"download {CHAT_ID} --convert q4_k_m")
    assert main(["models", "--json"]) == 0
    assert all(json.loads(line) for line in capsys.readouterr().out.splitlines())  # JSON only
    helped = _run("models", "--help")
    assert "Marks: * the recommended model, + a model you added" in " ".join(helped.stdout.split())


# -- ask --model CATALOG_ID ----------------------------------------------------------------------
def test_ask_with_a_catalog_id_not_downloaded_says_the_command(
        hf_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--model", CHAT_ID, "Hello?"]) == 1
    err = capsys.readouterr().err
    assert "not on this computer yet" in err and f"download {CHAT_ID} --convert q4_k_m" in err
    assert err.count("\n") == 1
    assert main(["ask", "--model", "InternLM2-Chat-1.8B", "Hello?"]) == 1  # the name, with its dot
    assert "not on this computer yet" in capsys.readouterr().err
    assert main(["ask", "--model", "no-such-model", "Hello?"]) == 1
    err = capsys.readouterr().err
    assert "no catalog model of that name" in err and CHAT_ID in err and "models" in err


def test_ask_with_a_catalog_id_uses_the_folder_then_the_converted_gguf(
        hf_cache: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    block_foreign_sockets(monkeypatch)
    with tiny_hub(tiny_model) as fake:
        assert main(["download", CHAT_ID, "--quiet", "--endpoint", fake.endpoint]) == 0
        capsys.readouterr()
        # downloaded, not converted: llama.cpp needs a GGUF and says how to make one
        assert main(["ask", "--model", CHAT_ID, "--backend", "llamacpp", "Hello?"]) == 1
        err = capsys.readouterr().err
        assert "no GGUF file yet (downloaded but not converted)" in err and "--convert q4_k_m" in err
        ask = ["ask", "--model", CHAT_ID, "--temperature", "0", "--max-tokens", "4", "--ctx", "256",
               "--json", "Hello?"]
        assert main([*ask[:3], "--backend", "torch", *ask[3:]]) == 0  # the checkpoint folder
        assert json.loads(capsys.readouterr().out.splitlines()[-1])["backend"] == "torch"
        assert main(["download", CHAT_ID, "--quiet", "--convert", "f32", "--endpoint", fake.endpoint]) == 0
    capsys.readouterr()
    assert main(ask) == 0  # the converted GGUF, with the hub gone
    answer = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert answer["backend"] == "llamacpp" and 1 <= answer["new_tokens"] <= 4
    assert main(["models"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith(f'ask --model {CHAT_ID} "Hello"')


# -- hints name command-line fixes ---------------------------------------------------------------
def _hub_errors() -> list[Exception]:
    from app.hub import errors as hub

    return [hub.HubUnreachableError("https://huggingface.co", "timed out"),
            hub.HubUnreachableError("https://huggingface.co", proxy="http://proxy:3128"),
            hub.RemoteFileNotFoundError("internlm/x", "main", "config.json"),
            hub.HubAccessError("internlm/x", 403),
            hub.ChecksumMismatchError("a.safetensors", Path("/tmp/kept"), "abc", "def"),
            hub.BadEndpointError("ftp://mirror"),
            hub.OfflineModeError("InternLM2-Chat-1.8B", ("config.json",), Path("/tmp/hub"))]


@pytest.mark.parametrize("err", _hub_errors(), ids=lambda e: type(e).__name__)
def test_hub_hints_on_the_command_line_name_options_not_settings(err: Exception) -> None:
    from app.errors import UserError

    assert isinstance(err, UserError)
    sentence = cli_sentence(err)
    assert "Settings" not in sentence and err.message in sentence
    assert any(word in sentence for word in ("--endpoint", "--proxy", "HF_HUB_OFFLINE")), sentence


def test_engine_hints_that_name_settings_get_options(tmp_path: Path) -> None:
    from app.engine.llamacpp_runtime import LlamaCppUnavailable
    from app.engine.types import EngineError

    gpu = cli_sentence(EngineError("No CUDA GPU can be used: none.",
                                   "Choose the CPU or the llama.cpp backend in Settings."))
    assert "--device cpu" in gpu and "Settings" not in gpu
    missing = cli_sentence(LlamaCppUnavailable("llama-cpp-python is missing.",
                                               "Reinstall the app, or choose the PyTorch backend in Settings."))
    assert "--backend torch" in missing and "Settings" not in missing


def test_an_unreachable_hub_on_the_command_line_suggests_a_mirror(
        hf_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["download", CHAT_ID, "--quiet", "--endpoint", closed_port_endpoint()]) == 1
    err = capsys.readouterr().err
    assert "Could not reach the model hub" in err and "--endpoint" in err and "HF_ENDPOINT" in err
    assert "Settings" not in err and err.count("\n") == 1


# -- Qt's system libraries, before the window ------------------------------------------------------
@pytest.mark.parametrize(("argv", "env", "system", "expected"), [
    ([], {}, "linux", "xcb"),
    ([], {"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "linux", "wayland"),
    ([], {"WAYLAND_DISPLAY": "wayland-0"}, "linux", "xcb"),
    ([], {"QT_QPA_PLATFORM": "offscreen"}, "linux", "offscreen"),
    ([], {"QT_QPA_PLATFORM": "wayland;xcb"}, "linux", "wayland"),
    ([], {"QT_QPA_PLATFORM": "xcb:nomitshm"}, "linux", "xcb"),
    (["-platform", "offscreen"], {"QT_QPA_PLATFORM": "xcb"}, "linux", "offscreen"),
    (["--db", "x", "-platform=xcb"], {}, "linux", "xcb"),
    ([], {}, "darwin", ""),
    ([], {}, "win32", ""),
])
def test_the_platform_qt_will_pick(argv: list[str], env: dict[str, str], system: str, expected: str) -> None:
    assert qt_platform(argv, env, system) == expected


def test_each_set_of_missing_libraries_gives_one_sentence_with_the_apt_command() -> None:
    rng = random.Random(5)
    names = list(QT_XCB_LIBRARIES)
    for _ in range(50):
        missing = rng.sample(names, rng.randrange(1, len(names) + 1))
        sentence = missing_sentence(missing)
        assert "\n" not in sentence and "sudo apt install " in sentence
        packages = sentence.split("sudo apt install ", 1)[1].split(" (Fedora")[0].split()
        assert sorted(packages) == sorted({QT_XCB_LIBRARIES[m] for m in missing})
        assert missing[0] in sentence
    assert missing_qt_libraries_sentence([], {"QT_QPA_PLATFORM": "xcb"}, lambda _n: True) == ""
    assert missing_qt_libraries_sentence([], {"QT_QPA_PLATFORM": "offscreen"}, lambda _n: False) == ""


def test_a_missing_xcb_library_stops_before_qt_with_the_sentence(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import app.qt_libraries
    import app.ui.startup.application
    import main as entry

    monkeypatch.setattr(app.ui.startup.application, "run_gui", lambda _argv: pytest.fail("Qt was started"))
    monkeypatch.setattr(app.qt_libraries, "_can_open", lambda name: name != "libxcb-cursor.so.0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(sys, "argv", ["main.py"])
    assert entry.main() == 1
    err = capsys.readouterr().err
    assert "libxcb-cursor.so.0" in err and "sudo apt install libxcb-cursor0 " in err


def test_libraries_are_opened_the_way_qt_opens_them() -> None:
    from app.qt_libraries import _can_open

    assert _can_open("libc.so.6")
    assert not _can_open("libno-such-library-for-the-test.so.0")


# -- a damaged or foreign database on the command line ---------------------------------------------
def _damaged_databases(folder: Path) -> dict[str, bytes]:
    """Bytes no conversation database is: junk, a real one cut short, one with broken pages."""
    import sqlite3

    from app.storage import ConversationStore, Role

    path = folder / "real.sqlite3"
    with ConversationStore(path) as store:
        for number in range(40):
            chat = store.conversations.create(f"chat {number}")
            store.messages.add(chat.id, Role.USER, f"message {number} " * 300)
    real = path.read_bytes()
    path.unlink()
    rng = random.Random(8)
    broken = bytearray(real)
    for index in (3, 30):
        broken[index * 4096:(index + 1) * 4096] = bytes(rng.randrange(256) for _ in range(4096))
    foreign = folder / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE visits (url TEXT)")
    conn.commit()
    conn.close()
    out = {"junk": bytes(rng.randrange(256) for _ in range(50_000)), "cut short": real[: len(real) // 2],
           "broken pages": bytes(broken), "another program's": foreign.read_bytes()}
    foreign.unlink()
    return out


@pytest.mark.parametrize("command", [["export", "1", "--format", "json"], ["conversations"]])
def test_a_damaged_database_gets_command_line_advice_and_is_left_as_it_is(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    for why, data in _damaged_databases(tmp_path).items():
        folder = tmp_path / why.replace(" ", "-").replace("'", "")
        folder.mkdir()
        db = folder / "conversations.sqlite3"
        db.write_bytes(data)
        assert main([*command, "--db", str(db)]) == 1, why
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--db PATH" in err and "has not been changed" in err, (why, err)
        assert "Start a fresh database" not in err and "Choose another file name" not in err, (why, err)
        assert db.read_bytes() == data, why  # read-only: not renamed, not repaired, not touched
        beside = {p.name: p.stat().st_size for p in folder.iterdir() if p != db}
        # nothing set aside; at most SQLite's own empty write-ahead log and its index, which any
        # reader of a file in WAL mode makes (and the window's fresh start moves aside with it)
        assert set(beside) <= {"conversations.sqlite3-wal", "conversations.sqlite3-shm"}, (why, beside)
        assert beside.get("conversations.sqlite3-wal", 0) == 0, (why, beside)
