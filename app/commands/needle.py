"""`needle --model PATH --chars 200000 --depths 0,25,50,75,100`: needle in a haystack, built in.

Builds a filler document of each length, hides "The secret passphrase is <word>." at each
depth, asks for it (greedy, short answer) and prints found / not found per depth and length,
then writes a heat map (PNG, or SVG for a .svg name). The context is sized by the same budget
as `ask --document` (refused, never cut, when it does not fit this machine), and each
haystack is read through the same prefix reader as any document.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.commands.options import add_model_options
from app.sentences import say

_DEFAULT_DEPTHS = "0,25,50,75,100"


def _ints(text: str) -> list[int]:
    try:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from exc
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("lengths must be positive numbers of characters")
    return values


def _depths(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected percentages separated by commas, got {text!r}") from exc
    if not values or any(not 0 <= v <= 100 for v in values):
        raise argparse.ArgumentTypeError("depths are percentages from 0 to 100")
    return values


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "needle", help="needle in a haystack: can the model find a sentence anywhere in a long document?",
        description="Hide a sentence at several depths of a long filler document and ask the model for "
                    "it; prints found / not found per depth and length and writes a heat map.")
    add_model_options(parser, ctx_default_help="sized to the longest document")
    parser.add_argument("--chars", type=int, default=200_000, metavar="N", help="document length in characters")
    parser.add_argument("--lengths", type=_ints, default=None, metavar="N,N,...",
                        help="several document lengths (default: --chars alone)")
    parser.add_argument("--depths", type=_depths, default=_depths(_DEFAULT_DEPTHS), metavar="P,P,...",
                        help=f"needle depths in percent (default {_DEFAULT_DEPTHS})")
    parser.add_argument("--out", type=Path, default=Path("needle-heatmap.png"), metavar="FILE",
                        help="heat map picture: .png (default needle-heatmap.png) or .svg")
    parser.add_argument("--seed", type=int, default=0, help="picks the passphrases and the filler")
    parser.add_argument("--events", action="store_true",
                        help="also print one JSON object per line on standard output as the check "
                             "runs (reading progress and each result; the window's Needle dialog reads them)")
    return parser


def _event(enabled: bool, **fields: object) -> None:
    """One machine-readable line (--events): {"event": ..., ...}."""
    if enabled:
        print(json.dumps(fields, ensure_ascii=False), flush=True)


def run(args: argparse.Namespace) -> int:
    from app.commands.docsupport import counting_tokenizer, open_sized, plan_for, require_fit
    from app.commands.heatmap import write_heatmap
    from app.engine.loader import LoadSpec, choose_backend
    from app.engine.needle import (
        ANSWER_TOKENS,
        NEEDLE_QUESTION,
        build_haystack,
        needle_sentence,
        run_needle,
    )
    from app.engine.types import PrefillProgress
    from app.errors import UserError
    from app.internlm2.chat_format import DEFAULT_SYSTEM_PROMPT

    lengths = args.lengths or [args.chars]
    if min(lengths) < 100:
        raise UserError(say("A haystack needs at least 100 characters."), say("Use --chars 200000 or similar."))
    depths = args.depths
    spec = LoadSpec(args.model, backend=args.backend, device=args.device, n_threads=args.threads,
                    kv_type=args.kv_type)
    choose_backend(spec)
    tok = counting_tokenizer(spec)
    longest = build_haystack(max(lengths), 50, needle_sentence("velvet"))
    plan = plan_for(spec, system=DEFAULT_SYSTEM_PROMPT, document_name="haystack.txt", document=longest,
                    questions=[NEEDLE_QUESTION], answer_tokens=ANSWER_TOKENS, ctx=args.ctx, tok=tok)
    n_ctx = require_fit(plan)
    print(plan.sentence, file=sys.stderr)
    backend = open_sized(spec, n_ctx)
    print(f"model: {backend.model_name} ({backend.name}, {backend.device}), context {backend.n_ctx:,} tokens",
          file=sys.stderr)

    _event(args.events, event="start", cells=len(lengths) * len(depths), lengths=lengths, depths=depths,
           n_ctx=backend.n_ctx)

    def show(chars: int, depth: float, event: object) -> None:
        if isinstance(event, PrefillProgress):
            _event(args.events, event="progress", chars=chars, depth=depth, done=event.done,
                   total=event.total, seconds_left=event.seconds_left)
            if event.done == event.total:
                print(f"  {chars:,} characters, depth {depth:g}%: read {event.total:,} tokens", file=sys.stderr)

    found: dict[tuple[int, float], bool] = {}
    try:
        for cell in run_needle(backend, lengths, depths, seed=args.seed, on_event=show):
            found[(cell.chars, cell.depth)] = cell.found
            _event(args.events, event="cell", chars=cell.chars, depth=cell.depth, found=cell.found,
                   word=cell.word, answer=cell.answer, document_tokens=cell.document_tokens,
                   prompt_tokens=cell.prompt_tokens)
            print(f"  -> {'found' if cell.found else 'NOT found'} ({cell.word!r}; answer {cell.answer[:60]!r}, "
                  f"{cell.document_tokens:,} document tokens, prompt {cell.prompt_tokens:,})", file=sys.stderr)
    finally:
        backend.unload()
    _print_table(found, depths, lengths)
    grid = [[found[(n, d)] for n in lengths] for d in depths]
    out = write_heatmap(args.out, grid, depths, lengths)
    hits = sum(found.values())
    print(f"{hits} of {len(found)} found; heat map written to {out}", file=sys.stderr)
    return 0


def _print_table(found: dict[tuple[int, float], bool], depths: list[float], lengths: list[int]) -> None:
    head = "depth".ljust(8) + "".join(f"{n:>12,}" for n in lengths)
    print(head)
    for d in depths:
        print(f"{d:g}%".ljust(8) + "".join(f"{'found' if found[(n, d)] else 'missed':>12}" for n in lengths))
