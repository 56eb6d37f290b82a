"""Encodings a user meets: UTF-16 without a BOM (English and Chinese), legacy code pages, and
the fallback with a warning. Every file is the test's own text encoded by Python's codecs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from app.documents import BinaryFileError, read_document
from tests.test_documents import write

ENGLISH = "Plain English saved by an old tool.\nSecond line, with digits 123.\n"
CHINESE = "简体中文的文件，用没有字节序标记的UTF-16保存。\n第二行：数字和标点。\n" * 5
TRADITIONAL = "繁體中文的文件，用舊編碼保存。第二行：數字123和English。這是一個測試，看看偵測是否正確。\n" * 4
JAPANESE = "日本語のテキストです。古いエンコーディングで保存されました。ひらがなとカタカナ。\n" * 4
FRENCH = "Café crème brûlée, naïve façade — “quoted” déjà vu; l’été où il a neigé.\n" * 4
RUSSIAN = "Русский текст в старой кодировке Windows. Привет, мир! Съешь же ещё этих булок.\n" * 4


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [ENGLISH, CHINESE], ids=["english", "chinese"])
def test_utf16_without_bom_is_detected(tmp_path: Path, codec: str, text: str) -> None:
    doc = read_document(write(tmp_path, "old.txt", text.encode(codec)))
    assert (doc.text, doc.encoding, doc.warnings) == (text, codec, [])


@pytest.mark.parametrize("text", ["这行中文没有任何字符所以没有零字节", "一行中文：一二三，没有换行"])
@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_one_line_of_chinese_in_utf16_is_detected(tmp_path: Path, text: str, codec: str) -> None:
    # No ASCII at all: no NUL (the first), or only the 00 of 一 U+4E00 (the second).
    data = text.encode(codec)
    assert data.count(0) == text.count("一")
    doc = read_document(write(tmp_path, "line.txt", data))
    assert (doc.text, doc.encoding) == (text, codec)


@pytest.mark.parametrize(("codec", "text", "expected"), [
    ("big5", TRADITIONAL, "big5"),
    ("shift_jis", JAPANESE, "cp932"),
    ("cp1252", FRENCH, "cp1252"),
    ("cp1251", RUSSIAN, "cp1251"),
    ("euc_kr", "한국어 텍스트입니다. 오래된 인코딩으로 저장되었습니다.\n" * 4, "cp949"),
])
def test_legacy_code_pages_are_detected(tmp_path: Path, codec: str, text: str, expected: str) -> None:
    doc = read_document(write(tmp_path, "legacy.txt", text.encode(codec)))
    assert doc.text == text
    assert doc.encoding == expected
    assert doc.warnings == []


def test_a_legacy_guess_from_a_handful_of_bytes_says_so(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "menu.txt", "Café crème brûlée.\n".encode("cp1252")))
    assert doc.text == "Café crème brûlée.\n"
    assert len(doc.warnings) == 1 and "a guess" in doc.warnings[0] and "menu.txt" in doc.warnings[0]


def test_a_large_legacy_file_is_detected_from_a_bounded_sample(tmp_path: Path) -> None:
    text = JAPANESE * 3000  # ~480 KB: the detector sees its first 64 KB, cut at a line end
    doc = read_document(write(tmp_path, "big-sjis.txt", text.encode("shift_jis")))
    assert (doc.text, doc.encoding) == (text, "cp932")


def test_random_bytes_are_still_binary(tmp_path: Path) -> None:
    rng = random.Random(7)
    data = bytes(rng.randrange(256) for _ in range(50_000))
    with pytest.raises(BinaryFileError):
        read_document(write(tmp_path, "noise.txt", data))


def test_utf16_of_random_units_is_not_taken_for_text(tmp_path: Path) -> None:
    rng = random.Random(8)
    units = [rng.choice([0xE000 + rng.randrange(0x1000), 0x0041]) for _ in range(20_000)]
    data = b"".join(unit.to_bytes(2, "little") for unit in units)  # private-use characters
    with pytest.raises(BinaryFileError):
        read_document(write(tmp_path, "private.txt", data))
