"""The GGUF header reader: the same values as gguf-py's reader, fast on a real vocabulary, and
one clear error for any damaged file (truncated or garbled headers generated here)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from app.engine.gguf_meta import read_gguf_info, read_gguf_metadata
from app.engine.types import ModelLoadError


def test_same_values_as_gguf_py(tiny_gguf: Path) -> None:
    import gguf

    reader = gguf.GGUFReader(tiny_gguf)
    mine = read_gguf_metadata(tiny_gguf, {"tokenizer.ggml.tokens", "tokenizer.ggml.token_type"})
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue  # gguf-py's own pseudo-fields (version, counts)
        expected = field.contents()
        if key in ("tokenizer.ggml.scores",):
            assert key not in mine  # arrays only when asked for
        elif isinstance(expected, float):
            assert mine[key] == pytest.approx(expected)
        else:
            assert mine[key] == expected, key
    assert len(mine["tokenizer.ggml.tokens"]) == len(reader.fields["tokenizer.ggml.tokens"].data)


def test_reading_the_info_of_a_real_vocabulary_is_bounded(tiny_gguf: Path) -> None:
    t0 = time.process_time()
    info = read_gguf_info(tiny_gguf)
    assert time.process_time() - t0 < 5.0, "the header of a 92,544-token GGUF must be read in well under a second"
    assert info.arch == "internlm2" and info.is_chat and info.rope_scaling == "dynamic"


def test_damaged_headers_give_one_clear_error(tiny_gguf: Path, tmp_path: Path) -> None:
    head = tiny_gguf.read_bytes()[: 4 << 20]  # the metadata (92,544 tokens) lies in the first MBs
    rng = random.Random(7)
    bad = tmp_path / "bad.gguf"
    cases = [head[:n] for n in (0, 3, 4, 8, 23, 24, 100, 5000, 700_000)]
    for _ in range(40):  # a few bytes of the header overwritten with random ones
        data = bytearray(head)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(0, 4096)
            data[pos] = rng.randrange(256)
        cases.append(bytes(data))
    cases.append(b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") + (2**63).to_bytes(8, "little"))
    cases.append(b"GGUF" + (3).to_bytes(4, "little") + bytes(8) + (1).to_bytes(8, "little")
                 + (2**62).to_bytes(8, "little"))  # a key claiming 2^62 bytes
    for data in cases:
        bad.write_bytes(data)
        t0 = time.process_time()
        try:
            read_gguf_info(bad)
        except ModelLoadError as exc:
            assert "is not a readable GGUF file" in str(exc)
        assert time.process_time() - t0 < 10.0
