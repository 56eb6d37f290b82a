"""Check budget.min_tokens_bound against the REAL InternLM2 tokenizer, and print how far below
real token counts it stays on English, Chinese, code and random bytes.

    .venv/bin/python bench/tokens_per_char.py [--tokenizer FOLDER_OR_tokenizer.model]

1. The proof: for every vocabulary piece the text can produce (not control, unknown, byte or
   unused), the weights of its characters (1 / span, the spans in app/engine/budget.py) sum to
   at most 1, and it holds at most one run of non-whitespace characters. Then no text has
   fewer tokens than the sum of its weights, nor than its number of runs. The script derives
   the longest piece holding each character and fails if a span in budget.py is shorter, or if
   a piece holds two runs.
2. The margin: real token counts against the bound on generated samples of each kind.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.engine import budget  # noqa: E402

DEFAULT = Path("/work/shared/data/internlm2-tokenizer/tokenizer.model")


def _processor(path: Path):  # noqa: ANN202 - sentencepiece has no stubs
    import sentencepiece as spm

    model = path / "tokenizer.model" if path.is_dir() else path
    return spm.SentencePieceProcessor(model_file=str(model))


def _spans(sp) -> dict[str, int]:  # noqa: ANN001
    spans: dict[str, int] = defaultdict(int)
    for idx in range(sp.get_piece_size()):
        if sp.is_control(idx) or sp.is_unknown(idx) or sp.is_byte(idx) or sp.is_unused(idx):
            continue
        piece = sp.id_to_piece(idx).replace("\u2581", " ")
        for char in set(piece):
            spans[char] = max(spans[char], len(piece))
    return spans


def _check(sp) -> list[str]:  # noqa: ANN001
    """The pieces that break budget.min_tokens_bound's two facts (none for InternLM2)."""
    pieces = [sp.id_to_piece(idx).replace("\u2581", " ") for idx in range(sp.get_piece_size())
              if not (sp.is_control(idx) or sp.is_unknown(idx) or sp.is_byte(idx) or sp.is_unused(idx))]
    return budget.bound_violations(pieces)


def _samples() -> dict[str, str]:
    """English and Chinese from files on this machine, the app's own code, random bytes."""
    rng = random.Random(11)
    english = "\n".join(p.read_text(errors="ignore") for p in sorted(ROOT.glob("docs/*.md")))
    ts = ROOT / "resources" / "translations" / "internlm2_desktop_zh_CN.ts"
    chinese = "".join(ch for ch in ts.read_text() if ord(ch) > 0x2E80 or ch == "\n")
    code = "\n".join(p.read_text() for p in sorted((ROOT / "app").rglob("*.py")))
    noise = bytes(rng.randrange(256) for _ in range(200_000)).decode("utf-8", errors="replace")
    spaces = " " * 100_000 + "-" * 100_000
    return {"English (docs/*.md)": english, "Chinese (zh_CN.ts)": chinese,
            "Python code (app/)": code, "random bytes (UTF-8 with U+FFFD)": noise,
            "runs of spaces and dashes": spaces}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT)
    args = parser.parse_args()
    sp = _processor(args.tokenizer)
    spans = _spans(sp)
    bad = _check(sp)
    longest = sorted(spans.items(), key=lambda kv: -kv[1])[:6]
    print(f"vocabulary: {sp.get_piece_size():,} pieces; longest spans: "
          + ", ".join(f"{c!r} {n}" for c, n in longest))
    print(f"letters and digits: up to {max(spans[c] for c in spans if c.isalnum() and ord(c) < 128)}; "
          f"non-ASCII: up to {max(n for c, n in spans.items() if ord(c) >= 128)}")
    print("proof:", "holds (every span in budget.py is at least the real one)" if not bad
          else "FAILS\n  " + "\n  ".join(bad))
    print()
    print("| text | characters | real tokens | chars/token | bound | real / bound | bound time |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, text in _samples().items():
        real = len(sp.encode(text))
        start = time.perf_counter()
        bound = budget.min_tokens_bound(text)
        seconds = time.perf_counter() - start
        assert bound <= real, (label, bound, real)
        print(f"| {label} | {len(text):,} | {real:,} | {len(text) / real:.2f} | {bound:,} | "
              f"{real / max(bound, 1):.1f}x | {seconds * 1000:.1f} ms |")
    big = "x" * 20_000_000
    start = time.perf_counter()
    budget.min_tokens_bound(big)
    print(f"\nbound for 20,000,000 characters: {time.perf_counter() - start:.2f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
