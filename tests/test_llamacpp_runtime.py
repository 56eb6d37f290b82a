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


def test_the_loaded_cpu_variant_is_the_best_this_cpu_runs() -> None:
    """The app's build (scripts/llama_wheel.sh: GGML_BACKEND_DL, one library per instruction-set
    level) registers a CPU backend, and the variant ggml picked is one this CPU runs with no
    richer shipped variant this CPU could run instead. A build with its CPU code linked in has
    no variants: then the build's own features must run here (the first test)."""
    variants = rt.cpu_variants()
    rt.import_llama_cpp()
    if not variants:
        assert rt.loaded_cpu_variant() is None
        return
    assert set(variants) <= set(rt.VARIANT_NEEDS), f"variants the runtime does not know: {variants}"
    assert rt.cpu_backend_registered()
    flags = rt.cpu_flags()
    loaded = rt.loaded_cpu_variant()
    if flags is None or loaded is None:  # not Linux x86: ggml still had to register one
        return
    assert loaded in variants
    needs = rt.VARIANT_NEEDS[loaded]
    assert needs <= flags, f"{loaded} needs {sorted(needs - flags)}, which this CPU lacks"
    richer = [v for v in variants if rt.VARIANT_NEEDS[v] <= flags and rt.VARIANT_NEEDS[v] > needs]
    assert not richer, f"loaded {loaded} although this CPU runs {richer}"
    assert rt.build_features().get("AVX512", False) == ("avx512f" in needs)


def test_a_cpu_no_variant_runs_on_gets_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt, "cpu_variants", lambda lib_dir=None: ["haswell"])
    monkeypatch.setattr(rt, "cpu_backend_registered", lambda: False)
    with pytest.raises(rt.LlamaCppUnavailable, match="AVX2") as err:
        rt.check_cpu()
    assert "PyTorch" in str(err.value.hint)


def test_loaded_variant_is_read_from_the_maps(tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    maps.write_text("7f00-7f01 r-xp 0 08:01 1 /x/llama_cpp/lib/libggml-base.so\n"
                    "7f02-7f03 r-xp 0 08:01 2 /x/llama_cpp/lib/libggml-cpu-icelake.so\n")
    assert rt.loaded_cpu_variant(maps) == "icelake"
    maps.write_text("7f00-7f01 r-xp 0 08:01 1 /x/llama_cpp/lib/libggml-cpu.so\n")
    assert rt.loaded_cpu_variant(maps) is None
    assert rt.loaded_cpu_variant(tmp_path / "missing") is None


def test_cpu_variants_are_named_from_the_library_files(tmp_path: Path) -> None:
    for name in ("libggml-cpu-haswell.so", "libggml-cpu-zen4.so", "ggml-cpu-icelake.dll", "libggml-base.so",
                 "libggml.so"):
        (tmp_path / name).write_bytes(b"")
    assert rt.cpu_variants(tmp_path) == ["haswell", "icelake", "zen4"]
    assert rt.cpu_variants(tmp_path / "nothing") == []
