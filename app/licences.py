"""Third-party licences: name, version and licence of every package the app ships or runs on.

A bundle carries `resources/third_party_licences.json`, written at build time by
`python -m app.licences --flavour light|full --out FILE` (packaging/build.sh). A source run
has no such file and computes the same list from the installed packages: the dependency
closure of the `internlm2-desktop` distribution (plus its [torch] extra where installed).

    python -m app.licences [--flavour light|full] [--out FILE] [--requirements]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from app import APP_ID

LICENCES_FILE = Path(__file__).resolve().parents[1] / "resources" / "third_party_licences.json"
# Requirements of the app by flavour, when the app itself is not installed (a bare checkout).
_BASE_FALLBACK = ("PySide6-Essentials", "llama-cpp-python", "huggingface-hub", "httpx2", "platformdirs",
                  "gguf", "sentencepiece", "protobuf", "numpy", "pypdf", "cryptography", "python-docx",
                  "psutil", "charset-normalizer")
_TORCH_EXTRA = ("torch", "transformers", "safetensors")
# Not Python packages, but inside every bundle.
_RUNTIME = ("Python", sys.version.split()[0], "PSF-2.0")


@dataclass(frozen=True)
class Licence:
    """One third-party component."""

    name: str
    version: str
    licence: str


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(text: str) -> tuple[str, str]:
    """(name, marker) of a requirement string such as 'foo[bar]>=1; extra == "x"'."""
    spec, _, marker = text.partition(";")
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return (match.group(1) if match else spec.strip()), marker.strip()


def _wanted(marker: str, extras: set[str]) -> bool:
    if not marker:
        return True
    try:
        from packaging.markers import Marker
    except ImportError:  # packaging comes with huggingface-hub; a bare guess otherwise
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        return extra is None or extra.group(1) in extras
    env = {"extra": ""}
    if Marker(marker).evaluate(env):
        return True
    return any(Marker(marker).evaluate({"extra": extra}) for extra in extras)


def _licence_of(dist: metadata.Distribution) -> str:
    meta: Any = dist.metadata  # an email.message.Message underneath
    expression = meta.get("License-Expression")
    if expression:
        return str(expression)
    text = str(meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80 and text.upper() != "UNKNOWN":
        return text
    classifiers = [c.split("::")[-1].strip() for c in (meta.get_all("Classifier") or [])
                   if c.startswith("License ::") and c.count("::") >= 2]
    if classifiers:
        return " / ".join(dict.fromkeys(classifiers))
    return "see the package's licence file" if not text else text.splitlines()[0][:80]


def closure(flavour: str) -> list[metadata.Distribution]:
    """The installed distributions the app needs in `flavour` ('light' or 'full'), sorted by name."""
    extras = {"torch"} if flavour == "full" else set()
    try:
        roots = [_requirement_name(r) for r in (metadata.requires(APP_ID) or [])]
        todo = [name for name, marker in roots if _wanted(marker, extras)]
    except metadata.PackageNotFoundError:
        todo = list(_BASE_FALLBACK) + (list(_TORCH_EXTRA) if flavour == "full" else [])
    seen: dict[str, metadata.Distribution] = {}
    while todo:
        name = todo.pop()
        key = _norm(name)
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency that is not installed is not shipped either
        seen[key] = dist
        for req in dist.requires or []:
            dep, marker = _requirement_name(req)
            if _wanted(marker, set()):
                todo.append(dep)
    return sorted(seen.values(), key=lambda d: _norm(d.metadata["Name"]))


def compute(flavour: str) -> list[Licence]:
    """The list for `flavour` from the installed packages (build time, or a source run)."""
    items = [Licence(*_RUNTIME)]
    items += [Licence(str(d.metadata["Name"]), d.version, _licence_of(d)) for d in closure(flavour)]
    return items


def third_party_licences() -> list[Licence]:
    """The bundled list when there is one, else the list computed for this installation."""
    if LICENCES_FILE.exists():
        data = json.loads(LICENCES_FILE.read_text(encoding="utf-8"))
        return [Licence(str(i["name"]), str(i["version"]), str(i["licence"])) for i in data["packages"]]
    full = importlib.util.find_spec("torch") is not None  # asks, never imports (seconds)
    return compute("full" if full else "light")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.licences", description=__doc__.splitlines()[0])
    parser.add_argument("--flavour", choices=("light", "full"), default="light")
    parser.add_argument("--out", type=Path, default=None, help="write JSON here (default: print a table)")
    parser.add_argument("--requirements", action="store_true",
                        help="print the closure as pinned requirements (name==version), one a line")
    args = parser.parse_args(argv)
    if args.requirements:
        for dist in closure(args.flavour):
            print(f"{dist.metadata['Name']}=={dist.version}")
        return 0
    items = compute(args.flavour)
    if args.out is None:
        for item in items:
            print(f"{item.name:28} {item.version:14} {item.licence}")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"flavour": args.flavour, "packages": [asdict(i) for i in items]},
                                   indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
