"""ModelScope and OpenXLab answers decide nothing about local paths either (the same rules as the HF fake).

Generated hostile values go into the JSON listings (hash, commit, size, path, LFS pointer); the
real `download --source` command must fail with one line and leave the whole home tree outside
the cache byte for byte unchanged, with nothing written in the cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from tests.fakesources import FakeApiHub, FakeModelScope, FakeOpenXLab
from tests.hub_helpers import Home, catalog_files, hostile_hashes, make_home
from tests.tinyhub import CHAT_ID, block_foreign_sockets, catalog_chat_model

LFS_FILE = "model-00001-of-00002.safetensors"
GIT_FILE = "config.json"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    block_foreign_sockets(monkeypatch)
    return make_home(tmp_path, monkeypatch)


@pytest.fixture(params=["modelscope", "openxlab"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeApiHub]:
    model = catalog_chat_model()
    ref = model.on(request.param)
    assert ref is not None
    cls = FakeModelScope if request.param == "modelscope" else FakeOpenXLab
    with cls(ref.repo, catalog_files(model), ref.revision) as server:
        yield server


def run(fake: FakeApiHub, home: Home, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    rc = main(["download", CHAT_ID, "--quiet", "--source", fake.kind, "--endpoint", fake.endpoint,
               "--cache-dir", str(home.cache)])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err and "Unexpected error" not in err, err
    return err


def _hash_field(fake: FakeApiHub) -> str:
    return "Sha256" if fake.kind == "modelscope" else "sha"


@pytest.mark.parametrize("target", [LFS_FILE, GIT_FILE])
def test_hostile_hashes_in_the_listing_are_refused(
    fake: FakeApiHub, home: Home, capsys: pytest.CaptureFixture[str], target: str,
) -> None:
    before = home.before()
    for value in hostile_hashes(home.root):
        fake.listing_override = {target: {_hash_field(fake): value}}
        err = run(fake, home, capsys)
        assert "stopped before anything was written" in err, (value, err)
        assert home.before() == before, value
        assert home.cache_files() == [], value
    assert not [r for r in fake.requests if r.server.startswith("bytes:")]


def test_hostile_commits_in_the_listing_are_refused(
    fake: FakeApiHub, home: Home, capsys: pytest.CaptureFixture[str],
) -> None:
    before = home.before()
    for value in [*hostile_hashes(home.root), None, 12345, ["a"], {"id": "x"}]:
        fake.listed_commit = value if value is not None else ""
        err = run(fake, home, capsys)
        assert "stopped before anything was written" in err, (value, err)
        assert home.before() == before and home.cache_files() == [], value


@pytest.mark.parametrize("size", [-1, 1 << 50, "12", None, 1.5, True])
def test_hostile_sizes_in_the_listing_are_refused(
    fake: FakeApiHub, home: Home, capsys: pytest.CaptureFixture[str], size: Any,
) -> None:
    before = home.before()
    fake.listing_override = {LFS_FILE: {"Size" if fake.kind == "modelscope" else "size": size}}
    err = run(fake, home, capsys)
    assert home.before() == before and home.cache_files() == [], err


def test_hostile_paths_in_the_listing_are_never_used(
    fake: FakeApiHub, home: Home, capsys: pytest.CaptureFixture[str],
) -> None:
    """A listing that names the catalog's file by a path that escapes: the file counts as missing."""
    before = home.before()
    key = "Path" if fake.kind == "modelscope" else "path"
    for path in ["/" + GIT_FILE, "../" + GIT_FILE, "a/../" + GIT_FILE, "..\\" + GIT_FILE,
                 "C:" + GIT_FILE, str(home.root / "victim.txt")]:
        fake.listing_override = {GIT_FILE: {key: path}}
        err = run(fake, home, capsys)
        assert "has no file 'config.json'" in err, err
        assert home.before() == before and home.cache_files() == [], path


@pytest.mark.parametrize("pointer", [
    b"version https://git-lfs.github.com/spec/v1\noid sha256:../../victim\nsize 10\n",
    b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"A" * 64 + b"\nsize 10\n",
    b"version https://git-lfs.github.com/spec/v1\noid sha1:" + b"a" * 40 + b"\nsize 10\n",
    b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"a" * 64 + b"\nsize -5\n",
    b"version https://git-lfs.github.com/spec/v1\n",
])
def test_hostile_lfs_pointers_are_refused(
    home: Home, capsys: pytest.CaptureFixture[str], pointer: bytes,
) -> None:
    model = catalog_chat_model()
    ref = model.on("openxlab")
    assert ref is not None
    before = home.before()
    with FakeOpenXLab(ref.repo, catalog_files(model), ref.revision) as fake:
        fake.pointer_override = {LFS_FILE: pointer}
        err = run(fake, home, capsys)
    assert "stopped before anything was written" in err, err
    assert home.before() == before and home.cache_files() == []
