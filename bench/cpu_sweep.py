"""Benchmark: what llama.cpp settings are fastest on this CPU, phase by phase, against the app.

    .venv/bin/python bench/cpu_sweep.py [--quick] [--depths 4096,16384] [--rounds 3]
                                        [--configs NAME;NAME...] [--libs DIR,DIR] [--threads 2]
                                        [--decode 32] [--gguf FILE] [--json OUT] [--clock wall|cpu]
    .venv/bin/python bench/cpu_sweep.py --table OUT     # the table of a saved (maybe stopped) sweep

Each run is one configuration in a FRESH process (several contexts with the same settings in
one process can differ by ~10%), runs of all configurations interleaved round by round, and
each figure is the median over the rounds. A run reads one growing context of random token ids
(the same ids in every run) and measures, in order:

- decode at depth 16: 16 tokens read, then --decode greedy tokens (tokens/s);
- prefill 512 and prefill 4,096: from a cold cache, read in n_batch (512) chunks (tokens/s;
  the first chunk is the 512 figure, the time to 4,096 the other);
- at every depth D in --depths (the context grows to D, pauses excluded from the prefill):
  decode at depth D (tokens/s), then a 24-token follow-up against the D cached tokens: time
  to its first token (seconds), the reply and the question dropped again before the context grows.

A configuration is `fa=on|off,ub=N,kv=f16|q8_0,t=N,repack=on|off` for raw llama-cpp-python
(Llama.eval and the low-level greedy sampler), or `app` for the app's own backend
(LlamaCppBackend.generate with its per-context policy: flash attention, micro-batch, threads,
repacking, the prompt reader; `app:N` loads it with an n_ctx of N, e.g. a document's 16384;
`app,reader=off` without the prompt reader, `app,reader=on` with it wherever memory allows,
`app,rfa=off` with the reader but without its flash attention, `app,shallow=off` without the
shallow decoder (the first tokens decoded with flash attention), `app,shallow=on` with it),
a configuration with `depth=N` (raw or `app,depth=N`) runs only the phases up to depth N (in the
same n_ctx): for settings already shown to lose the deeper phases, so one run of every setting
stays affordable, or to compare the shallow phases in a long context quickly,
optionally `@DIR` for a llama_cpp installed there (pip install --target DIR WHEEL): the build
comparison. n_ctx is the deepest depth + 256 for every run, so the app
chooses as it would for a context of that size. --quick: depths 4096, one round per
configuration of a short list, 16 decoded tokens (a few minutes with a fast build).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

_N_BATCH = 512
_clock = time.perf_counter  # --clock cpu: time.process_time (see main)
_QUESTION = 24
_QUICK = "app;fa=off,ub=512,kv=f16,t=2,repack=on;fa=on,ub=512,kv=f16,t=2,repack=on"
_FULL = (_QUICK + ";fa=off,ub=256,kv=f16,t=2,repack=on;fa=on,ub=256,kv=f16,t=2,repack=on"
         ";fa=off,ub=512,kv=f16,t=2,repack=off;fa=on,ub=512,kv=q8_0,t=2,repack=on"
         ";fa=off,ub=512,kv=f16,t=1,repack=on")


def _parse(name: str) -> dict[str, Any]:
    spec, _, lib = name.partition("@")
    if spec == "app" or spec.startswith(("app:", "app,")):
        head, _, opts = spec.partition(",")
        opt = dict(kv.split("=", 1) for kv in opts.split(",") if kv)
        reader, rfa, shallow = opt.get("reader"), opt.get("rfa"), opt.get("shallow")
        return {"app": True, "lib": lib, "n_ctx": int(head[4:] or 0), "depth": int(opt.get("depth", 0)),
                "reader": None if reader is None else reader == "on", "rfa": None if rfa is None else rfa == "on",
                "shallow": None if shallow is None else shallow == "on"}
    conf = dict(kv.split("=", 1) for kv in spec.split(","))
    return {"app": False, "lib": lib, "fa": conf.get("fa", "off") == "on", "ub": int(conf.get("ub", 512)),
            "kv": conf.get("kv", "f16"), "t": int(conf.get("t", 2)), "repack": conf.get("repack", "on") == "on",
            "depth": int(conf.get("depth", 0))}


# -- one run (the child process) -------------------------------------------------------------
class _RawRun:
    def __init__(self, path: Path, n_ctx: int, conf: dict[str, Any]) -> None:
        import llama_cpp
        from llama_cpp._internals import LlamaSampler

        from app.engine.llamacpp_backend import KV_TYPES
        from app.engine.llamacpp_runtime import (
            amx_guard_needed,
            build_features,
            cpu_flags,
            safe_model_params,
        )

        repack = conf["repack"] and not amx_guard_needed(build_features(), cpu_flags())  # never the crash
        kv = KV_TYPES[conf["kv"]]
        with safe_model_params(extra_bufts=repack):  # the app's own switch of the repacking
            self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_batch=_N_BATCH, n_ubatch=conf["ub"],
                                       n_threads=conf["t"], n_threads_batch=conf["t"], flash_attn=conf["fa"],
                                       type_k=kv, type_v=kv, n_gpu_layers=0, verbose=False)
        self.sampler = LlamaSampler()
        self.sampler.add_greedy()
        self.setting = f"raw, repacking {'on' if repack else 'off'}"

    def trim(self, n: int) -> None:
        self.llm._ctx.kv_cache_seq_rm(-1, n, -1)
        self.llm.n_tokens = n

    def read(self, ids: list[int], start: int) -> None:
        self.trim(start)
        for pos in range(start, len(ids), _N_BATCH):
            self.llm.eval(ids[pos:pos + _N_BATCH])

    def decode(self, ids: list[int], n: int) -> float:
        """n tokens from a cache holding all but the prompt's last token (what the app does)."""
        self.trim(len(ids) - 1)
        ctx = self.llm._ctx
        t0 = _clock()
        self.llm.eval(ids[-1:])
        for _ in range(n):
            self.llm.eval([self.sampler.sample(ctx, -1)])
        return n / (_clock() - t0)

    def read_steps(self, ids: list[int]) -> Iterator[int]:
        """A cold read of ids an n_batch chunk at a time (cpu_pair.py interleaves the settings
        chunk by chunk): yields the tokens read so far after each chunk."""
        self.trim(0)
        for pos in range(0, len(ids), _N_BATCH):
            self.llm.eval(ids[pos:pos + _N_BATCH])
            yield min(pos + _N_BATCH, len(ids))

    def decode_steps(self, ids: list[int], n: int) -> Iterator[int]:
        """decode() a token at a time: yields the tokens decoded so far after each step (the
        first step runs the prompt's last token too)."""
        self.trim(len(ids) - 1)
        ctx = self.llm._ctx
        self.llm.eval(ids[-1:])
        for i in range(n):
            self.llm.eval([self.sampler.sample(ctx, -1)])
            yield i + 1

    def follow_up(self, ids: list[int], question: list[int]) -> float:
        self.trim(len(ids))
        t0 = _clock()
        self.llm.eval(question)
        tok = self.sampler.sample(self.llm._ctx, -1)
        if _clock is time.perf_counter:
            return time.perf_counter() - t0  # the first token (as the app's ttft)
        self.llm.eval([tok])  # CPU time is measured from outside the app: its step after the token too
        return _clock() - t0


class _AppRun:
    def __init__(self, path: Path, n_ctx: int, threads: int, reader: bool | None = None,
                 reader_flash: bool | None = None, shallow: bool | None = None) -> None:
        from app.engine.llamacpp_backend import LlamaCppBackend
        from app.engine.llamacpp_runtime import loaded_cpu_variant

        self.app = LlamaCppBackend(path, n_ctx=n_ctx, n_threads=threads, n_batch=_N_BATCH, prompt_reader=reader,
                                   reader_flash_attn=reader_flash, shallow_decoder=shallow)
        variant = loaded_cpu_variant()
        self.setting = (f"app, {self.app.n_threads} threads" + (f", CPU variant {variant}" if variant else "")
                        + f": {self.app.policy.why}")

    def _run(self, ids: list[int], n: int, prefill_only: bool = False) -> Any:
        from app.engine.types import Finished

        done = None
        for event in self._events(ids, n, prefill_only):
            done = event
        assert isinstance(done, Finished)
        return done

    def read(self, ids: list[int], start: int) -> None:
        self._run(ids, 1, prefill_only=True)  # the app finds the first `start` tokens cached

    def _events(self, ids: list[int], n: int, prefill_only: bool = False) -> Iterator[Any]:
        from app.engine.types import GenerateRequest
        from app.internlm2.chat_format import Sampling

        return self.app.generate(GenerateRequest(ids, Sampling(temperature=0.0, max_new_tokens=n),
                                                 prefill_only=prefill_only))

    def read_steps(self, ids: list[int]) -> Iterator[int]:
        """A read of new ids through LlamaCppBackend.generate, paused where it reports a chunk
        read (its own PrefillProgress): yields the tokens read so far; the last step runs to the
        end of the request, the handover to the decoding context included."""
        from app.engine.types import Finished, PrefillProgress

        for event in self._events(ids, 1, prefill_only=True):
            if isinstance(event, PrefillProgress) and 0 < event.done < event.total:
                yield event.done
            elif isinstance(event, Finished):
                yield len(ids)

    def decode_steps(self, ids: list[int], n: int) -> Iterator[int]:
        """decode() paused where the reply streams a piece of text (about a token each: the
        generator's own pauses, so none of the app's loop is left out): yields the tokens
        decoded so far, the last step to the end of the request."""
        from app.engine.types import Finished, TextPiece

        start = len(ids)
        for event in self._events(ids, n):
            if isinstance(event, TextPiece):
                yield max(0, len(self.app.cached_view) - start)
            elif isinstance(event, Finished):
                yield event.stats.new_tokens

    def decode(self, ids: list[int], n: int) -> float:
        t0 = _clock()
        done = self._run(ids, n)  # the prompt's last token run again, n samples and n steps
        return done.stats.new_tokens / (_clock() - t0)

    def follow_up(self, ids: list[int], question: list[int]) -> float:
        t0 = _clock()
        done = self._run(ids + question, 1)
        return float(done.stats.ttft_s) if _clock is time.perf_counter else _clock() - t0


def _child(args: argparse.Namespace) -> int:
    import numpy as np

    conf = _parse(args.child)
    depths = [int(d) for d in args.depths.split(",") if d]
    n_ctx = max(depths + [4096]) + 256  # the same context for every configuration
    if conf.get("depth"):  # this configuration stops growing its context there
        depths = [d for d in depths if d <= conf["depth"]]
    path = Path(args.gguf)
    run: Any = (_AppRun(path, max(n_ctx, conf["n_ctx"]), args.threads, conf["reader"], conf["rfa"], conf["shallow"])
                if conf["app"] else _RawRun(path, n_ctx, conf))
    rng = np.random.default_rng(0)
    ids = [int(t) for t in rng.integers(10, 92000, n_ctx - 256)]  # the same ids whatever the depths
    question = [int(t) for t in rng.integers(10, 92000, _QUESTION)]
    out: dict[str, float] = {}
    run.read(ids[:16], 0)
    out["decode at depth 16, tok/s"] = run.decode(ids[:16], args.decode)
    run.read([], 0)
    pos, spent = 0, 0.0
    limit = conf.get("depth") or n_ctx
    for depth in sorted(set(depths + [d for d in (512, 4096) if d <= limit])):
        t0 = _clock()
        run.read(ids[:depth], pos)
        spent += _clock() - t0
        pos = depth
        if depth in (512, 4096):
            out[f"prefill {depth:,}, tok/s"] = depth / spent
        if depth in depths:
            out[f"decode at depth {depth:,}, tok/s"] = run.decode(ids[:depth], args.decode)
            out[f"{_QUESTION}-token follow-up after {depth:,}, first token s"] = run.follow_up(ids[:depth], question)
    import llama_cpp

    print(json.dumps({"figures": out, "setting": run.setting, "lib": os.path.dirname(llama_cpp.__file__)}), flush=True)
    return 0


# -- the sweep (the parent) -------------------------------------------------------------------
def _spawn(name: str, args: argparse.Namespace) -> dict[str, Any]:
    lib = _parse(name)["lib"]
    env = dict(os.environ)
    if lib:
        env["PYTHONPATH"] = lib + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--child", name, "--gguf", str(args.gguf), "--depths", args.depths,
           "--decode", str(args.decode), "--threads", str(args.threads), "--clock", args.clock]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _table(names: list[str], results: dict[str, list[dict[str, Any]]]) -> list[str]:
    phases: list[str] = []
    for runs in results.values():
        for run in runs:
            phases += [p for p in run.get("figures", {}) if p not in phases]
    med: dict[str, dict[str, float]] = {}
    for name in names:
        med[name] = {p: statistics.median(v) for p in phases
                     if (v := [r["figures"][p] for r in results[name] if p in r.get("figures", {})])}
    lines = ["| phase | " + " | ".join(f"`{n}`" for n in names) + " |", "| --- |" + " ---: |" * len(names)]
    for p in phases:
        lines.append(f"| {p} | " + " | ".join(f"{med[n][p]:.2f}" if p in med[n] else "-" for n in names) + " |")
    apps = [n for n in names if _parse(n)["app"]]
    raws = [n for n in names if not _parse(n)["app"]]
    for app in apps:
        lines += ["", f"`{app}` against the best raw configuration, phase by phase:", "",
                  "| phase | app | best raw | configuration | app / best | paired: median of the rounds' app / raw |",
                  "| --- | ---: | ---: | --- | ---: | ---: |"]
        for p in phases:
            seconds = p.endswith(" s")
            cands = [(med[n][p], n) for n in raws if p in med[n]]
            if p not in med[app] or not cands:
                continue
            best, which = min(cands) if seconds else max(cands)
            ratio = best / med[app][p] if seconds else med[app][p] / best
            lines.append(f"| {p} | {med[app][p]:.2f} | {best:.2f} | `{which}` | {ratio:.3f} | "
                         f"{_paired(results[app], results[which], p, seconds)}")
    return lines


def _paired(app: list[dict[str, Any]], raw: list[dict[str, Any]], phase: str, seconds: bool) -> str:
    """The median of the rounds' own ratios (app / raw of the same round, run next to each
    other), and their range: a machine whose speed drifts moves both runs of a round, which the
    ratio of two medians over different moments does not cancel."""
    ratios = []
    for a, r in zip(app, raw, strict=False):  # a stopped sweep may lack a run
        x, y = a.get("figures", {}).get(phase), r.get("figures", {}).get(phase)
        if x and y:
            ratios.append(y / x if seconds else x / y)
    if not ratios:
        return "- |"
    return f"{statistics.median(ratios):.3f} ({min(ratios):.2f}-{max(ratios):.2f}, {len(ratios)} rounds) |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--depths", default=None, help="comma-separated context depths (default 4096,16384)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--configs", default=None, help="';'-separated configurations (see above)")
    parser.add_argument("--libs", default="", help="','-separated llama_cpp folders: the app is run on each")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--decode", type=int, default=None)
    parser.add_argument("--gguf", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write every run's figures here")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: the process's CPU time (steadier on a shared machine; use with 1 thread)")
    parser.add_argument("--table", type=Path, default=None, help="print the table of a --json file and exit")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.depths = args.depths or ("4096" if args.quick else "4096,16384")
    args.decode = args.decode or (16 if args.quick else 32)
    if args.clock == "cpu":
        global _clock
        _clock = time.process_time
    if args.child:
        return _child(args)
    if args.table:
        saved = json.loads(args.table.read_text())
        runs = {n: [r for r in saved["results"][n] if "figures" in r] for n in saved["names"]}
        print(f"runs per configuration: {', '.join(str(len(v)) for v in runs.values())}")
        print("\n".join(_table(saved["names"], runs)))
        return 0
    if args.gguf is None:
        from bench.engine import _default_gguf

        args.gguf = _default_gguf()
    names = [n for n in (args.configs or (_QUICK if args.quick else _FULL)).split(";") if n]
    names += [f"app@{lib}" for lib in args.libs.split(",") if lib]
    rounds = args.rounds or (1 if args.quick else 3)
    print(f"{args.gguf.name}; depths {args.depths}; {args.decode} decoded tokens; {rounds} round(s); "
          f"{args.clock} clock; "
          f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for rnd in range(rounds):
        order = names if rnd % 2 == 0 else names[::-1]  # alternate who goes first
        for name in order:
            res = _spawn(name, args)
            results[name].append(res)
            if args.json:  # after every run, so a sweep stopped early keeps what it measured
                args.json.write_text(json.dumps({"names": names, "results": results}, indent=1))
            print(f"  round {rnd + 1}/{rounds} {name}: {res.get('setting', '')} {res.get('error', '')} "
                  f"(load {os.getloadavg()[0]:.2f})", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    print("\n".join(_table(names, results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
