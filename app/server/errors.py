"""The server's typed errors: each is one sentence for the client, with its HTTP status."""

from __future__ import annotations

from app.errors import UserError


class BadRequest(UserError):
    """The request cannot be served as sent (400): the sentence says what to change."""

    status = 400


class QueueFull(UserError):
    """Too many requests are waiting for the model (429); retry after `retry_after` seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerStartError(UserError):
    """The server could not start (port taken, address refused): one line, non-zero exit."""
