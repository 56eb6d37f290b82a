"""`ask --model PATH QUESTION...`: ask questions headlessly, as one conversation (cache reused)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ask", help="ask the model one or more questions (one conversation)",
        description="Ask questions in order as one conversation: a follow-up reuses the model's "
                    "cache. PATH is a GGUF file or an InternLM2 checkpoint folder.")
    parser.add_argument("--model", required=True, type=Path, metavar="PATH")
    parser.add_argument("--backend", choices=("auto", "torch", "llamacpp"), default="auto")
    parser.add_argument("--device", default="auto", help="torch backend: auto, cuda, mps or cpu")
    parser.add_argument("--document", type=Path, metavar="FILE",
                        help="a document read whole into the first question")
    parser.add_argument("--system", metavar="TEXT", help="system prompt (default: the official one)")
    parser.add_argument("--max-tokens", type=int, default=1024, metavar="N")
    parser.add_argument("--temperature", type=float, default=0.8, metavar="T")
    parser.add_argument("--top-p", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=None, metavar="S")
    parser.add_argument("--ctx", type=int, default=None, metavar="N",
                        help="context length in tokens (default: sized to the questions)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--kv-type", choices=("f16", "q8_0", "f32"), default="f16")
    parser.add_argument("--json", action="store_true", help="one JSON object per answer, one a line")
    parser.add_argument("questions", nargs="+", metavar="QUESTION")
    return parser


def run(args: argparse.Namespace) -> int:
    from app.engine.conversation import Conversation
    from app.engine.loader import LoadSpec, choose_backend, open_backend
    from app.engine.types import Finished, TextPiece

    document = None
    if args.document is not None:
        from app.documents import read_document

        document = read_document(args.document)
    spec = LoadSpec(args.model, backend=args.backend, device=args.device, n_threads=args.threads,
                    kv_type=args.kv_type)
    n_ctx = args.ctx
    if n_ctx is None and choose_backend(spec) == "llamacpp":
        n_ctx = _size_context(args, document.text if document else "")
    backend = open_backend(LoadSpec(**{**spec.__dict__, "n_ctx": n_ctx}))
    try:
        convo = Conversation(backend, system=args.system, document=document.text if document else None,
                             document_name=document.name if document else None)
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
                    "device": stats.device}, ensure_ascii=False), flush=True)
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


def _size_context(args: argparse.Namespace, document: str) -> int:
    """A llama.cpp context just big enough: the first prompt plus every question and answer."""
    from app.engine.budget import round_context
    from app.engine.gguf_tokenizer import vocab_only_tokenizer

    tok = vocab_only_tokenizer(args.model)
    fixed = len(tok.encode((args.system or "") + document)) + 200
    per_turn = sum(len(tok.encode(q)) + 16 for q in args.questions) + args.max_tokens * len(args.questions)
    return round_context(fixed + per_turn)
