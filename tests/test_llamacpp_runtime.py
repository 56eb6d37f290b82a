"""The llama.cpp runtime guard: CPU features checked, AMX repacking switched off where it could crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import llamacpp_runtime as rt


def test_installed_build_runs_on_this_cpu() -> None:
    build = rt.build_features()
    assert build, "llama_print_system_info reported no CPU features"
    assert rt.missing_cpu_features(build, rt.cpu_flags()) == []
    rt.check_cpu()


def test_missing_features_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 sse3 avx\n")
    flags = rt.cpu_flags(info)
    if flags is None:
        pytest.fail("cpu_flags must read a Linux x86 cpuinfo file")
    missing = rt.missing_cpu_features({"AVX": True, "AVX2": True, "FMA": True, "AVX512": False}, flags)
    assert missing == ["AVX2", "FMA"]
    monkeypatch.setattr(rt, "build_features", lambda: {"AVX2": True})
    monkeypatch.setattr(rt, "cpu_flags", lambda: {"avx"})
    with pytest.raises(rt.LlamaCppUnavailable, match="AVX2"):
        rt.check_cpu()


def test_amx_guard_decision() -> None:
    assert not rt.amx_guard_needed({"AVX2": True}, {"amx_int8", "amx_tile"})
    assert rt.amx_guard_needed({"AMX_INT8": True}, {"amx_int8", "amx_tile"})
    assert not rt.amx_guard_needed({"AMX_INT8": True}, {"avx2"})
    assert rt.amx_guard_needed({"AMX_INT8": True}, None)


def test_safe_model_params_turns_off_extra_buffers_on_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp.llama_cpp as low

    monkeypatch.setattr(rt, "build_features", lambda: {"AMX_INT8": True})
    monkeypatch.setattr(rt, "cpu_flags", lambda: {"amx_int8", "amx_tile"})
    assert low.llama_model_default_params().use_extra_bufts
    with rt.safe_model_params():
        assert not low.llama_model_default_params().use_extra_bufts
    assert low.llama_model_default_params().use_extra_bufts
    monkeypatch.setattr(rt, "cpu_flags", lambda: {"avx2"})
    with rt.safe_model_params():
        assert low.llama_model_default_params().use_extra_bufts
