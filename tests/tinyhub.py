"""The tiny test model served by the fake hub as a catalog repo, and a guard against real sockets."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from app.internlm2.catalog import CatalogModel, find_model
from tests.fakehub import FakeHub

CHAT_ID = "internlm2-chat-1_8b"


def catalog_chat_model() -> CatalogModel:
    model = find_model(CHAT_ID)
    assert model is not None
    return model


def tiny_hub(folder: Path, model: CatalogModel | None = None) -> FakeHub:
    """A FakeHub serving the files of `folder` as `model`'s repo (the real catalog entry by default).

    The tiny chat checkpoint (two shards) has exactly the files the catalog lists for
    InternLM2-Chat-1.8B, so the real catalog entry downloads it.
    """
    model = model or catalog_chat_model()
    files = {name: (folder / name).read_bytes() for name in model.files}
    extra = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in files)
    assert not extra, f"the tiny model has files the catalog does not list: {extra}"
    return FakeHub(repo_id=model.repo, files=files, revision=model.revision)


def block_foreign_sockets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse every TCP connection and name lookup that is not 127.0.0.1; return the attempts."""
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] != "127.0.0.1":
            attempts.append(f"connect {address[0]}:{address[1]}")
            raise OSError(f"test: connection to {address[0]} refused")
        real_connect(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", b"127.0.0.1"):
            attempts.append(f"lookup {host!r}")
            raise OSError(f"test: name lookup of {host!r} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts
