"""`main.py --selftest --model PATH`: load a model and answer one question the way the window does.

Checks, in one run, what a double-clicked bundle needs: Qt starts (offscreen unless
QT_QPA_PLATFORM says otherwise), the bundled data files are there (model catalog,
translations, third-party licences), the model loads on the window's inference thread
(`InferenceClient`), the prompt is built by the window's `PromptJob`, and one reply streams
back. Prints the reply's figures and exits 0; any failure is one line on stderr and exit 1
(2 for bad arguments). Used by CI on the built bundle with the tiny test model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from app import APP_NAME, __version__

DEFAULT_QUESTION = "What is InternLM2? Answer in one sentence."


class SelftestError(Exception):
    """A step of the self-test failed; str() is the one line printed."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="main.py --selftest",
        description=f"{APP_NAME}: load a model, answer one question through the window's worker thread, exit.")
    parser.add_argument("--selftest", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", required=True, type=Path, metavar="PATH",
                        help="a .gguf file or a checkpoint folder")
    parser.add_argument("--question", default=DEFAULT_QUESTION, metavar="TEXT")
    parser.add_argument("--system", default=None, metavar="TEXT",
                        help="system prompt (default: the official one; '' for none)")
    parser.add_argument("--backend", choices=("auto", "torch", "llamacpp"), default="auto")
    parser.add_argument("--max-tokens", type=int, default=64, metavar="N")
    parser.add_argument("--temperature", type=float, default=0.0, metavar="T",
                        help="0 (the default) is greedy: the same answer every run")
    parser.add_argument("--ctx", type=int, default=2048, metavar="N")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="S",
                        help="give up after S seconds (load and answer together)")
    return parser.parse_args(argv)


def _check_bundle_files() -> dict[str, Any]:
    """The data files the app reads at run time, found where a source run or the bundle keeps them."""
    from app.internlm2.catalog import load_catalog
    from app.licences import third_party_licences
    from app.ui.window.about_dialog import ICON_FILE, LICENSE_FILE
    from app.ui.window.i18n import Translations

    try:
        models = load_catalog()
    except Exception as exc:  # noqa: BLE001 - any failure is one line
        raise SelftestError(f"the model catalog could not be read ({exc})") from exc
    translations = Translations()
    if not translations.apply("zh_CN"):
        raise SelftestError("the Chinese translation file is missing")
    translations.apply("en")
    licences = third_party_licences()
    if not licences:
        raise SelftestError("the third-party licence list is missing")
    if not (ICON_FILE.exists() and LICENSE_FILE.exists()):
        raise SelftestError("the app's icon or LICENSE file is missing")
    return {"catalog_models": len(models), "licences": len(licences)}


def _answer(args: argparse.Namespace) -> dict[str, Any]:
    """Load, build the prompt, generate: on the same objects the window uses."""
    from PySide6.QtCore import QEventLoop, QTimer

    from app.engine.conversation import Conversation
    from app.engine.loader import LoadSpec
    from app.engine.types import Finished, ModelInfo
    from app.internlm2.chat_format import DEFAULT_SYSTEM_PROMPT, Sampling
    from app.ui.workers.inference_worker import InferenceClient

    client = InferenceClient()
    loop = QEventLoop()
    outcome: dict[str, Any] = {}
    started = time.monotonic()

    def fail(message: str) -> None:
        outcome.setdefault("error", message)
        loop.quit()

    def on_loaded(info: ModelInfo) -> None:
        outcome["loaded"] = {"model": info.model, "backend": info.backend, "device": info.device,
                             "n_ctx": info.n_ctx, "load_s": round(time.monotonic() - started, 3)}
        sampling = Sampling(temperature=args.temperature, max_new_tokens=args.max_tokens, seed=0)
        system = DEFAULT_SYSTEM_PROMPT if args.system is None else args.system
        request = Conversation(info, system=system, sampling=sampling).ask(args.question)
        if not client.generate(request):
            fail("the worker refused the request")

    def on_finished(finished: Finished) -> None:
        outcome["stats"] = {**finished.stats.to_dict(), "text": finished.text}
        loop.quit()

    client.loaded.connect(on_loaded)
    client.finished.connect(on_finished)
    client.failed.connect(fail)
    client.loadFailed.connect(fail)
    client.refused.connect(fail)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: fail(f"no answer within {args.timeout:g} s"))
    timer.start(int(args.timeout * 1000))
    try:
        client.load(LoadSpec(args.model, backend=args.backend, n_ctx=args.ctx))
        loop.exec()
    finally:
        timer.stop()
        client.shutdown()
    if "error" in outcome:
        raise SelftestError(str(outcome["error"]))
    stats: dict[str, Any] = outcome["stats"]
    if stats.get("stop_reason") in ("error", "cancelled"):
        raise SelftestError(f"the reply ended with {stats['stop_reason']}: {stats.get('error', '')}")
    if int(stats.get("new_tokens", 0)) < 1:
        raise SelftestError("the model answered with no tokens")
    return {"loaded": outcome["loaded"], "stats": stats}


def run_selftest(argv: list[str]) -> int:
    """The whole self-test; the process's exit status."""
    args = parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no window is shown
    try:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([sys.argv[0]])
        assert isinstance(app, QApplication)
        print(f"selftest: {APP_NAME} {__version__}, Python {sys.version.split()[0]}, "
              f"Qt platform {app.platformName()}, frozen={bool(getattr(sys, 'frozen', False))}", flush=True)
        files = _check_bundle_files()
        print(f"selftest: catalog {files['catalog_models']} models, translations ok, "
              f"{files['licences']} third-party licences", flush=True)
        if not args.model.exists():
            raise SelftestError(f"there is no model at {args.model}")
        result = _answer(args)
    except SelftestError as exc:
        print(f"selftest failed: {exc}", file=sys.stderr, flush=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"selftest failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    info, stats = result["loaded"], result["stats"]
    print(f"selftest: loaded {info.get('model')} on {info.get('backend')}/{info.get('device')} "
          f"(n_ctx {info.get('n_ctx')}) in {info['load_s']:.2f} s", flush=True)
    if info.get("backend") == "llamacpp":
        from app.engine.llamacpp_runtime import cpu_variants, loaded_cpu_variant

        print(f"selftest: llama.cpp CPU variants {','.join(cpu_variants()) or 'none (one library)'}; "
              f"loaded {loaded_cpu_variant() or 'n/a'}", flush=True)
    answer = str(stats.get("text", ""))
    print(f"selftest: answer: {answer[:200]!r}", flush=True)
    figures = {k: stats.get(k) for k in ("prompt_tokens", "cached_tokens", "new_tokens", "ttft_s",
                                          "tok_s", "prefill_s", "stop_reason", "backend", "device")}
    print(f"selftest: stats {json.dumps(figures)}", flush=True)
    print("selftest: OK", flush=True)
    return 0
