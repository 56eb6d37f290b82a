"""Every sentence the core raises to a person is a translatable `say()` sentence.

An AST walk over app/ (the window, app/ui, has tr() instead) finds each call that builds a
UserError (any subclass, also through `super().__init__`) and fails on an argument that is plain
English: a string literal of two words or more, an f-string, or text glued with + or .format().
The technical cause belongs in `detail=`, which stays untranslated behind the Details toggle.
A raise of any other exception type with English text must be of a type in `_NOT_SHOWN`, each with
the reason a user never reads it; a new type fails here until someone decides which it is.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_CORE = sorted(p for p in (ROOT / "app").rglob("*.py") if "ui" not in p.relative_to(ROOT / "app").parts[:1])

# Exception types raised with English text that no window shows as a sentence:
_NOT_SHOWN = {
    "ValueError": "a programmer's assertion, or caught by its caller and kept as a UserError's detail",
    "TypeError": "a programmer's assertion (a setting that is not JSON)",
    "KeyError": "caught by the EPUB reader, which raises its own DocumentError",
    "AssertionError": "unreachable code and internal consistency checks",
    "NotImplementedError": "a backend method the caller checks for before calling",
    "NotFoundError": "a stale id inside the storage API (a LookupError the caller handles)",
    "OSError": "caught by the hub's verifier, which reports a typed HubError",
    "ArgumentTypeError": "argparse's own messages for a malformed option, on the command line only",
    "RemoteProtocolError": "caught by the transfer, which retries or raises a typed HubError",
    "OfflineModeIsEnabled": "caught by the hub's translate(), which raises OfflineModeError",
    "CalculatorError": "a tool's result: the model reads it in the environment turn, so it stays in the "
                       "prompt's one language whatever the window's",
    "SearchError": "a tool's result, as CalculatorError",
    "StateFormatError": "caught by the llama.cpp backend, which raises a translated EngineError and keeps "
                        "this as its detail",
}
# UserErrors whose sentence goes to a program, not a person: the local server's HTTP answers,
# in English as the OpenAI API they imitate.
_FOR_PROGRAMS = {"BadRequest", "QueueFull"}
_SENTENCE = re.compile(r"[A-Za-z]+[^A-Za-z]+[A-Za-z]+")  # two words or more


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _plain_english(node: ast.expr, glued: bool = False) -> bool:
    """A literal sentence, an f-string, or text glued from one: English that no catalogue holds.
    A lone word is a token (a key, a kind); glued to something with + or %, any word is English."""
    if isinstance(node, ast.Constant):
        words = re.compile("[A-Za-z]") if glued else _SENTENCE
        return isinstance(node.value, str) and words.search(node.value) is not None
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _plain_english(node.left, True) or _plain_english(node.right, True)
    if isinstance(node, ast.IfExp):
        return _plain_english(node.body) or _plain_english(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _plain_english(node.func.value)
    return False


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in _CORE}


def _user_errors(trees: dict[Path, ast.Module]) -> dict[str, list[str]]:
    """Every UserError class of the core -> the parameter names of its __init__ (after self)."""
    classes = {node.name: node for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    params: dict[str, list[str]] = {"UserError": ["message", "hint", "detail"]}
    changed = True
    while changed:
        changed = False
        for name, node in classes.items():
            base = next((_name(b) for b in node.bases if _name(b) in params), None)
            if name in params or base is None:
                continue
            init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
            params[name] = [a.arg for a in init.args.args[1:]] + [a.arg for a in init.args.kwonlyargs] \
                if init else params[base]
            changed = True
    return params


def _offences(path: Path, tree: ast.Module, params: dict[str, list[str]]) -> Iterator[str]:
    where = path.relative_to(ROOT)
    for cls in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name in params.keys() - {"UserError"}]:
        for call in [n for n in ast.walk(cls) if isinstance(n, ast.Call)]:
            func = call.func
            is_super = (isinstance(func, ast.Attribute) and func.attr == "__init__"
                        and (_name(func.value) in params or (isinstance(func.value, ast.Call)
                                                              and _name(func.value.func) == "super")))
            if is_super:
                base = next((_name(b) for b in cls.bases if _name(b) in params), "UserError")
                own = _name(func.value) if _name(func.value) in params else base
                args = call.args[1:] if _name(func.value) in params else call.args
                yield from _check(where, call, own, args, params)
    for call in [n for n in ast.walk(tree) if isinstance(n, ast.Call)]:
        name = _name(call.func)
        if name in params and name not in _FOR_PROGRAMS:
            yield from _check(where, call, name, call.args, params)
    for node in [n for n in ast.walk(tree) if isinstance(n, ast.Raise)]:
        exc = node.exc
        if (isinstance(exc, ast.Call) and _name(exc.func) not in params and _name(exc.func) not in _NOT_SHOWN
                and any(_plain_english(a) for a in exc.args)):
            yield f"{where}:{node.lineno}: {_name(exc.func)} raised with English text (say why in _NOT_SHOWN)"


def _check(where: Path, call: ast.Call, cls: str, args: list[ast.expr],
           params: dict[str, list[str]]) -> Iterator[str]:
    names = params.get(cls, [])
    given = [(names[i] if i < len(names) else f"#{i}", a) for i, a in enumerate(args)]
    given += [(k.arg or "**", k.value) for k in call.keywords]
    for param, value in given:
        if param != "detail" and _plain_english(value):
            yield f"{where}:{call.lineno}: {cls}({param}=...) is plain English; use say(...)"


def test_the_core_raises_only_translatable_sentences() -> None:
    trees = _trees()
    params = _user_errors(trees)
    assert {"CheckpointError", "HubUnreachableError", "DocumentError", "ModelLoadError"} <= set(params)
    found = [o for path, tree in trees.items() for o in _offences(path, tree, params)]
    assert not found, f"{len(found)} sentences a person reads are not translatable:\n" + "\n".join(found)


def test_the_walk_catches_each_kind_of_plain_sentence() -> None:
    """The checker itself, on generated sources: each way of writing plain English is caught,
    a say() sentence, a one-word token and a technical detail are not."""
    params = {"UserError": ["message", "hint", "detail"], "CheckpointError": ["message", "hint", "detail"]}
    bad = ['raise CheckpointError(f"{x} is broken.")', 'raise CheckpointError("It broke.")',
           'raise CheckpointError(say("It broke."), "Do this now.")',
           'raise CheckpointError(say("a"), hint="Do " + what)', 'raise CheckpointError("Bad {x}".format(x=1))',
           'raise CheckpointError(say("a") if x else "No way out.")', 'raise RuntimeError("Shown to people.")']
    good = ['raise CheckpointError(say("{x} is broken.", x=x), detail=f"shape {s}")',
            'raise CheckpointError(say("a"), say("b"), str(exc))', 'raise ValueError(f"bad {x}")',
            'raise CheckpointError(message)']
    for source in bad + good:
        tree = ast.parse(source)
        found = list(_offences(ROOT / "app" / "x.py", tree, params))
        assert bool(found) == (source in bad), source


def test_converted_core_errors_reach_a_chinese_window_in_chinese(qapp, tmp_path: Path) -> None:
    """A damaged GGUF (generated bytes), a checkpoint path that is a file and a hub value that
    would escape the cache: each error reads in Chinese, names the file, and keeps its
    technical cause (the parser's words) out of the sentence, for the Details toggle."""
    import random

    import pytest

    from app.engine.gguf_meta import read_gguf_info
    from app.engine.types import ModelLoadError
    from app.hub.safety import UnsafeAnswerError, check_filename
    from app.internlm2.checkpoint import open_checkpoint
    from app.internlm2.errors import CheckpointError
    from app.ui.window.core_text import error_text
    from app.ui.window.i18n import Translations

    rng = random.Random(13)
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + bytes([3, 0, 0, 0]) + bytes(rng.randrange(256) for _ in range(40)))
    not_a_folder = tmp_path / "weights.bin"
    not_a_folder.write_bytes(b"\0" * 16)
    errors = []
    for call, kind in ((lambda: read_gguf_info(damaged), ModelLoadError),
                       (lambda: open_checkpoint(not_a_folder), CheckpointError),
                       (lambda: check_filename("../../etc/passwd", source="https://hub.example"), UnsafeAnswerError)):
        with pytest.raises(kind) as caught:
            call()
        errors.append(caught.value)
    assert errors[0].detail and errors[0].detail not in str(errors[0].message)
    translations = Translations()
    try:
        assert translations.apply("zh_CN")
        shown = [error_text(e) for e in errors]
    finally:
        translations.apply("en")
    for error, text, name in zip(errors, shown, ("damaged.gguf", "weights.bin", "hub.example"), strict=True):
        assert re.search("[\u4e00-\u9fff]", text) and name in text, text
        assert not re.search(r"\b(is|the|was|not)\b", text), text  # no English sentence left in it
        if error.detail:
            assert error.detail not in text, text
    assert "缓存之外的路径" not in shown[2] and "文件名" in shown[2]  # the nested fragment, translated too
