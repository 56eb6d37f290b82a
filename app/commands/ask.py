"""`ask --model MODEL QUESTION...`: ask questions headlessly, as one conversation (cache reused)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.commands.options import add_model_options, resolve_model


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ask", help="ask the model one or more questions (one conversation)",
        description="Ask questions in order as one conversation: a follow-up reuses the model's "
                    "cache. MODEL is a GGUF file, an InternLM2 checkpoint folder, or a catalog id "
                    "(`models` lists them).")
    add_model_options(parser, ctx_default_help="sized to the questions", catalog_ids=True)
    parser.add_argument("--document", type=Path, metavar="FILE",
                        help="a document read whole before the first question (refused, never cut, if it does not fit)")
    parser.add_argument("--system", metavar="TEXT", help="system prompt (default: the official one; '' for none)")
    parser.add_argument("--max-tokens", type=int, default=1024, metavar="N",
                        help="longest answer in tokens (default: 1024)")
    parser.add_argument("--temperature", type=float, default=0.8, metavar="T",
                        help="sampling temperature; 0 is greedy, the same answer every run (default: 0.8)")
    parser.add_argument("--top-p", type=float, default=0.8, metavar="P",
                        help="nucleus sampling: keep the most likely tokens up to this probability (default: 0.8)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="random seed, for the same answer again at a temperature above 0 (default: random)")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not use or write the saved document states (read the document again)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per answer, one a line (answer, tokens, timings, backend, device)")
    parser.add_argument("questions", nargs="+", metavar="QUESTION",
                        help="the questions, asked in order as one conversation")
    return parser


def run(args: argparse.Namespace) -> int:
    from app.commands.docsupport import (
        counting_tokenizer,
        default_cache,
        open_sized,
        plan_for,
        read_document_ahead,
        require_fit,
    )
    from app.engine.conversation import Conversation
    from app.engine.loader import LoadSpec, choose_backend
    from app.engine.read_ahead import PrefixReader
    from app.engine.types import Finished, TextPiece
    from app.internlm2.chat_format import DEFAULT_SYSTEM_PROMPT

    model = resolve_model(args.model, args.backend)  # a catalog id becomes its GGUF or folder
    document = None
    if args.document is not None:
        from app.documents import read_document

        document = read_document(args.document)  # a DocumentError is one line and exit 1
        for warning in document.warnings:
            print(f"{document.name}: {warning}", file=sys.stderr)
    spec = LoadSpec(model, backend=args.backend, device=args.device, n_threads=args.threads,
                    kv_type=args.kv_type)
    choose_backend(spec)
    system = DEFAULT_SYSTEM_PROMPT if args.system is None else args.system
    tok = counting_tokenizer(spec)
    plan = plan_for(spec, system=system, document_name=document.name if document else None,
                    document=document.text if document else None, questions=args.questions,
                    answer_tokens=args.max_tokens, ctx=args.ctx, tok=tok)
    n_ctx = require_fit(plan)  # never cut silently: a prompt that does not fit stops here
    if document is not None:
        print(plan.sentence, file=sys.stderr)
    backend = open_sized(spec, n_ctx)
    try:
        convo = Conversation(backend, system=args.system, document=document.text if document else None,
                             document_name=document.name if document else None)
        if document is not None:
            reader = PrefixReader(backend, convo, default_cache(not args.no_cache), document.sha256)
            read_document_ahead(reader, quiet=args.json)
            print(f"[document: {convo.document_tokens():,} tokens, {reader.source.value} in "
                  f"{reader.seconds:.2f} s{', state saved' if reader.saved else ''}]", file=sys.stderr)
        for question in args.questions:
            request = convo.ask(question, _sampling(args))
            done: Finished | None = None
            for event in backend.generate(request):
                if isinstance(event, TextPiece) and not args.json:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
                elif isinstance(event, Finished):
                    done = event
            assert done is not None
            convo.answered(done.text, done.token_ids)
            stats = done.stats
            if args.json:
                print(json.dumps({
                    "answer": done.text, "prompt_tokens": stats.prompt_tokens,
                    "cached_tokens": stats.cached_tokens, "new_tokens": stats.new_tokens,
                    "ttft_s": round(stats.ttft_s, 4), "tok_s": round(stats.tok_s, 2),
                    "stop_reason": stats.stop_reason.value, "backend": stats.backend,
                    "device": stats.device, "document_tokens": convo.document_tokens(),
                    "n_ctx": backend.n_ctx}, ensure_ascii=False), flush=True)
            else:
                print(f"\n[{stats.new_tokens} tokens, {stats.tok_s:.1f} tok/s, first token "
                      f"{stats.ttft_s:.2f} s, {stats.cached_tokens} cached, {stats.stop_reason.value}]",
                      file=sys.stderr)
    finally:
        backend.unload()
    return 0


def _sampling(args: argparse.Namespace) -> Any:
    from app.internlm2.chat_format import Sampling

    return Sampling(temperature=args.temperature, top_p=args.top_p, max_new_tokens=args.max_tokens,
                    seed=args.seed)
