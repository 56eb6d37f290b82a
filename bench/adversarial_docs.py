"""Time and peak memory of reading each hostile document the tests generate.

    .venv/bin/python bench/adversarial_docs.py [--mb 4] [--only SUBSTRING]

Each input is built here into a temporary folder; a fresh child process (`--read PATH`) then
reads it with app.documents.read_document and reports the read's time, its own peak RSS
(VmHWM: the interpreter and the readers' imports included, about 40-60 MB) and the
outcome (the characters read, or the error's class). The issue's bound: each under 10 s and
1 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024


def _text_file(folder: Path) -> Path:
    path = folder / "huge.txt"
    line = "All work and no play makes Jack a dull boy. 只工作不玩耍，聪明孩子也变傻。\n"
    with path.open("w", encoding="utf-8") as handle:
        while handle.tell() < 49 * MB:
            handle.write(line * 10_000)
    return path


def _write(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path
    return build


def _cases(megabytes: int) -> dict[str, Callable[[Path], Path]]:
    from tests import hostile_docs as hostile  # the parent only: the child imports app.documents
    from tests.test_documents import build_docx, build_epub

    cases: dict[str, Callable[[Path], Path]] = {"49 MB text file": _text_file}
    docx, epub = build_docx(), build_epub()
    cases["docx: 1 GiB member (zip bomb)"] = lambda f: _write("bomb.docx", hostile.declare_sizes(
        hostile.rewrite_zip(docx, add=lambda z: z.writestr("word/media/x.bin", b"x")),
        "word/media/x.bin", size=1024 * MB, packed=3 * MB))(f)
    cases["docx: 24 MB of zeros, deflated"] = lambda f: _write("zeros.docx", hostile.rewrite_zip(
        docx, add=lambda z: hostile.zeros_member(z, "word/media/zeros.bin", 24)))(f)
    cases["docx: cell spanning 100 M columns"] = lambda f: _write("span.docx", hostile.docx_with_body(
        docx, hostile.grid_span_bomb_body()))(f)
    cases["docx: 20,000-row vertical merge"] = lambda f: _write("merge.docx", hostile.docx_with_body(
        docx, hostile.vertical_merge_body(20_000)))(f)
    cases["docx: 25,000 members"] = lambda f: _write("many.docx", hostile.many_members_zip(25_000))(f)
    cases["epub: chapters declaring 400 MB"] = lambda f: _write("big.epub", hostile.declare_sizes(
        hostile.declare_sizes(hostile.rewrite_zip(epub, add=lambda z: (z.writestr("a.bin", b"a"),
                                                                       z.writestr("b.bin", b"b"))),
                              "a.bin", size=200 * MB, packed=200 * MB), "b.bin", size=200 * MB, packed=200 * MB))(f)
    chapter = "".join(f"<p>Paragraph {i} of a book that never ends.</p>" for i in range(300_000))
    cases["epub: 15 MB chapter of text"] = lambda f: _write("long.epub", hostile.rewrite_zip(
        epub, {"OEBPS/text/ch1.xhtml": f"<html><body>{chapter}</body></html>".encode()}))(f)
    for label, markup in hostile.adversarial_html(megabytes).items():
        cases[f"html {megabytes} MB: {label}"] = _write("page.html", markup.encode())
    cases["pdf: 96 MB stream bomb + a page"] = lambda f: _write("bomb.pdf", hostile.pdf_with_streams(
        [b" " * (96 * MB), hostile.text_page("survivor")]))(f)
    cases["pdf: 600,000 operators on a page"] = lambda f: _write("ops.pdf", hostile.pdf_with_streams(
        [b"q Q " * 600_000, hostile.text_page("survivor")]))(f)
    cases["pdf: 10,001 pages"] = lambda f: _write("pages.pdf", hostile.pdf_with_streams(
        [b""] * 10_001, deflate=False))(f)
    return cases


def _read(path: Path) -> None:
    """In the child: read one file, print the figures as JSON."""
    from app.documents import DocumentError, read_document

    start = time.perf_counter()
    try:
        doc = read_document(path)
        outcome = f"read: {doc.characters:,} characters" + (", with a warning" if doc.warnings else "")
    except DocumentError as exc:
        outcome = type(exc).__name__
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": peak_rss_kb() / 1024, "outcome": outcome}))


def peak_rss_kb() -> int:
    """This process's peak resident memory. VmHWM on Linux: ru_maxrss keeps the parent's peak
    across fork and exec, so a child started by a big parent would report the parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=4, help="size of the adversarial HTML inputs")
    parser.add_argument("--only", default="", help="run only the cases whose name holds this")
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        _read(args.read)
        return 0
    print("| input | file | time | peak RSS (child) | outcome |")
    print("| --- | ---: | ---: | ---: | --- |")
    worst_s = worst_mb = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, build in _cases(args.mb).items():
            if args.only not in name:
                continue
            path = build(Path(folder))
            out = subprocess.run([sys.executable, __file__, "--read", str(path)],
                                 capture_output=True, text=True, cwd=ROOT, timeout=300)
            size = f"{path.stat().st_size / MB:.2f} MB"
            path.unlink()
            if out.returncode:
                print(f"| {name} | {size} | failed | | {out.stderr.strip().splitlines()[-1]} |")
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            worst_s, worst_mb = max(worst_s, row["seconds"]), max(worst_mb, row["peak_mb"])
            print(f"| {name} | {size} | {row['seconds']:.2f} s | {row['peak_mb']:.0f} MB | {row['outcome']} |")
    print(f"\nworst: {worst_s:.2f} s, {worst_mb:.0f} MB peak RSS (bound: 10 s, 1 GB)")
    return 0 if worst_s < 10 and worst_mb < 1024 else 1


if __name__ == "__main__":
    raise SystemExit(main())
