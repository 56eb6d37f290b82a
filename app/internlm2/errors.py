"""Typed errors of the model layer: a bad checkpoint, a bad tokenizer, a failed export."""

from __future__ import annotations

from app.errors import UserError


class CheckpointError(UserError):
    """The checkpoint folder is not a usable InternLM2 checkpoint; the message names the problem."""


class TokenizerError(UserError):
    """tokenizer.model or tokenizer_config.json is missing or does not fit the model."""


class ExportError(UserError):
    """Converting or quantizing to GGUF failed (bad type, no space, cancelled, llama.cpp error)."""


class ExportCancelled(ExportError):
    """The user cancelled a conversion; nothing was left under the final file name."""
