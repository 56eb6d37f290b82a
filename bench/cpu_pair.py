"""Benchmark: the app against raw llama-cpp-python, interleaved phase by phase (issue 17's check).

    .venv/bin/python bench/cpu_pair.py [--reps 5] [--prefill-reps 3|9,3] [--host DIR] [--deep 8000,16000]
                                       [--together] [--threads 2] [--decode 32] [--gguf FILE] [--json OUT]
                                       [--skip-chat] [--deep-raw CONF;CONF] [--deep-ctx N] [--unit 1]
    .venv/bin/python bench/cpu_pair.py --table OUT       # the tables of a saved (maybe stopped) run

cpu_sweep.py runs each setting in a fresh process, one after another: a run takes minutes, and
on a shared machine whose speed drifts by tens of percent within minutes two runs of one
setting differed by up to 43% (bench/README.md, "Issue 17, session 7"), so the ratio of two
medians measured minutes apart told nothing at the 3% the target asks for. Here every setting
is a worker process that stays alive (its context, its cache, its build of llama.cpp: `@DIR`),
and the parent asks the workers for one phase in turn (app, raw, raw, ..., then the reverse
order), and the figure that counts is the median of the repetitions' own app / raw ratios.

Lockstep (session 10): a phase is not run whole by one worker after another, but a unit at a
time, the workers taking turns unit by unit (the order switched each unit): --unit decode steps
(1, since session 11: at depth 8,000 units of 4 steps read the app 2.4% behind raw in two runs
where single steps read 1.001, and the app's decoder's bare steps match raw's), or one
512-token chunk of a read (about 4 s; a 4,096-token read whole took 30-40 s, and the machine's
speed moved by tens of percent between two of them). The app's units
are its own pauses: LlamaCppBackend.generate is a generator, paused where it reports a chunk
read (PrefillProgress) or streams a piece of the reply (TextPiece), so every line of the app's
loop runs and is timed, none of the pauses is (bench/cpu_sweep.py, read_steps/decode_steps).
A phase's figure is its units' summed time.

--together puts the settings of one build in one process instead (asked in the same turns):
processes of one setting can differ for their whole life (two app processes decoded 5% apart,
bench/README.md "Issue 17, session 8"), a bias that no number of repetitions in fresh
processes cancels, and that one process does not have.

The control: a second worker with the app's own setting (`app'`) runs every shallow phase
too, so `app' / app` shows how far two identical settings read apart with this method on
this machine: a gap smaller than that range is not a finding.

Phases (the same ids in every worker, as cpu_sweep.py):

- in a chat's context (n_ctx 4,352: the 4,096 of a chat, with room for the answer), every
  worker: decode at depth 16 (--decode tokens, tok/s); a prompt of 512 and one of 4,096, each
  read from a cold cache (tok/s; each its own new random ids, so nothing is cached; the app's
  figure includes the handover from its prompt reader to its decoder at the end);
- in a document's context (n_ctx = the deepest --deep + 256), the app, its control app' and
  raw "fa off, repacked" (the fastest raw setting at depth in every sweep): the context grows
  to each depth D, then decode at depth D and a 24-token follow-up against the D cached tokens (time to the
  first token), each --reps times. --deep-raw names other raw settings for these phases and
  --deep-ctx another n_ctx: `--skip-chat --deep 16,128,256,512,1024 --deep-ctx 4352 --deep-raw
  "fa=off,...;fa=on,..."` is where flash attention stops paying for decode in a chat's context.

The raw settings: `fa=on,repack=on` (fastest raw at depth 16 in the sweeps) and `fa=off,repack=on`
(decoding only), `fa=on,repack=off` (fastest raw prefill), the same on --host's build, and
`fa=off,repack=on` for the deep phases.
Each is cpu_sweep.py's raw run (Llama.eval, the low-level greedy sampler, n_batch 512, n_ubatch
512, f16 cache); the app is LlamaCppBackend.generate with its own policy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

_CHAT_CTX = 4096 + 256
_QUESTION = 24
_TAG = "@@pair "  # the worker's answers; anything else on its stdout is not one


# -- a worker (one setting, one context, alive for the whole run) ----------------------------
def _vocab(run: Any) -> int:
    """The model's vocabulary size, from the llama.cpp model a run loaded."""
    return int((run.app._llm if hasattr(run, "app") else run.llm).n_vocab())


def _worker(args: argparse.Namespace) -> int:
    import numpy as np

    from bench.cpu_sweep import _AppRun, _parse, _RawRun

    path = Path(args.gguf)
    runs: list[Any] = []
    for spec in args.worker.split("|"):  # --together: several settings in this one process
        conf = _parse(spec)
        runs.append(_AppRun(path, args.n_ctx, args.threads, conf["reader"], conf["rfa"], conf["shallow"])
                    if conf["app"] else _RawRun(path, args.n_ctx, conf))
    top = min(92000, _vocab(runs[0]))  # random ids below it (a test's tiny model has a few hundred)
    rng = np.random.default_rng(0)
    ids = [int(t) for t in rng.integers(10, top, args.n_ctx - 256)]
    question = [int(t) for t in rng.integers(10, top, _QUESTION)]
    import llama_cpp

    def answer(value: Any) -> None:
        print(_TAG + json.dumps(value), flush=True)

    answer([{"setting": run.setting, "lib": os.path.dirname(llama_cpp.__file__)} for run in runs])
    steps: dict[int, Any] = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        run = runs[cmd.get("which", 0)]
        if op == "grow":  # the context to ids[:depth], from `start` cached tokens
            t0 = time.perf_counter()
            run.read(ids[:cmd["depth"]], cmd["start"])
            answer({"s": time.perf_counter() - t0})
        elif op == "follow":
            answer({"v": run.follow_up(ids[:cmd["depth"]], question)})
        elif op == "begin":  # a phase to run a unit at a time ("step"), interleaved by the parent
            if cmd["phase"] == "read":  # new ids: a cold cache whatever was read before
                fresh = [int(t) for t in np.random.default_rng(1000 + cmd["seed"]).integers(10, top, cmd["n"])]
                steps[cmd.get("which", 0)] = run.read_steps(fresh)
            else:
                steps[cmd.get("which", 0)] = run.decode_steps(ids[:cmd["depth"]], cmd["n"])
            answer({})
        elif op == "step":  # the next k units of the phase begun; done: it has ended
            it, got, done = steps[cmd.get("which", 0)], None, False
            t0 = time.perf_counter()
            for _ in range(cmd["k"]):
                try:
                    got = next(it)
                except StopIteration:
                    done = True
                    break
            answer({"s": time.perf_counter() - t0, "got": got, "done": done})
        elif op == "quit":
            break
    return 0


class _Process:
    """A worker process holding one or more settings (their contexts live until the end)."""

    def __init__(self, confs: list[str], n_ctx: int, args: argparse.Namespace) -> None:
        from bench.cpu_sweep import _parse

        lib = _parse(confs[0])["lib"]
        env = dict(os.environ)
        if lib:
            env["PYTHONPATH"] = lib + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [sys.executable, __file__, "--worker", "|".join(confs), "--gguf", str(args.gguf),
               "--n-ctx", str(n_ctx), "--threads", str(args.threads)]
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.settings: list[dict[str, Any]] = self.answer()

    def answer(self) -> Any:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(_TAG):
                return json.loads(line[len(_TAG):])
        raise RuntimeError(f"a worker ended (exit status {self.proc.wait()}) without answering")

    def ask(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return dict(self.answer())

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


class _Worker:
    """One setting: its process, and its place there."""

    def __init__(self, label: str, process: _Process, which: int) -> None:
        self.label, self.process, self.which = label, process, which
        self.setting = process.settings[which]

    def ask(self, **cmd: Any) -> dict[str, Any]:
        return self.process.ask(which=self.which, **cmd)


def _start(settings: list[tuple[str, str]], n_ctx: int, args: argparse.Namespace
           ) -> tuple[list[_Worker], list[_Process]]:
    """A process per setting, or with --together one per build (the settings of a build share it)."""
    from bench.cpu_sweep import _parse

    groups: dict[str, list[tuple[str, str]]] = {}
    for i, (label, conf) in enumerate(settings):
        groups.setdefault(_parse(conf)["lib"] if args.together else str(i), []).append((label, conf))
    workers: dict[str, _Worker] = {}
    processes = []
    for group in groups.values():
        process = _Process([conf for _, conf in group], n_ctx, args)
        processes.append(process)
        for which, (label, _) in enumerate(group):
            workers[label] = _Worker(label, process, which)
    return [workers[label] for label, _ in settings], processes


def _turns(workers: list[_Worker], rep: int) -> list[_Worker]:
    return workers if rep % 2 == 0 else workers[::-1]  # alternate who goes first


def _lockstep(workers: list[_Worker], turn: int, k: int, **phase: Any) -> dict[str, tuple[float, Any]]:
    """One phase in every worker, interleaved a unit at a time (k decode steps, or one chunk of
    a read): the order switches each unit, so the machine's drift falls on every setting alike
    within seconds, not between phases minutes apart. Returns each worker's seconds inside the
    phase (the sum of its units, the pauses between them excluded) and the phase's last value."""
    for w in workers:
        w.ask(op="begin", **phase)
    spent = {w.label: 0.0 for w in workers}
    got: dict[str, Any] = {}
    live = list(workers)
    while live:
        for w in _turns(list(live), turn):
            a = w.ask(op="step", k=k)
            spent[w.label] += a["s"]
            if a["got"] is not None:
                got[w.label] = a["got"]
            if a["done"]:
                live.remove(w)
        turn += 1
    return {label: (spent[label], got.get(label)) for label in spent}


def _record(out: dict[str, dict[str, list[float]]], phase: str, label: str, value: float) -> None:
    out.setdefault(phase, {}).setdefault(label, []).append(value)


def _run(args: argparse.Namespace, save: Any) -> dict[str, Any]:
    figures: dict[str, dict[str, list[float]]] = {}
    settings: dict[str, Any] = {}
    shallow = [("app", "app"), ("app'", "app"), ("raw fa on, repacked", "fa=on,ub=512,kv=f16,t=2,repack=on"),
               ("raw fa off, repacked", "fa=off,ub=512,kv=f16,t=2,repack=on"),
               ("raw fa on, plain", "fa=on,ub=512,kv=f16,t=2,repack=off")]
    if args.host:
        shallow += [("app, host build", f"app@{args.host}"),
                    ("raw fa on, plain, host build", f"fa=on,ub=512,kv=f16,t=2,repack=off@{args.host}")]
    result = {"figures": figures, "settings": settings, "args": {k: str(v) for k, v in vars(args).items()}}
    if not args.skip_chat:
        _chat_phases(args, shallow, figures, settings, save, result)
    _deep_phases(args, figures, settings, save, result)
    return result


def _label(conf: str) -> str:
    from bench.cpu_sweep import _parse

    c = _parse(conf)
    if c["app"]:  # another setting of the app's (`app,shallow=off`): shown, never the raw to beat
        return conf
    # Every field a raw run uses that differs from the default is named: two settings never
    # share a label (their figures would merge).
    label = [f"raw fa {'on' if c['fa'] else 'off'}", "repacked" if c["repack"] else "plain"]
    label += [f"{name} {c[key]}" for key, name, default in (("ub", "ub", 512), ("kv", "kv", "f16"), ("t", "threads", 2),
                                                             ("depth", "depth", 0)) if c[key] != default]
    return ", ".join(label + ([f"build {c['lib']}"] if c["lib"] else []))


def _chat_phases(args: argparse.Namespace, shallow: list[tuple[str, str]], figures: dict[str, dict[str, list[float]]],
                 settings: dict[str, Any], save: Any, result: dict[str, Any]) -> None:
    workers, processes = _start(shallow, _CHAT_CTX, args)
    try:
        for w in workers:
            settings[w.label] = w.setting
        print(f"chat context ({_CHAT_CTX:,} tokens): " + "; ".join(f"{w.label}: {w.setting['setting']}"
                                                                   for w in workers), flush=True)
        for w in workers:
            w.ask(op="grow", depth=16, start=0)
        for rep in range(args.reps):
            _decode(figures, workers, rep, 16, args)
        save(result)
        print("  decode at depth 16 done", flush=True)
        readers = [w for w in workers if "repacked" not in w.label]  # the repacked layout reads slowest in every sweep
        rounds = max(args.prefill_reps.values())
        for rep in range(rounds):
            for n in (n for n, count in args.prefill_reps.items() if rep < count):
                # each a prompt of its own, from a cold cache, read chunk against chunk
                for label, (seconds, _) in _lockstep(readers, rep, 1, phase="read", n=n, seed=2 * rep + n).items():
                    _record(figures, f"prefill {n:,}, tok/s", label, n / seconds)
            save(result)
            print(f"  prefill repetition {rep + 1}/{rounds} done", flush=True)
    finally:
        for process in processes:
            process.close()


def _prefill_reps(text: str) -> dict[int, int]:
    """--prefill-reps (parsed with the other arguments, before any worker starts): one count for
    both prompts, or two (`9,3`: the 512-token read, a single unit per worker and so the
    noisiest figure, 9 times; the 4,096-token read 3 times)."""
    try:
        counts = [int(c) for c in text.split(",")]
    except ValueError:
        counts = []
    if len(counts) == 1:
        counts *= 2
    if len(counts) != 2 or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected N or N512,N4096, each at least 1.")
    return {512: counts[0], 4096: counts[1]}


def _deep_phases(args: argparse.Namespace, figures: dict[str, dict[str, list[float]]], settings: dict[str, Any],
                 save: Any, result: dict[str, Any]) -> None:
    deep = sorted(int(d) for d in args.deep.split(",") if d)
    if not deep:
        return
    n_ctx = args.deep_ctx or deep[-1] + 256
    raws = [(_label(conf), conf) for conf in args.deep_raw.split(";") if conf]
    workers, processes = _start([("app", "app"), ("app'", "app"), *raws], n_ctx, args)  # app': the control
    try:
        for w in workers:
            settings[f"{w.label} ({n_ctx:,})"] = w.setting
        print(f"document context ({n_ctx:,} tokens): " + "; ".join(f"{w.label}: {w.setting['setting']}"
                                                                   for w in workers), flush=True)
        start = 0
        for depth in deep:
            for w in workers:
                w.ask(op="grow", depth=depth, start=start)
            start = depth
            for rep in range(args.reps):
                _decode(figures, workers, rep, depth, args)
                for w in _turns(workers, rep + 1):
                    _record(figures, f"{_QUESTION}-token follow-up after {depth:,}, first token s", w.label,
                            w.ask(op="follow", depth=depth)["v"])
            save(result)
            print(f"  depth {depth:,} done", flush=True)
    finally:
        for process in processes:
            process.close()


def _decode(figures: dict[str, dict[str, list[float]]], workers: list[_Worker], rep: int, depth: int,
            args: argparse.Namespace) -> None:
    """--decode greedy tokens after the cache's first `depth`, --unit steps at a time per worker."""
    for label, (seconds, tokens) in _lockstep(workers, rep, args.unit, phase="decode", depth=depth,
                                              n=args.decode).items():
        _record(figures, f"decode at depth {depth:,}, tok/s", label, (tokens or 0) / seconds)


def _paired(a: list[float], b: list[float], seconds: bool) -> list[float]:
    """Each repetition's a / b as a speed ratio (b / a for times): above 1, a is faster."""
    return [(y / x if seconds else x / y) for x, y in zip(a, b, strict=False) if x and y]


def _span(ratios: list[float]) -> str:
    if not ratios:
        return "-"
    return f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})"


def _tables(result: dict[str, Any]) -> list[str]:
    figures: dict[str, dict[str, list[float]]] = result["figures"]
    labels: list[str] = []
    for per in figures.values():
        labels += [k for k in per if k not in labels]
    lines = ["Medians (every repetition in bench JSON):", "",
             "| phase | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(labels)]
    for phase, per in figures.items():
        lines.append(f"| {phase} | " + " | ".join(f"{statistics.median(per[k]):.2f}" if k in per else "-"
                                                  for k in labels) + " |")
    lines += ["", "The app against the fastest raw setting of the phase (by median); the ratios are "
              "each repetition's own, as speeds (above 1: the app is faster), median (lowest-highest):", "",
              "| phase | fastest raw | app / raw, paired | control app' / app | app / app on the host build |",
              "| --- | --- | ---: | ---: | ---: |"]
    for phase, per in figures.items():
        seconds = phase.endswith(" s")
        raws = [k for k in per if k.startswith("raw")]
        if "app" not in per or not raws:
            continue
        pick = min if seconds else max
        best = pick(raws, key=lambda k: statistics.median(per[k]))
        control = _span(_paired(per["app'"], per["app"], seconds)) if "app'" in per else "-"
        host = _span(_paired(per["app"], per["app, host build"], seconds)) if "app, host build" in per else "-"
        lines.append(f"| {phase} | {best} | {_span(_paired(per['app'], per[best], seconds))} | {control} | {host} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each decode and follow-up phase")
    parser.add_argument("--prefill-reps", type=_prefill_reps, default="3",
                        help="repetitions of the cold prefill: N, or N512,N4096 for the two prompts")
    parser.add_argument("--host", default="", help="a llama_cpp folder of another build (pip install --target)")
    parser.add_argument("--deep", default="8000,16000", help="depths of the document context ('' for none)")
    parser.add_argument("--deep-raw", default="fa=off,ub=512,kv=f16,t=2,repack=on",
                        help="';'-separated raw settings of the document context's phases (app settings such as "
                             "app,shallow=off too: shown beside the app, never the raw figure to beat)")
    parser.add_argument("--deep-ctx", type=int, default=0, help="its n_ctx (default: the deepest depth + 256)")
    parser.add_argument("--skip-chat", action="store_true", help="only the document context's phases")
    parser.add_argument("--together", action="store_true",
                        help="the settings of one build in one process, asked in turn (no fresh-process bias)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--decode", type=int, default=32)
    parser.add_argument("--unit", type=int, default=1, help="decode steps a worker runs before the next one's turn")
    parser.add_argument("--gguf", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write every repetition's figures here")
    parser.add_argument("--table", type=Path, default=None, help="print the tables of a --json file and exit")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n-ctx", type=int, default=_CHAT_CTX, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)
    if args.table:
        print("\n".join(_tables(json.loads(args.table.read_text()))))
        return 0
    if args.gguf is None:
        from bench.engine import _default_gguf

        args.gguf = _default_gguf()

    def save(result: dict[str, Any]) -> None:
        if args.json:  # after every phase, so a run stopped early keeps what it measured
            args.json.write_text(json.dumps(result, indent=1))

    short, long = args.prefill_reps[512], args.prefill_reps[4096]
    print(f"{args.gguf.name}; {args.threads} threads; {args.reps} repetitions ({short} and {long} of the prefills "
          f"of 512 and 4,096); load before: {os.getloadavg()[0]:.2f}; {time.strftime('%H:%M:%S')}", flush=True)
    result = _run(args, save)
    save(result)
    print(f"load after: {os.getloadavg()[0]:.2f}; {time.strftime('%H:%M:%S')}")
    print("\n".join(_tables(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
