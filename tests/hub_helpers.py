"""Helpers of the download safety tests: a temporary home with victim files, and its tree byte for byte."""

from __future__ import annotations

import os
import random
import stat
import string
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.hub.safety import UnsafeAnswerError, check_blob_name, check_commit
from app.internlm2.catalog import CatalogModel

_RNG_SEED = 20261201


# -- the hostile values, generated ----------------------------------------------------------
def hostile_hashes(home: Path) -> list[str]:
    """Values a mirror could send as an ETag or commit, none a lowercase 40/64-hex hash."""
    sha1 = "0123456789abcdef" * 2 + "01234567"
    sha256 = "0123456789abcdef" * 4
    victim = home / "victim.txt"
    values = [
        # absolute
        str(victim), str(home), "/" + sha1, "/" + sha256, "//" + sha1,
        # parent folders
        "..", ".", "../victim.txt", "../../../../victim.txt", "../" * 12 + "victim.txt",
        f"{sha1}/../../../../../victim.txt", f"../{sha256}", "./" + sha1, sha1 + "/..",
        # backslashes and drive letters
        "..\\..\\..\\victim.txt", sha1[:20] + "\\" + sha1[21:], "C:\\Windows\\victim.txt",
        "C:/victim.txt", "c:" + sha1[2:], "\\\\server\\share\\" + sha1,
        # not hex, or the wrong length
        "", "z" * 40, "g" * 64, sha1.upper(), sha256.upper(), sha1[:-1], sha1 + "0",
        sha256[:-1], sha256 + "0", "0" * 128, sha1 + ":stream", "%2e%2e%2fvictim.txt",
        sha1[:20] + " " + sha1[21:], "\u00e9" * 40,
    ]
    rng = random.Random(_RNG_SEED)
    alphabet = string.ascii_letters + string.digits + "./\\:-_~%"
    for _ in range(6):
        values.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 90))))
    for length in (rng.randint(1, 39), rng.randint(41, 63), rng.randint(65, 200)):
        values.append("".join(rng.choice("0123456789abcdef") for _ in range(length)))
    for value in values:  # the generator itself must not produce a valid hash by chance
        with pytest.raises(UnsafeAnswerError):
            check_blob_name(value, source="test", filename="x")
        with pytest.raises(UnsafeAnswerError):
            check_commit(value, source="test", filename="x")
    return values


# -- the tree outside the cache, byte for byte ----------------------------------------------
@dataclass(frozen=True)
class _Entry:
    kind: str
    mode: int
    content: bytes


def snapshot_tree(root: Path, skip: Path) -> dict[str, _Entry]:
    """Every entry under `root` except the folder `skip`: type, permissions, bytes or link target."""
    found: dict[str, _Entry] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d != skip]
        for name in [*dirs, *files]:
            path = here / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                kind, content = "link", os.readlink(path).encode()
            elif stat.S_ISDIR(info.st_mode):
                kind, content = "dir", b""
            else:
                kind, content = "file", path.read_bytes()
            found[str(path.relative_to(root))] = _Entry(kind, stat.S_IMODE(info.st_mode), content)
    return found


@dataclass
class Home:
    root: Path
    cache: Path

    def plant_victims(self) -> None:
        """Files where the hostile values point, so a rename or replace would show."""
        (self.root / "victim.txt").write_bytes(b"the user's own file\n")
        documents = self.root / "Documents"
        documents.mkdir()
        (documents / "notes.md").write_bytes(b"# notes\n" + os.urandom(64))
        folder = self.cache
        while folder != self.root:
            (folder.parent / "victim.txt").write_bytes(b"do not touch " + str(folder).encode())
            folder = folder.parent
        (self.root / "link-to-notes").symlink_to(documents / "notes.md")

    def before(self) -> dict[str, _Entry]:
        return snapshot_tree(self.root, self.cache)

    def cache_files(self) -> list[Path]:
        if not self.cache.exists():
            return []
        return [p for p in self.cache.rglob("*") if p.is_symlink() or p.is_file()]


def make_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    root = tmp_path / "home"
    cache = root / ".cache" / "huggingface" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    found = Home(root, cache)
    found.plant_victims()
    return found


def catalog_files(model: CatalogModel) -> dict[str, bytes]:
    """Small random bytes under the catalog's file names (the transfer path is what is tested)."""
    rng = random.Random(7)
    return {name: rng.randbytes(300_000 if name.endswith(".safetensors") else 2_000)
            for name in model.files}
