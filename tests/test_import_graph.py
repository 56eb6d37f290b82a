"""The layers' arrows only point down, and no two modules of the app import each other (at
module level): a cycle is a sign that logic sits in the wrong layer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Highest first; a module never imports a higher layer (app/cli.py and app/commands start the
# window or the server, so they sit above the server).
LAYERS = ["ui", "commands", "server", "engine", "documents", "hub", "storage", "internlm2"]


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """app.* modules imported when `path` is imported (not inside functions, not TYPE_CHECKING);
    `from pkg import submodule` names the submodule, not the package it lives in."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names if a.name.startswith("app"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.startswith("app"):
                subs = {f"{node.module}.{a.name}" for a in node.names} & modules
                names.update(subs)
                if len(subs) < len(node.names):  # some names are the module's own objects
                    names.add(node.module)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return names


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in (ROOT / "app").rglob("*.py")}
    return {name: {m for m in _top_level_imports(path, set(modules)) if m in modules and m != name}
            for name, path in modules.items()}


def test_no_import_cycles_in_the_app() -> None:
    graph = _graph()
    seen: dict[str, int] = {}  # 1 on the stack, 2 done
    cycles: list[list[str]] = []

    def walk(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in seen:
                walk(nxt, [*stack, nxt])
        seen[node] = 2

    for name in sorted(graph):
        if name not in seen:
            walk(name, [name])
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_lower_layers_never_import_higher_ones() -> None:
    def layer(module: str) -> int | None:
        parts = module.split(".")
        return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None

    wrong = []
    for name, deps in _graph().items():
        mine = layer(name)
        for dep in deps:
            theirs = layer(dep)
            if mine is not None and theirs is not None and theirs < mine:
                wrong.append(f"{name} -> {dep}")
    assert wrong == []


def test_one_prompt_builder() -> None:
    """The window, the command line, needle and the server get their prompts from the one
    conversation model: nothing else calls the chat template's builders."""
    allowed = {ROOT / "app" / "engine" / "conversation.py", ROOT / "app" / "internlm2" / "chat_format.py"}
    callers = []
    for path in (ROOT / "app").rglob("*.py"):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                if name in ("build_chat_prompt", "build_base_prompt"):
                    callers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert callers == [], "prompts built outside app/engine/conversation.py: " + ", ".join(callers)
