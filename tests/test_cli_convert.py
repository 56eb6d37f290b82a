"""`python main.py convert`: a working conversion with progress, and bad sources as one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import gguf
import pytest

from app.cli import COMMANDS, build_parser

_ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=_ROOT,
                          capture_output=True, text=True, timeout=120)


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0]


def test_convert_writes_gguf_and_shows_progress(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny.gguf"
    proc = _run("convert", tiny_model, out, "--type", "q8_0")
    assert proc.returncode == 0, proc.stderr
    assert "convert" in proc.stderr and "100%" in proc.stderr
    assert str(out) in proc.stdout
    reader = gguf.GGUFReader(out)
    assert reader.fields["general.architecture"].contents() == "internlm2"
    assert reader.fields["general.file_type"].contents() == gguf.LlamaFileType.MOSTLY_Q8_0


def test_convert_default_is_q4_k_m(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny.gguf"
    proc = _run("convert", tiny_model, out)
    assert proc.returncode == 0, proc.stderr
    assert "quantize" in proc.stderr
    reader = gguf.GGUFReader(out)
    assert reader.fields["general.file_type"].contents() == gguf.LlamaFileType.MOSTLY_Q4_K_M
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.gguf"]


def test_missing_folder_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    proc = _run("convert", missing, tmp_path / "out.gguf", "--type", "f16")
    _assert_one_line_error(proc, str(missing))
    assert not (tmp_path / "out.gguf").exists()


def test_llama_checkpoint_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    src = tmp_path / "llama"
    shutil.copytree(tiny_model, src)
    config = json.loads((src / "config.json").read_text())
    config.update(architectures=["LlamaForCausalLM"], model_type="llama")
    (src / "config.json").write_text(json.dumps(config))
    proc = _run("convert", src, tmp_path / "out.gguf", "--type", "f16")
    _assert_one_line_error(proc, "LlamaForCausalLM")
    assert not (tmp_path / "out.gguf").exists()


def test_truncated_safetensors_is_one_line(tiny_model: Path, tmp_path: Path) -> None:
    src = tmp_path / "cut"
    shutil.copytree(tiny_model, src)
    shard = sorted(src.glob("*.safetensors"))[-1]
    with shard.open("r+b") as fh:
        fh.truncate(shard.stat().st_size - 1000)
    proc = _run("convert", src, tmp_path / "out.gguf", "--type", "f16")
    _assert_one_line_error(proc, shard.name, "truncated")
    assert not (tmp_path / "out.gguf").exists()


def test_unwritable_target_is_one_line(tiny_model: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = _run("convert", tiny_model, blocker / "out.gguf", "--type", "f16")
    _assert_one_line_error(proc)


def test_parser_lists_convert_and_types() -> None:
    assert "convert" in COMMANDS
    args = build_parser().parse_args(["convert", "src", "out.gguf"])
    assert args.out_type == "q4_k_m"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["convert", "src", "out.gguf", "--type", "q2_k"])
