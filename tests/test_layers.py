"""House rules a reader can check in seconds: Qt stays in app/ui, no remote code from the hub."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_app_ui_imports_qt() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "app").rglob("*.py")
                 if "ui" not in p.relative_to(ROOT / "app").parts[:1] and "PySide6" in _imports(p)]
    assert offenders == []


def test_no_trust_remote_code_anywhere() -> None:
    hits = [str(p.relative_to(ROOT)) for p in (ROOT / "app").rglob("*.py")
            if "trust_remote_code=True" in p.read_text(encoding="utf-8")]
    assert hits == []


def test_core_imports_no_heavy_module_at_start() -> None:
    """Importing the core and the CLI must not import torch, transformers, llama_cpp or Qt."""
    code = ("import sys, app.cli, app.internlm2.chat_format, app.internlm2.checkpoint; "
            "print(sorted(m for m in ('torch', 'transformers', 'llama_cpp', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_window_imports_no_heavy_module_at_start() -> None:
    """The window's whole import graph (issue 7): torch, transformers and llama_cpp load with a
    model, never at start-up; nor do the tokenizer's sentencepiece/protobuf or the document readers."""
    heavy = ("torch", "transformers", "llama_cpp", "sentencepiece", "google.protobuf", "gguf",
             "pypdf", "docx", "huggingface_hub")
    code = ("import sys, app.ui.startup.application, app.ui.window.main_window, app.ui.window.window_menus, "
            "app.ui.window.about_dialog, app.ui.startup.selftest; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.strip() == "[]"
