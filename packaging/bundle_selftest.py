"""Run a built bundle's `--selftest` on the tiny test model and check the answer's figures.

    .venv/bin/python packaging/bundle_selftest.py [packaging/dist/light/internlm2-desktop/internlm2-desktop]

Builds the tests' "stop model" (tests/tiny_model.py: a tiny random InternLM2 whose greedy
reply to STOP_PROMPT ends on <|im_end|> after k tokens), exports it to GGUF with the app's
own converter, runs the bundle's executable with `--selftest` in empty app folders and
checks: exit 0, "selftest: OK", llama.cpp backend, stop_token after exactly k tokens. Then a
missing model must fail with exit 1 and one line. Needs the test environment (.venv), not
the bundle's. Exit status 0 when all holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT = ROOT / "packaging" / "dist" / "light" / "internlm2-desktop" / "internlm2-desktop"


def _tiny_gguf(folder: Path) -> tuple[Path, int]:
    from app.internlm2.chat_format import Message, build_chat_prompt
    from app.internlm2.gguf_export import export_gguf
    from app.internlm2.tokenizer import InternLM2Tokenizer
    from tests.conftest import STOP_PROMPT  # noqa: F401 - the same prompt as the tests
    from tests.tiny_model import TinySpec, build_tiny_checkpoint, make_reply_stop

    ckpt = build_tiny_checkpoint(folder / "tiny-stop", TinySpec(seed=7, dtype="F32"))
    tok = InternLM2Tokenizer.from_folder(ckpt)
    k = make_reply_stop(ckpt, build_chat_prompt([Message("user", STOP_PROMPT)]).ids(tok))
    return export_gguf(ckpt, folder / "stop-f32.gguf", "f32"), k


def _run(exe: Path, args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # the selftest must choose offscreen by itself
    for kind in ("DATA", "CACHE", "LOGS", "CONFIG"):
        env[f"INTERNLM2_DESKTOP_{kind}"] = str(tmp / "appdirs" / kind.lower())
    return subprocess.run([str(exe), "--selftest", *args], env=env, cwd=tmp, capture_output=True,
                          text=True, timeout=300)


def main() -> int:
    exe = (Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT).resolve()
    if not exe.exists():
        print(f"bundle selftest: no executable at {exe}; build it with packaging/build.sh light", file=sys.stderr)
        return 1
    from tests.conftest import STOP_PROMPT

    with tempfile.TemporaryDirectory(prefix="bundle-selftest-") as tmp_name:
        tmp = Path(tmp_name)
        gguf, k = _tiny_gguf(tmp)
        started = time.monotonic()
        out = _run(exe, ["--model", str(gguf), "--system", "", "--question", STOP_PROMPT, "--ctx", "512"], tmp)
        seconds = time.monotonic() - started
        sys.stdout.write(out.stdout)
        sys.stderr.write(out.stderr[-4000:])
        problems: list[str] = []
        if out.returncode != 0 or not out.stdout.rstrip().endswith("selftest: OK"):
            problems.append(f"exit {out.returncode}, no 'selftest: OK'")
        if "frozen=True" not in out.stdout:
            problems.append("the executable did not run frozen")
        stats_line = next((ln for ln in out.stdout.splitlines() if ln.startswith("selftest: stats ")), "")
        stats = json.loads(stats_line.removeprefix("selftest: stats ")) if stats_line else {}
        if stats.get("backend") != "llamacpp" or stats.get("stop_reason") != "stop_token" \
                or stats.get("new_tokens") != k:
            problems.append(f"expected llamacpp, stop_token after {k} tokens; got {stats}")
        # The default x86-64 Linux build ships one CPU library per level and loads one of them.
        if sys.platform.startswith("linux") and os.uname().machine == "x86_64" \
                and os.environ.get("INTERNLM2_LLAMA_CPU", "variants") == "variants":
            line = next((ln for ln in out.stdout.splitlines() if ln.startswith("selftest: llama.cpp CPU")), "")
            if "haswell" not in line or "loaded n/a" in line or not line:
                problems.append(f"expected the CPU variants, one of them loaded; got {line!r}")
        bad = _run(exe, ["--model", str(tmp / "absent.gguf")], tmp)
        if bad.returncode != 1 or bad.stderr.strip().count("\n") != 0 or "no model at" not in bad.stderr:
            problems.append(f"a missing model gave exit {bad.returncode} and {bad.stderr!r}")
    if problems:
        print("bundle selftest FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"bundle selftest passed: {exe} answered in {seconds:.1f} s (process start to exit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
