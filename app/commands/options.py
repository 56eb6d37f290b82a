"""Command-line options every command that runs a model shares (`ask`, `needle`), and what
`--model` may name: a file, a folder, or (for `ask`) a catalog id such as internlm2-chat-1_8b."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.errors import UserError
from app.sentences import say


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
        raise ModelNotFound(say("There is no model file or folder named {name!r}, and no catalog model of that "
                                "name.", name=text),
                            say("Give a .gguf file, a checkpoint folder, or a catalog id ({ids}); `{command}` "
                                "lists what is on this computer.", ids=ids, command=command("models"))) from err
    view = manager.overview(model)
    fetch = command(f"download {model.id} --convert {model.default_quant}")
    if backend == "torch":
        if view.snapshot is None:
            raise ModelNotFound(say("{model} is not downloaded yet ({phase}); the PyTorch backend needs its "
                                    "checkpoint folder.", model=model.name, phase=view.phase.value),
                                say("Download it with: {command}", command=command(f"download {model.id}")))
        return view.snapshot
    if backend == "llamacpp" and not view.ggufs:
        state = say("downloaded but not converted") if view.snapshot is not None else view.phase.value
        raise ModelNotFound(say("{model} has no GGUF file yet ({state}); the llama.cpp backend needs one.",
                                model=model.name, state=state), say("Convert it with: {command}", command=fetch))
    path = view.best_path()
    if path is None:
        hint = (say("Resume the download with: {command}", command=fetch) if view.phase is Phase.PARTIAL
                else say("Download and convert it with: {command}", command=fetch))
        raise ModelNotFound(say("{model} is not on this computer yet ({phase}).", model=model.name,
                                phase=view.phase.value), hint)
    return path
