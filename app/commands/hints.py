"""What to do, said for the command line: the fixes there are options and environment variables.

The core's errors carry hints written for the window ("set a mirror in Settings"). On the
command line there is no Settings dialog, so `cli_sentence` swaps such a hint for the option or
variable that does the same (`--endpoint`, `HF_ENDPOINT`, `--backend`, `--device`). The core's
wording stays where it is; only the hint shown here changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from app import APP_ID
from app.errors import UserError

_MIRROR = "--endpoint URL or HF_ENDPOINT=URL (for example https://hf-mirror.com)"

# Hints of the engine that name the Settings dialog, and what replaces them here.
_ENGINE_HINTS = {
    "Choose the CPU or the llama.cpp backend in Settings.":
        "Use --device cpu, or --backend llamacpp with a GGUF file.",
    "Reinstall the app, or choose the PyTorch backend in Settings.":
        "Reinstall the app (./scripts/setup_env.sh app), or use --backend torch with a checkpoint folder.",
}


def program() -> str:
    """How this program was started, for the commands a hint suggests."""
    return "python main.py" if Path(sys.argv[0]).name == "main.py" else APP_ID


def command(args: str) -> str:
    """A command line to suggest, e.g. command('models') -> 'python main.py models'."""
    return f"{program()} {args}"


def _hub_hint(err: UserError) -> str | None:
    from app.hub import errors as hub

    if isinstance(err, hub.HubUnreachableError):
        if err.hint.startswith("Check the proxy"):
            return "Check --proxy (or HTTPS_PROXY) and that the proxy is running."
        return f"Check your internet connection, or use a mirror: {_MIRROR}."
    if isinstance(err, hub.RemoteFileNotFoundError):
        return f"The model catalog may be out of date, or the mirror ({_MIRROR}) may not carry this model."
    if isinstance(err, hub.HubAccessError):
        return f"Log in with `hf auth login` if the model needs an account, or check the mirror ({_MIRROR})."
    if isinstance(err, hub.ChecksumMismatchError):
        return (f"Download it again; if it fails again, check the disk and the mirror ({_MIRROR}), "
                "and delete the kept file when you no longer need it.")
    if isinstance(err, hub.BadEndpointError):
        return "Give a full address such as https://huggingface.co or your mirror's https:// address to --endpoint or HF_ENDPOINT."
    if isinstance(err, hub.OfflineModeError):
        return "Unset HF_HUB_OFFLINE to download it, or copy the model into the huggingface-hub cache (--cache-dir)."
    return None


def _storage_hint(err: UserError) -> str | None:
    """The commands open the conversation database read-only and never rename it, so the
    window's "start a fresh database" (which keeps the damaged file, renamed) is said as where
    that button is."""
    from app.storage import errors as storage

    if isinstance(err, storage.DatabaseCorruptError):
        return ("The file has not been changed. Open InternLM2 Desktop to start a fresh database (it keeps "
                "the damaged file beside it, renamed with the date), or give another file with --db PATH.")
    if isinstance(err, storage.ForeignDatabaseError):
        return "Give the conversation database's path with --db PATH; this file has not been changed."
    return None


def cli_hint(err: UserError) -> str:
    """The hint of err as the command line says it."""
    hint = _hub_hint(err)
    if hint is None:
        hint = _storage_hint(err)
    if hint is not None:
        return hint
    if "Settings" in err.hint:
        return _ENGINE_HINTS.get(err.hint, f"{err.hint} (On the command line: see {command('--help')}.)")
    return err.hint


def cli_sentence(err: UserError) -> str:
    """What happened and what to do, on one line."""
    text = f"{err.message} {cli_hint(err)}".strip() if err.message else str(err)
    return " ".join(text.split())
