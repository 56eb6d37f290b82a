"""Every sentence a user can see has its Simplified Chinese translation: the window's tr()
strings and the core's say() sentences (collected by scripts/core_strings.py), checked by
running the real pyside6-lupdate over the sources and reading the committed catalogue."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TS = ROOT / "resources" / "translations" / "internlm2_desktop_zh_CN.ts"
LUPDATE = Path(sys.executable).with_name("pyside6-lupdate")


def _messages(ts: Path) -> dict[tuple[str, str], str | None]:
    """(context, source) -> translation (None when unfinished or empty)."""
    out: dict[tuple[str, str], str | None] = {}
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            tr = message.find("translation")
            done = tr is not None and tr.get("type") not in ("unfinished", "obsolete", "vanished")
            numerus = [n.text for n in tr.iter("numerusform")] if tr is not None else []
            text = (numerus[0] if numerus else tr.text) if tr is not None else None
            out[(name, source)] = text if done and text else None
    return out


def test_every_core_template_is_a_literal() -> None:
    proc = subprocess.run([sys.executable, "scripts/core_strings.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_every_visible_sentence_is_translated(tmp_path: Path) -> None:
    core = tmp_path / "core_strings.py"
    core.write_text(subprocess.run([sys.executable, "scripts/core_strings.py"], cwd=ROOT, check=True,
                                   capture_output=True, text=True).stdout, encoding="utf-8")
    fresh = tmp_path / "fresh.ts"
    ui = sorted(str(p) for p in (ROOT / "app" / "ui").rglob("*.py"))
    subprocess.run([str(LUPDATE), "-locations", "none", *ui, str(core), "-ts", str(fresh)], check=True,
                   capture_output=True)
    wanted = set(_messages(fresh))
    have = _messages(TS)
    missing = sorted(f"[{c}] {s}" for c, s in wanted if have.get((c, s)) is None)
    assert not missing, (f"{len(missing)} sentences have no Chinese translation; run "
                         "scripts/update_translations.sh and translate them:\n" + "\n".join(missing[:40]))


def test_core_sentences_reach_the_window_in_chinese(qapp) -> None:
    import re

    from app.hub.errors import HubUnreachableError
    from app.internlm2.catalog import load_catalog
    from app.ui.window.core_text import error_text, translated
    from app.ui.window.i18n import Translations

    error = HubUnreachableError("https://hub.example", "[Errno 111] Connection refused")
    translations = Translations()
    try:
        assert translations.apply("zh_CN")
        text = error_text(error)
        assert re.search("[\u4e00-\u9fff]", text) and "https://hub.example" in text
        assert "Connection refused" not in text  # the technical cause stays behind Details
        summary = translated(load_catalog()[0].summary)
        assert re.search("[\u4e00-\u9fff]", summary)
        assert error_text(ValueError("x")).startswith("出现了问题")
    finally:
        translations.apply("en")
    assert error_text(error).startswith("Could not reach the model hub at https://hub.example.")


def test_a_readers_warning_stays_translatable_after_it_is_stored(qapp, tmp_path) -> None:
    import re

    from app.documents.text import undecodable_warning
    from app.storage import ConversationStore
    from app.ui.window.core_text import translated
    from app.ui.window.i18n import Translations

    warning = undecodable_warning("notes.txt", 3, "utf-8")
    with ConversationStore(tmp_path / "c.sqlite3") as store:
        cid = store.conversations.create().id
        doc = store.documents.attach(cid, "notes.txt", "text", warnings=[warning, "plain words"])
    with ConversationStore(tmp_path / "c.sqlite3") as store:  # after a restart
        kept = store.documents.get(doc.id).warnings
    assert [str(w) for w in kept] == [str(warning), "plain words"]
    translations = Translations()
    try:
        assert translations.apply("zh_CN")
        shown = translated(kept[0])
        assert re.search("[\u4e00-\u9fff]", shown) and "notes.txt" in shown and "3" in shown
        assert translated(kept[1]) == "plain words"
    finally:
        translations.apply("en")
