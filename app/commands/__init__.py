"""The command-line subcommands: each module has `add_parser(subparsers)` and `run(args) -> int`.

To add a command, write app/commands/<name>.py with those two functions (heavy imports inside
`run`, so that building the parser stays fast) and list it in COMMAND_MODULES.
"""

from __future__ import annotations

COMMAND_MODULES: dict[str, str] = {
    "convert": "app.commands.convert",
    "ask": "app.commands.ask",
    "needle": "app.commands.needle",
    "download": "app.commands.download",
    "models": "app.commands.models",
    "serve": "app.commands.serve",
    "conversations": "app.commands.conversations",
    "export": "app.commands.export",
}
