"""Command-line options every command that runs a model shares (`ask`, `needle`), and what
`--model` may name: a file, a folder, or (for `ask`) a catalog id such as internlm2-chat-1_8b."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.errors import UserError


class ModelNotFound(UserError):
    """`--model` names no file or folder, or a catalog model that is not on this computer."""


def add_model_options(parser: argparse.ArgumentParser, *, ctx_default_help: str,
                      catalog_ids: bool = False) -> None:
    """--model, --backend, --device, --threads, --kv-type and --ctx, with the same meaning everywhere."""
    what = ("a GGUF file, an InternLM2 checkpoint folder, or a catalog id such as "
            "internlm2-chat-1_8b (its converted GGUF, else its downloaded folder; see `models`)"
            if catalog_ids else "a GGUF file or an InternLM2 checkpoint folder")
    parser.add_argument("--model", required=True, type=Path, metavar="MODEL" if catalog_ids else "PATH",
                        help=what)
    parser.add_argument("--backend", choices=("auto", "torch", "llamacpp"), default="auto",
                        help="auto (the default): llama.cpp for a GGUF file, PyTorch for a checkpoint folder")
    parser.add_argument("--device", default="auto",
                        help="PyTorch backend only: auto (the default: CUDA, then Apple MPS, then CPU), cuda, mps or cpu")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads (default: one per physical core)")
    parser.add_argument("--kv-type", choices=("f16", "q8_0", "f32"), default="f16",
                        help="KV cache type: f16 (the default), q8_0 (half the memory, llama.cpp), f32")
    parser.add_argument("--ctx", type=int, default=None, metavar="N",
                        help=f"context length in tokens (default: {ctx_default_help})")


def _looks_like_a_path(text: str) -> bool:
    """A folder or a model file, not a catalog id or name (which may hold a dot: "1.8B")."""
    return ("/" in text or "\\" in text or text.startswith(("~", "."))
            or text.lower().endswith((".gguf", ".safetensors", ".bin")))


def resolve_model(value: Path, backend: str = "auto", cache_dir: Path | None = None) -> Path:
    """The file or folder to load for `--model value`.

    An existing path (or anything that looks like one) is used as it is: the loader says what is
    wrong with it. A bare word is looked up in the catalog: the converted GGUF of the model's
    default type (else any GGUF, else the downloaded checkpoint folder; the folder first for
    --backend torch). A catalog model that is not here says the command that fetches it.
    """
    text = str(value)
    if value.exists() or _looks_like_a_path(text):
        return value
    from app.commands.hints import command
    from app.hub.manager import HubSettings, ModelManager, ModelManagerError, Phase

    manager = ModelManager(HubSettings(cache_dir=cache_dir))
    try:
        model = manager.find(text)
    except ModelManagerError as err:
        ids = ", ".join(m.id for m in manager.catalog)
        raise ModelNotFound(f"There is no model file or folder named {text!r}, and no catalog model "
                            f"of that name.",
                            f"Give a .gguf file, a checkpoint folder, or a catalog id ({ids}); "
                            f"`{command('models')}` lists what is on this computer.") from err
    view = manager.overview(model)
    fetch = command(f"download {model.id} --convert {model.default_quant}")
    if backend == "torch":
        if view.snapshot is None:
            raise ModelNotFound(f"{model.name} is not downloaded yet ({view.phase.value}); the "
                                f"PyTorch backend needs its checkpoint folder.",
                                f"Download it with: {command(f'download {model.id}')}")
        return view.snapshot
    if backend == "llamacpp" and not view.ggufs:
        state = "downloaded but not converted" if view.snapshot is not None else view.phase.value
        raise ModelNotFound(f"{model.name} has no GGUF file yet ({state}); the llama.cpp backend "
                            f"needs one.", f"Convert it with: {fetch}")
    path = view.best_path()
    if path is None:
        verb = "Resume the download" if view.phase is Phase.PARTIAL else "Download and convert it"
        raise ModelNotFound(f"{model.name} is not on this computer yet ({view.phase.value}).",
                            f"{verb} with: {fetch}")
    return path
