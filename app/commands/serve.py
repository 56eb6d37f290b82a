"""`serve --model PATH`: the model for other programs, through an OpenAI-compatible API on localhost.

Safe by default: 127.0.0.1 only, an API key generated at each start (or --api-key / the
INTERNLM2_DESKTOP_API_KEY variable) and required, browsers' requests refused. Another address
needs --allow-network and prints a warning. A taken port or a model that cannot load ends the
program with one line and exit status 1.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import Any

from app.commands.options import add_model_options
from app.errors import UserError
from app.sentences import say

KEY_VARIABLE = "INTERNLM2_DESKTOP_API_KEY"
_MIB = 1024 * 1024


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve", help="serve the model to other programs (OpenAI-compatible API on localhost)",
        description="Serve the model through an OpenAI-compatible HTTP API (/v1/models, "
                    "/v1/chat/completions, /v1/completions) on this computer. PATH is a GGUF file or "
                    "an InternLM2 checkpoint folder.")
    add_model_options(parser, ctx_default_help="4096 for a GGUF, the trained length for a checkpoint")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this computer only)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--api-key", metavar="KEY",
                      help=f"the key clients must send (default: ${KEY_VARIABLE}, else a new one each start)")
    keys.add_argument("--no-api-key", action="store_true",
                      help="require no key (loopback addresses only)")
    parser.add_argument("--allow-network", action="store_true",
                        help="allow --host to be an address other computers can reach")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a web page origin allowed to call the API (e.g. http://localhost:3000); "
                             "repeat for more; '*' allows every page")
    parser.add_argument("--model-name", metavar="NAME", help="the model id clients see (default: the file name)")
    parser.add_argument("--max-body", type=int, default=8, metavar="MIB",
                        help="largest request body in MiB (default 8)")
    parser.add_argument("--queue", type=int, default=4, metavar="N",
                        help="requests that may wait while one generates (default 4; more get HTTP 429)")
    return parser


def _api_key(args: argparse.Namespace) -> str | None:
    if args.no_api_key:
        return None
    key = args.api_key or os.environ.get(KEY_VARIABLE) or f"sk-local-{secrets.token_urlsafe(24)}"
    if len(key) < 8 or any(c.isspace() for c in key):
        raise UserError(say("The API key must have at least 8 characters and no spaces."),
                        say("Give another with --api-key or the {variable} variable.", variable=KEY_VARIABLE))
    return str(key)


def run(args: argparse.Namespace) -> int:
    from app.engine.loader import LoadSpec, choose_backend, open_backend
    from app.server.engine_adapter import EngineAdapter
    from app.server.runner import LocalServer, ServerOptions, bind, is_loopback

    loopback = is_loopback(args.host)
    if not loopback and not args.allow_network:
        raise UserError(say("Listening on {host} lets other computers use the model.", host=args.host),
                        say("Add --allow-network if that is what you want, or use --host 127.0.0.1."))
    if not loopback and args.no_api_key:
        raise UserError(say("--no-api-key is allowed only on a loopback address (127.0.0.1, ::1, localhost)."),
                        say("Drop --no-api-key, or use --host 127.0.0.1."))
    if not 0 <= args.port <= 65535:
        raise UserError(say("--port {port} is not a port number (0 to 65535).", port=args.port),
                        say("Give a port such as --port 8080."))
    if args.max_body < 1 or args.queue < 0:
        raise UserError(say("--max-body must be at least 1 MiB and --queue at least 0."),
                        say("Give --max-body 1 or more and --queue 0 or more."))
    key = _api_key(args)
    spec = LoadSpec(args.model, backend=args.backend, n_ctx=args.ctx, device=args.device,
                    n_threads=args.threads, kv_type=args.kv_type)
    choose_backend(spec)  # a missing model is one line before anything else
    sock = bind(args.host, args.port)  # a taken port is one line before the model loads
    try:
        backend = open_backend(spec)
    except BaseException:
        sock.close()
        raise
    try:
        adapter = EngineAdapter(backend, args.model_name)
        options = ServerOptions(host=args.host, port=args.port, api_key=key,
                                allowed_origins=frozenset(o.rstrip("/") for o in args.allow_origin),
                                max_body_bytes=args.max_body * _MIB, max_waiting=args.queue)
        server = LocalServer(adapter, options, sock)
        if not loopback:
            print(f"Warning: listening on {args.host}: every computer that can reach this one can use "
                  f"the model (with the key).", file=sys.stderr)
        print(f"Serving {adapter.model_id} ({backend.name}, {backend.device}, context {backend.n_ctx:,} tokens) "
              f"at {server.url}", flush=True)
        if key is None:
            print("API key: none (--no-api-key)", flush=True)
        else:
            print(f"API key: {key}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        server.serve_forever()
    finally:
        backend.unload()
    return 0
