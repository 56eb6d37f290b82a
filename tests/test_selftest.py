"""Start-up paths in real processes: `main.py --selftest` (the real tiny model, the window's
worker thread) and the first-paint probe bench/startup.py relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import STOP_PROMPT

ROOT = Path(__file__).resolve().parents[1]


def _selftest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", "--selftest", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _stats(stdout: str) -> dict[str, object]:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("selftest: stats ")]
    assert len(lines) == 1, stdout
    data: dict[str, object] = json.loads(lines[0].removeprefix("selftest: stats "))
    return data


def test_selftest_answers_through_the_worker_and_exits_0(stop_model: tuple[Path, Path, int]) -> None:
    _, gguf, k = stop_model
    out = _selftest("--model", str(gguf), "--system", "", "--question", STOP_PROMPT, "--ctx", "512")
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("selftest: OK")
    assert "Qt platform offscreen" in out.stdout
    assert "translations ok" in out.stdout
    stats = _stats(out.stdout)
    # The stop model's greedy reply to this prompt ends on <|im_end|> after exactly k tokens.
    assert stats["stop_reason"] == "stop_token" and stats["new_tokens"] == k
    assert stats["backend"] == "llamacpp" and isinstance(stats["prompt_tokens"], int)
    assert stats["prompt_tokens"] > 0


def test_selftest_stops_at_max_tokens_with_the_official_system_prompt(
        stop_model: tuple[Path, Path, int]) -> None:
    _, gguf, _ = stop_model
    out = _selftest("--model", str(gguf), "--max-tokens", "5", "--question", "Write a lot.")
    assert out.returncode == 0, out.stderr
    stats = _stats(out.stdout)
    assert 1 <= int(str(stats["new_tokens"])) <= 5
    assert stats["stop_reason"] in ("max_tokens", "stop_token", "eos")


def test_selftest_missing_model_is_one_line_and_non_zero(tmp_path: Path) -> None:
    out = _selftest("--model", str(tmp_path / "absent.gguf"))
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0
    assert "no model at" in out.stderr and "Traceback" not in out.stderr
    assert "selftest: OK" not in out.stdout


def test_selftest_corrupt_model_is_one_line_and_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 64)
    out = _selftest("--model", str(bad))
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0, out.stderr  # one line, llama.cpp's log included
    assert out.stderr.startswith("selftest failed:") and "not a readable GGUF" in out.stderr


def test_selftest_without_model_is_a_usage_error() -> None:
    out = _selftest()
    assert out.returncode == 2 and "--model" in out.stderr


def test_window_quits_after_its_first_paint_when_the_bench_asks() -> None:
    env = {**os.environ, "INTERNLM2_DESKTOP_QUIT_AFTER_PAINT": "1", "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("first-paint:"))
    fields = dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
    assert float(fields["since-process-start"]) > 0 and float(fields["epoch"]) > 0
