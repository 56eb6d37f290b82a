"""bench/cpu_pair.py's figures: each repetition's own ratio, as a speed, and the tables built
from a saved run (the bench itself needs the real-shape GGUF and minutes; its arithmetic not)."""

from __future__ import annotations

import random
import statistics

from bench.cpu_pair import _paired, _span, _tables


def test_each_repetition_is_paired_with_its_own_and_times_are_inverted() -> None:
    rng = random.Random(3)
    raw = [rng.uniform(5, 15) for _ in range(7)]
    drift = [rng.uniform(0.6, 1.4) for _ in raw]  # the machine's speed, moving both runs of a repetition
    app = [0.95 * r * d for r, d in zip(raw, drift, strict=True)]
    raw = [r * d for r, d in zip(raw, drift, strict=True)]
    assert [round(x, 9) for x in _paired(app, raw, seconds=False)] == [0.95] * 7
    times_app, times_raw = [1 / x for x in app], [1 / x for x in raw]  # seconds: lower is faster
    assert [round(x, 9) for x in _paired(times_app, times_raw, seconds=True)] == [0.95] * 7
    assert _paired(app[:3], raw, seconds=False) == _paired(app[:3], raw[:3], seconds=False)  # a stopped run
    assert _span([]) == "-"
    assert _span([0.9, 1.1, 1.0]).startswith("1.000 (0.900-1.100)")


def test_the_table_compares_the_app_with_the_fastest_raw_setting_of_each_phase() -> None:
    figures = {"decode at depth 16, tok/s": {"app": [10.0, 12.0, 11.0], "app'": [10.5, 11.0, 11.0],
                                             "raw a": [11.0, 12.5, 12.0], "raw b": [9.0, 9.5, 9.0]},
               "24-token follow-up after 8,000, first token s": {"app": [1.0, 1.2], "raw b": [1.1, 1.2]}}
    lines = _tables({"figures": figures})
    decode = next(line for line in lines if line.startswith("| decode at depth 16") and "raw a |" in line)
    expected = statistics.median([10 / 11, 12 / 12.5, 11 / 12])
    assert f"| {expected:.3f} (" in decode
    follow = next(line for line in lines if line.startswith("| 24-token") and "| raw b |" in line)
    assert f"| {statistics.median([1.1 / 1.0, 1.0]):.3f} (" in follow


def test_the_two_prompts_may_have_their_own_repetition_counts() -> None:
    import argparse

    import pytest

    from bench.cpu_pair import _prefill_reps

    assert _prefill_reps("3") == {512: 3, 4096: 3}
    assert _prefill_reps("9,3") == {512: 9, 4096: 3}
    for bad in ("0", "9,0", "1,2,3", "nine"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected N or N512,N4096"):
            _prefill_reps(bad)


def test_an_app_setting_among_the_deep_settings_is_shown_but_never_the_raw_to_beat() -> None:
    from bench.cpu_pair import _label
    from bench.cpu_sweep import _parse

    assert _parse("app,shallow=off")["shallow"] is False and _parse("app,shallow=on")["shallow"] is True
    assert _parse("app")["shallow"] is None and _parse("app,reader=off")["reader"] is False
    assert _label("app,shallow=off") == "app,shallow=off"
    assert _label("fa=on,ub=512,kv=f16,t=2,repack=on") == "raw fa on, repacked"
    assert _label("fa=off,ub=256,kv=q8_0,t=2,repack=on") == "raw fa off, repacked, ub 256, kv q8_0"
    assert _label("fa=off,ub=512,kv=f16,t=1,repack=on@/tmp/host") == "raw fa off, repacked, threads 1, build /tmp/host"
    figures = {"decode at depth 16, tok/s": {"app": [10.0, 10.0], "app,shallow=off": [20.0, 20.0],
                                             "raw fa on, repacked": [11.0, 11.0]}}
    row = next(line for line in _tables({"figures": figures}) if line.startswith("| decode") and "raw fa on" in line)
    assert f"| {10 / 11:.3f} (" in row  # against the raw setting, not the faster app one


class _Fake:
    """A worker whose phase is a list of unit times: it records when it was asked."""

    def __init__(self, label: str, units: list[float], log: list[str]) -> None:
        self.label, self.units, self.log, self.i = label, units, log, 0

    def ask(self, op: str, **_: object) -> dict[str, object]:
        if op == "begin":
            self.i = 0
            return {}
        self.log.append(self.label)
        if self.i == len(self.units):
            return {"s": 0.0, "got": None, "done": True}
        self.i += 1
        return {"s": self.units[self.i - 1], "got": self.i, "done": False}


def test_lockstep_takes_turns_unit_by_unit_and_sums_only_each_workers_own_units() -> None:
    from bench.cpu_pair import _lockstep

    log: list[str] = []
    rng = random.Random(7)
    a = [rng.uniform(0.1, 1.0) for _ in range(3)]
    b = [rng.uniform(0.1, 1.0) for _ in range(5)]  # more units: it goes on alone once a is done
    got = _lockstep([_Fake("a", a, log), _Fake("b", b, log)], 0, 1, phase="read", n=1, seed=0)  # type: ignore[list-item]
    assert got["a"] == (sum(a), 3) and got["b"] == (sum(b), 5)
    # the order switches every unit (a b, b a, ...), and a worker leaves once it says it is done
    assert log == ["a", "b", "b", "a", "a", "b", "b", "a", "b", "b"]


def test_the_paired_bench_runs_end_to_end_on_a_tiny_model(q4_gguf, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """bench/cpu_pair.py itself (its workers, the app's backend and raw llama-cpp-python, the
    lockstep phases) on the tiny Q4_K_M model: every phase gets a figure from every setting."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "pair.json"
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "bench" / "cpu_pair.py"), "--gguf", str(q4_gguf), "--together",
                           "--reps", "2", "--prefill-reps", "2,1", "--deep", "300", "--decode", "8", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(out.read_text())["figures"]
    chat = ["app", "app'", "raw fa on, repacked", "raw fa off, repacked", "raw fa on, plain"]
    expected = {"decode at depth 16, tok/s": chat, "prefill 512, tok/s": ["app", "app'", "raw fa on, plain"],
                "prefill 4,096, tok/s": ["app", "app'", "raw fa on, plain"],
                "decode at depth 300, tok/s": ["app", "app'", "raw fa off, repacked"],
                "24-token follow-up after 300, first token s": ["app", "app'", "raw fa off, repacked"]}
    assert {phase: sorted(per) for phase, per in figures.items()} == {p: sorted(v) for p, v in expected.items()}
    reps = {"prefill 512, tok/s": 2, "prefill 4,096, tok/s": 1}  # --prefill-reps 2,1
    for phase, per in figures.items():
        for label, values in per.items():
            assert len(values) == reps.get(phase, 2) and all(v > 0 for v in values), (phase, label, values)
    assert "app / raw, paired" in proc.stdout
