"""Entry point: `python main.py` opens the window; `python main.py COMMAND ...` runs the command line."""

from __future__ import annotations

import sys


def main() -> int:
    from app.cli import COMMANDS
    from app.cli import main as cli_main

    args = sys.argv[1:]
    if args and (args[0] in COMMANDS or args[0] in ("-h", "--help", "--version", "--debug")):
        return cli_main(args)
    if "--selftest" in args:  # load a model, answer once offscreen, exit (CI runs it on the bundle)
        from app.ui.selftest import run_selftest

        return run_selftest(args)
    from app.ui.application import run_gui  # Qt is imported only for the window

    return run_gui(args)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # the GGUF quantizer runs in a spawned child, also when frozen
    sys.exit(main())
