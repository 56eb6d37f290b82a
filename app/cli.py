"""The command line: builds the argparse parser from app.commands and runs one subcommand.

Errors a user can meet (app.errors.UserError) end the program with their sentence on one
stderr line and a non-zero status, never a traceback (`--debug` shows one).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from app import APP_ID, __version__
from app.commands import COMMAND_MODULES
from app.errors import UserError

COMMANDS: frozenset[str] = frozenset(COMMAND_MODULES)
_EXIT_ERROR = 1
_EXIT_INTERRUPTED = 130


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMAND_MODULES[name])


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command in app.commands."""
    parser = argparse.ArgumentParser(
        prog=APP_ID,
        description="Chat with the InternLM2-1.8B models offline. Without a command, the window opens.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show a full traceback when a command fails")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        _command_module(name).add_parser(subparsers)
    return parser


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the command in `argv` (default: sys.argv[1:]) and return the exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    module = _command_module(args.command)
    try:
        return int(module.run(args))
    except UserError as err:
        if args.debug:
            raise
        print(_one_line(err), file=sys.stderr)
        return _EXIT_ERROR
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return _EXIT_INTERRUPTED
    except Exception as err:  # a bug: still one line, with a way to see more
        if args.debug:
            raise
        print(f"Unexpected error ({type(err).__name__}: {_one_line(err)}); "
              f"run again with --debug for details.", file=sys.stderr)
        return _EXIT_ERROR
