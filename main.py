"""Entry point: `python main.py` opens the window; `python main.py COMMAND ...` runs the command line."""

from __future__ import annotations

import sys


def main() -> int:
    from app.cli import COMMANDS
    from app.cli import main as cli_main

    args = sys.argv[1:]
    if "--selftest" in args and args[0] not in COMMANDS:
        # load a model, answer once offscreen, exit (CI runs it on the bundle)
        from app.ui.startup.selftest import run_selftest

        return run_selftest(args)
    # A word first is a command (an unknown one gets the usage and exit status 2, never the
    # window); so are the command line's own options. Qt's options start with "-".
    if args and (not args[0].startswith("-") or args[0] in ("-h", "--help", "--version", "--debug")):
        return cli_main(args)
    from app.qt_libraries import missing_qt_libraries_sentence

    missing = missing_qt_libraries_sentence()
    if missing:  # Qt would abort with a message about its platform plugin
        print(missing, file=sys.stderr)
        return 1
    from app.ui.startup.application import run_gui  # Qt is imported only for the window

    return run_gui(args)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # the GGUF quantizer runs in a spawned child, also when frozen
    sys.exit(main())
