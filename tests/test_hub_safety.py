"""app.hub.safety on generated names: what may become a path component, and the inside-the-cache check."""

from __future__ import annotations

import os
import random
import string
from pathlib import Path

import pytest

from app.hub.cache import RepoCache, keep_aside, link_into_snapshot
from app.hub.safety import (
    UnsafeAnswerError,
    check_download_url,
    check_filename,
    check_repo_id,
    check_size,
    inside,
    is_safe_filename,
)
from app.hub.verify import Expected
from app.internlm2.catalog import load_catalog

SHA1 = "a" * 40
SHA256 = "b" * 64


def bad_filenames() -> list[str]:
    """Names a catalog or repo listing must not hand the app, each class several times over."""
    names = [
        "", "/", "/etc/passwd", "//server/share/x", "/abs/config.json",
        "..", ".", "../x", "a/../../x", "a/..", "./config.json", "a/./b", "a//b", "a/",
        "..\\x", "a\\b", "\\\\server\\share", "C:\\x", "C:/x", "c:x", "config.json:stream",
        "a\0b", "a\nb", "a\tb", "a\x7fb", " config.json", "config.json ", "config.json.",
        "x" * 256, "a/" * 600 + "b",
    ]
    rng = random.Random(11)
    for _ in range(20):  # random names that each carry one forbidden piece somewhere
        left = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(0, 8)))
        right = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(0, 8)))
        piece = rng.choice(["/../", "\\", ":", "\0", "//", "/./", "\r"])
        names.append(f"{left}{piece}{right}")
    names += ["/" + n for n in ("model.safetensors", "a/b.json")]
    return names


def good_filenames() -> list[str]:
    rng = random.Random(12)
    names = ["config.json", "model-00001-of-00002.safetensors", "sub/dir/file.bin", ".gitattributes",
             "tokenizer.model", "a..b", "...x", "\u6a21\u578b.json"]
    for _ in range(20):
        depth = rng.randint(1, 4)
        names.append("/".join(
            "".join(rng.choice(string.ascii_letters + string.digits + "-_.")
                    for _ in range(rng.randint(1, 12))).strip(".") or "x"
            for _ in range(depth)))
    return names


@pytest.mark.parametrize("name", bad_filenames())
def test_unsafe_file_names_are_refused(name: str) -> None:
    assert not is_safe_filename(name)
    with pytest.raises(UnsafeAnswerError) as caught:
        check_filename(name, source="the catalog")
    assert "stopped before anything was written" in str(caught.value)


@pytest.mark.parametrize("name", good_filenames())
def test_plain_relative_names_are_accepted(name: str) -> None:
    assert check_filename(name, source="the catalog") == name


def test_every_catalog_file_name_and_repo_id_is_safe() -> None:
    for model in load_catalog():
        check_repo_id(model.repo, source="the catalog")
        for name in model.files:
            check_filename(name, source="the catalog")


@pytest.mark.parametrize("repo", ["internlm", "a/b/c", "../b", "a/..", "a/b\\c", "/a/b", "a/ b", ""])
def test_unsafe_repo_ids_are_refused(repo: str) -> None:
    with pytest.raises(UnsafeAnswerError):
        check_repo_id(repo, source="the catalog")
    with pytest.raises(UnsafeAnswerError):
        _ = RepoCache(Path("/nonexistent"), repo).root


@pytest.mark.parametrize("size", [-1, 1 << 41, None, True, 1.5])
def test_unsafe_sizes_are_refused(size: object) -> None:
    with pytest.raises(UnsafeAnswerError):
        check_size(size, source="http://mirror", filename="x")  # type: ignore[arg-type]


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://h/x", "data:,x", "http://", "", None])
def test_download_addresses_must_be_http(location: str | None) -> None:
    with pytest.raises(UnsafeAnswerError):
        check_download_url(location, "http://mirror/x", source="http://mirror", filename="x")


def test_a_relative_download_address_is_taken_against_the_answer() -> None:
    assert check_download_url("/cdn/x", "http://mirror/a/b", source="s", filename="f") == "http://mirror/cdn/x"


@pytest.mark.parametrize("etag", ["", "../x", "/tmp/x", "z" * 40, SHA1.upper(), SHA1 + "0"])
def test_verification_cannot_be_switched_off(etag: str) -> None:
    with pytest.raises(UnsafeAnswerError):
        Expected("config.json", 10, etag)
    assert Expected("config.json", 10, SHA1).kind == "git-sha1"
    assert Expected("model.bin", 10, SHA256).kind == "sha256"


def test_inside_follows_links_of_the_folders(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "repo").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (cache / "repo" / "linked").symlink_to(outside, target_is_directory=True)
    assert inside(cache, cache / "repo" / "file") == cache / "repo" / "file"
    assert inside(cache, cache / "repo" / "new" / "deeper" / "file")
    for path in (cache / "repo" / "linked" / "file", cache / ".." / "x", tmp_path / "x",
                 cache / "repo" / "linked" / "new" / "file", cache):
        with pytest.raises(UnsafeAnswerError):
            inside(cache, path)
    (cache / "repo" / "entry-link").symlink_to(outside / "target")  # the entry itself may be a link
    assert inside(cache, cache / "repo" / "entry-link")


def test_the_cache_folder_itself_may_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "disk" / "hub"
    real.mkdir(parents=True)
    (tmp_path / "hub").symlink_to(real, target_is_directory=True)
    assert inside(tmp_path / "hub", tmp_path / "hub" / "models--a--b" / "blobs" / SHA1)


def test_keep_aside_keeps_one_copy_per_file_and_names_folders_apart(tmp_path: Path) -> None:
    blobs = tmp_path / "cache" / "blobs"
    blobs.mkdir(parents=True)
    for round_ in range(3):
        part = blobs / f"{SHA1}.incomplete"
        part.write_bytes(b"bad %d" % round_)
        kept = keep_aside(part, "sub/config.json", tmp_path / "cache")
    assert [p.name for p in blobs.iterdir()] == [kept.name]
    assert kept.name.startswith("sub%2Fconfig.json.bad-") and kept.read_bytes() == b"bad 2"
    other = blobs / f"{SHA256}.incomplete"
    other.write_bytes(b"x")
    keep_aside(other, "config.json", tmp_path / "cache")
    assert len(list(blobs.iterdir())) == 2  # a different file keeps its own copy


def test_link_into_snapshot_refuses_a_pointer_outside(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    blob = cache / "blobs" / SHA1
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"x")
    with pytest.raises(UnsafeAnswerError):
        link_into_snapshot(blob, tmp_path / "elsewhere" / "config.json", cache)
    assert not (tmp_path / "elsewhere").exists()
    pointer = cache / "snapshots" / SHA1 / "config.json"
    link_into_snapshot(blob, pointer, cache)
    assert pointer.read_bytes() == b"x" and os.path.realpath(pointer) == os.path.realpath(blob)
