"""The command line: builds the argparse parser from app.commands and runs one subcommand.

Errors a user can meet (app.errors.UserError) end the program with their sentence on one
stderr line and a non-zero status, never a traceback (`--debug` shows one); the hint in that
sentence names the command-line fix (app/commands/hints.py). An unknown command is a usage error
(exit status 2). `--selftest` is listed here but run by main.py (it needs the window's code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from app import __version__
from app.commands import COMMAND_MODULES
from app.errors import UserError

COMMANDS: frozenset[str] = frozenset(COMMAND_MODULES)
_EXIT_ERROR = 1
_EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMAND_MODULES[name])


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command in app.commands."""
    from app.commands.hints import program

    parser = argparse.ArgumentParser(
        prog=program(),
        description="Chat with the InternLM2-1.8B models offline. Without a command, the window opens.",
        epilog="Start with `models` (what is on this computer and the next command to run); "
               "`COMMAND --help` explains each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show a full traceback when a command fails")
    parser.add_argument("--selftest", action="store_true",
                        help="check an install without opening the window: with --model PATH, load "
                             "the model, answer one question offscreen, print the speed and exit 0 "
                             "when all is well (`--selftest --help` for its options)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        _command_module(name).add_parser(subparsers)
    return parser


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the command in `argv` (default: sys.argv[1:]) and return the exit status.

    A usage error (an unknown command, a missing argument) prints the usage and exits with
    status 2 (argparse's SystemExit).
    """
    argv = sys.argv[1:] if argv is None else argv
    if "--selftest" in argv and not any(a in COMMANDS for a in argv):
        from app.commands.hints import command

        print(f"--selftest runs with the window's code: start it as `{command('--selftest --model PATH')}` "
              "with the app's main.py or the double-click bundle's executable.", file=sys.stderr)
        return _EXIT_USAGE
    args = build_parser().parse_args(argv)
    module = _command_module(args.command)
    try:
        return int(module.run(args))
    except UserError as err:
        if args.debug:
            raise
        from app.commands.hints import cli_sentence

        print(cli_sentence(err), file=sys.stderr)
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
