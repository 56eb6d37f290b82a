"""A hostile mirror decides nothing about local paths: `download` against generated bad answers.

Each test runs the real command (`app.cli.main(["download", ...])`) against the fake hub in one
of its hostile modes, with the cache inside a temporary home folder, and asserts that the
command fails with one line and that the whole home tree outside the cache folder is byte for
byte what it was (victim files planted where the bad values point included).
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.hub.cache import RepoCache
from app.hub.safety import UnsafeAnswerError, check_blob_name
from tests.fakehub import ElsewhereServer, FakeHub
from tests.hub_helpers import Home, catalog_files, hostile_hashes, make_home
from tests.tinyhub import CHAT_ID, block_foreign_sockets, catalog_chat_model

LFS_FILE = "model-00001-of-00002.safetensors"
GIT_FILE = "config.json"
_RNG_SEED = 20261201  # the wrong-bytes cases


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    return make_home(tmp_path, monkeypatch)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    block_foreign_sockets(monkeypatch)
    model = catalog_chat_model()
    with FakeHub(repo_id=model.repo, files=catalog_files(model), revision=model.revision) as fake:
        yield fake


def run_download(hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    rc = main(["download", CHAT_ID, "--quiet", "--endpoint", hub.endpoint,
               "--cache-dir", str(home.cache)])
    return rc, capsys.readouterr().err


def assert_refused(rc: int, err: str, *words: str) -> None:
    assert rc == 1, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and "Unexpected error" not in err, err
    for word in words:
        assert word in err, err


# -- bad values in the headers: refused, nothing written anywhere -----------------------------
def _library_normalized(etag: str) -> str:
    """The ETag as huggingface-hub reads the quoted header (weak `W/` prefix and quotes dropped)."""
    return f'"{etag}"'.lstrip("W/").strip('"')


@pytest.mark.parametrize("target", [LFS_FILE, GIT_FILE])
def test_hostile_etags_are_refused_and_nothing_is_written(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str], target: str,
) -> None:
    before = home.before()
    for value in hostile_hashes(home.root):
        hub.clear_faults()
        hub.answer_etag(value, target)
        rc, err = run_download(hub, home, capsys)
        assert_refused(rc, err)
        assert home.before() == before, f"ETag {value!r} changed files outside the cache"
        try:  # a value that reads as a hash is checked against the bytes instead
            check_blob_name(_library_normalized(value), source="test", filename="x")
        except UnsafeAnswerError:
            assert "stopped before anything was written" in err, (value, err)
            assert home.cache_files() == [], f"ETag {value!r} wrote into the cache"
        else:
            assert "is damaged" in err, (value, err)
            assert all(".bad-" in p.name or p.is_dir() for p in home.cache_files()
                       if "blobs" in p.parts), home.cache_files()
            shutil.rmtree(home.cache)
            home.cache.mkdir()


def test_hostile_commits_are_refused_and_nothing_is_written(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str],
) -> None:
    before = home.before()
    for value in hostile_hashes(home.root):
        hub.clear_faults()
        hub.answer_commit(value)
        rc, err = run_download(hub, home, capsys)
        assert_refused(rc, err)
        assert "stopped before anything was written" in err or "lacks the hub's file headers" in err, (
            value, err)
        assert home.before() == before, f"commit {value!r} changed files outside the cache"
        assert home.cache_files() == [], f"commit {value!r} wrote into the cache"


@pytest.mark.parametrize("value", ["-1", "-999999999", str(1 << 50), "1e9", "0x10", "lots"])
def test_hostile_sizes_are_refused(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str], value: str,
) -> None:
    before = home.before()
    hub.answer_size(value, LFS_FILE)
    rc, err = run_download(hub, home, capsys)
    assert_refused(rc, err)
    assert home.before() == before and home.cache_files() == []


def test_a_commit_that_changes_between_files_is_refused(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str],
) -> None:
    before = home.before()
    real = hub.commit
    answers = iter([real] + ["f" * 40] * 20)
    original = hub.commit_value
    hub.commit_value = lambda: next(answers, original())  # type: ignore[method-assign]
    rc, err = run_download(hub, home, capsys)
    assert_refused(rc, err, "commit id")
    assert home.before() == before and home.cache_files() == []


# -- right-looking hashes over wrong bytes: kept aside inside the cache, nothing outside -------
def _wrong_bytes_cases(hub: FakeHub) -> list[tuple[str, str, bytes | None]]:
    """(label, file, bytes to serve instead; None: one byte flipped) for each kind of file."""
    rng = random.Random(_RNG_SEED + 1)
    cases: list[tuple[str, str, bytes | None]] = []
    for name in (LFS_FILE, GIT_FILE):
        size = len(hub.files[name].data)
        cases += [
            ("one byte flipped", name, None),
            ("other bytes, same size", name, rng.randbytes(size)),
            ("longer than announced", name, hub.files[name].data + rng.randbytes(size * 3)),
        ]
    return cases


def test_wrong_bytes_under_a_right_looking_hash_are_refused_and_kept_inside(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str],
) -> None:
    before = home.before()
    cache = RepoCache(home.cache, hub.repo_id)
    for label, name, data in _wrong_bytes_cases(hub):
        hub.clear_faults()
        if cache.blob(hub.files[name].etag).exists():  # a good copy from an earlier case
            shutil.rmtree(home.cache)
            home.cache.mkdir()
        if data is None:
            hub.corrupt(name)
        else:
            hub.substitute(name, data)
        rc, err = run_download(hub, home, capsys)
        assert_refused(rc, err, "is damaged", "kept aside")
        assert home.before() == before, label
        kept = cache.kept_aside(name)
        assert len(kept) == 1, (label, kept)  # at most one copy per file, however many tries
        assert kept[0].stat().st_size <= len(hub.files[name].data) + 1024 * 1024  # bounded
        assert not cache.blob(hub.files[name].etag).exists()
        assert not os.path.lexists(cache.pointer(hub.commit, name))

    hub.clear_faults()
    rc, err = run_download(hub, home, capsys)
    assert rc == 0, err
    assert cache.kept_aside(LFS_FILE) == [] and cache.kept_aside(GIT_FILE) == []
    assert home.before() == before


def test_another_valid_looking_hash_than_the_bytes_have_is_refused(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str],
) -> None:
    before = home.before()
    other = FakeHub(files={LFS_FILE: b"something else entirely"}).files[LFS_FILE]
    hub.answer_etag(other.sha256, LFS_FILE)  # a real sha256, of other bytes
    rc, err = run_download(hub, home, capsys)
    assert_refused(rc, err, "is damaged")
    assert home.before() == before
    assert not RepoCache(home.cache, hub.repo_id).blob(other.sha256).exists()


# -- a mirror that redirects elsewhere ----------------------------------------------------------
@pytest.mark.parametrize("target", [LFS_FILE, GIT_FILE])
def test_redirect_to_another_server_with_other_bytes_is_refused(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str], target: str,
) -> None:
    before = home.before()
    size = len(hub.files[target].data)
    for data in (os.urandom(size), os.urandom(size * 4), b""):
        with ElsewhereServer(data) as elsewhere:
            hub.clear_faults()
            hub.redirect(target, elsewhere.url)
            rc, err = run_download(hub, home, capsys)
            assert_refused(rc, err)
            assert elsewhere.requests, "the redirect was not followed at all"
            assert not any(r.authorized for r in elsewhere.requests)
        assert home.before() == before
        assert len(RepoCache(home.cache, hub.repo_id).kept_aside(target)) <= 1


def test_redirect_to_local_files_or_other_schemes_is_refused(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str],
) -> None:
    before = home.before()
    victim = home.root / "victim.txt"
    locations = [
        victim.as_uri(), "file:///etc/passwd", f"file://{home.root}/Documents/notes.md",
        "ftp://127.0.0.1/x", "data:text/plain,hello", "javascript:alert(1)", "http://",
        "../../../../../victim.txt", "/../../victim.txt", str(victim),
    ]
    for location in locations:
        hub.clear_faults()
        hub.redirect(LFS_FILE, location)
        rc, err = run_download(hub, home, capsys)
        assert_refused(rc, err)
        assert home.before() == before, location
        assert RepoCache(home.cache, hub.repo_id).kept_aside(LFS_FILE) == [], location


def test_redirect_loop_is_a_one_line_error(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str],
) -> None:
    before = home.before()
    hub.redirect(LFS_FILE, f"{hub.endpoint}/{hub.repo_id}/resolve/{hub.commit}/{LFS_FILE}")
    rc, err = run_download(hub, home, capsys)
    assert_refused(rc, err)
    assert home.before() == before


# -- links planted inside the cache never lead outside ------------------------------------------
@pytest.mark.parametrize("part", ["blobs", "snapshots", "refs"])
def test_a_folder_of_the_cache_linked_outside_is_refused(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str], part: str,
) -> None:
    outside = home.root / "Documents"
    repo = RepoCache(home.cache, hub.repo_id).root
    repo.mkdir(parents=True)
    (repo / part).symlink_to(outside, target_is_directory=True)
    before = home.before()
    rc, err = run_download(hub, home, capsys)
    assert_refused(rc, err, "outside the cache")
    assert home.before() == before


# -- kept-aside copies and the free-space check -------------------------------------------------
def test_kept_aside_copies_are_named_in_the_free_space_check(
    hub: FakeHub, home: Home, capsys: pytest.CaptureFixture[str],
) -> None:
    from app.hub import ModelDownloader, NotEnoughDiskSpaceError

    hub.corrupt(LFS_FILE)
    rc, err = run_download(hub, home, capsys)
    assert_refused(rc, err, "is damaged")
    cache = RepoCache(home.cache, hub.repo_id)
    (kept,) = cache.kept_aside(LFS_FILE)
    assert cache.kept_aside_bytes() == kept.stat().st_size > 0
    hub.clear_faults()
    tight = ModelDownloader(cache_dir=home.cache, endpoint=hub.endpoint, offline=False,
                            conversion_dir=home.root / "models", free_space=lambda path: 1000)
    with pytest.raises(NotEnoughDiskSpaceError) as caught:
        tight.download(catalog_chat_model(), quant=None)
    error = caught.value
    assert error.kept_aside == (cache.blobs, kept.stat().st_size)
    assert "kept aside" in str(error) and str(cache.blobs) in str(error)
    assert kept.exists()  # the check itself deletes nothing
