"""`needle` and `ask --document` on the command line: the plumbing, the picture, one-line errors."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from app.commands.heatmap import png_bytes
from app.engine.needle import build_haystack, needle_found, needle_sentence

_ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=_ROOT,
                          capture_output=True, text=True, timeout=300)


def _one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0]


def _png_size_and_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + n
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    return width, height, zlib.decompress(chunks[b"IDAT"])


@pytest.mark.parametrize("depth", [0, 33, 50, 100])
def test_haystack_has_the_exact_length_and_the_needle_at_its_depth(depth: int) -> None:
    needle = needle_sentence("cobalt")
    text = build_haystack(20_000, depth, needle)
    assert len(text) == 20_000 and text.count(needle) == 1
    at = text.index(needle)
    assert abs(at - 20_000 * depth / 100) < 400
    assert needle_found("cobalt", "The passphrase is COBALT.") and not needle_found("cobalt", "amber")


def test_png_cells_are_green_for_found_and_red_for_missed() -> None:
    width, height, raw = _png_size_and_pixels(png_bytes([[True, False], [False, True], [True, True]]))
    assert (width, height) == (2 * 48 + 2, 3 * 48 + 2)
    stride = 1 + 3 * width

    def pixel(x: int, y: int) -> tuple[int, ...]:
        return tuple(raw[y * stride + 1 + 3 * x:y * stride + 4 + 3 * x])

    assert pixel(24, 24) == (46, 160, 67) and pixel(72, 24) == (207, 34, 46) and pixel(24, 72) == (207, 34, 46)


def test_needle_command_prints_every_depth_and_writes_the_heat_map(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "pics" / "heat.png"
    proc = _run("needle", "--model", tiny_gguf, "--lengths", "800,1500", "--depths", "0,50,100", "--out", out)
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.strip().splitlines()
    assert rows[0].split() == ["depth", "800", "1,500"]
    assert [r.split()[0] for r in rows[1:]] == ["0%", "50%", "100%"]
    assert all(cell in ("found", "missed") for r in rows[1:] for cell in r.split()[1:])
    assert len(rows[1].split()) == 3
    width, height, _ = _png_size_and_pixels(out.read_bytes())
    assert (width, height) == (2 * 48 + 2, 3 * 48 + 2)
    assert "of 6 found" in proc.stderr and "tokens of a" in proc.stderr
    svg = tmp_path / "heat.svg"
    proc = _run("needle", "--model", tiny_gguf, "--chars", "1000", "--depths", "50", "--out", svg)
    assert proc.returncode == 0, proc.stderr
    assert svg.read_text().startswith("<svg") and "depth 50%" in svg.read_text()


def test_needle_refuses_a_haystack_that_does_not_fit_the_given_context(tiny_gguf: Path, tmp_path: Path) -> None:
    proc = _run("needle", "--model", tiny_gguf, "--chars", "20000", "--ctx", "2048", "--out", tmp_path / "h.png")
    _one_line_error(proc, "--ctx")
    assert not (tmp_path / "h.png").exists()


def test_ask_document_reads_whole_and_restores_the_saved_state_next_run(tiny_gguf: Path, tmp_path: Path) -> None:
    doc = tmp_path / "notes.txt"
    doc.write_text(build_haystack(12_000, 50, needle_sentence("orchid")), encoding="utf-8")
    args = ("ask", "--model", tiny_gguf, "--document", doc, "--temperature", "0", "--max-tokens", "4",
            "--json", "What is the passphrase?", "And again?")
    first = _run(*args)
    assert first.returncode == 0, first.stderr
    answers = [json.loads(line) for line in first.stdout.splitlines()]
    doc_tokens = answers[0]["document_tokens"]
    assert doc_tokens > 2000 and answers[0]["n_ctx"] >= answers[0]["prompt_tokens"] >= doc_tokens
    assert answers[0]["cached_tokens"] >= doc_tokens and answers[1]["cached_tokens"] >= doc_tokens
    assert "read in" in first.stderr and "state saved" in first.stderr
    second = _run(*args)  # a restart: a new process
    assert second.returncode == 0, second.stderr
    again = [json.loads(line) for line in second.stdout.splitlines()]
    assert "saved in" in second.stderr
    assert again[0]["cached_tokens"] >= doc_tokens
    assert [a["answer"] for a in again] == [a["answer"] for a in answers]
    cold = _run(*args[:-3], "--no-cache", *args[-3:])
    assert cold.returncode == 0 and "read in" in cold.stderr and "state saved" not in cold.stderr


def test_ask_with_an_unreadable_document_is_one_line(tiny_gguf: Path, tmp_path: Path) -> None:
    _one_line_error(_run("ask", "--model", tiny_gguf, "--document", tmp_path / "gone.txt", "Hi?"), "gone.txt")
    binary = tmp_path / "data.txt"
    binary.write_bytes(bytes(range(256)) * 64)
    _one_line_error(_run("ask", "--model", tiny_gguf, "--document", binary, "Hi?"), "data.txt")
