"""Every user-facing string ships in Korean: the suite fails on a missing or fuzzy Korean entry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from epro import instruments
from epro.cli import EXTRACT_ARGS
from epro.schedule import PROTOCOLS

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "ko" / "LC_MESSAGES" / "messages.po"


def _extracted_ids(tmp_path: Path) -> set[tuple[str | None, str]]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", *EXTRACT_ARGS, "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {_key(m) for m in read_po(handle) if m.id}


def _key(message) -> tuple[str | None, str]:  # type: ignore[no-untyped-def]
    """Messages are told apart by context too: the menu's "Audit trail" is 변경 이력."""
    return (message.context, message.id if isinstance(message.id, str) else message.id[0])


def test_every_string_in_the_code_has_a_korean_translation(tmp_path):
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="ko")
    translated = {
        _key(m)
        for m in catalog
        if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string]) and not m.fuzzy
    }
    missing = sorted(_extracted_ids(tmp_path) - translated)
    assert not missing, f"{len(missing)} string(s) without Korean (or fuzzy): {missing[:20]}"


def test_no_fuzzy_entries_left():
    with CATALOG.open("rb") as handle:
        fuzzy = [m.id for m in read_po(handle, locale="ko") if m.id and m.fuzzy]
    assert fuzzy == []


def test_korean_placeholders_match_the_english(tmp_path):
    import re

    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="ko")
    pattern = re.compile(r"%\(\w+\)[sd]")
    for message in catalog:
        if message.id and message.string:
            source = message.id if isinstance(message.id, str) else message.id[-1]
            targets = message.string if isinstance(message.string, tuple) else (message.string,)
            for target in targets:
                assert sorted(set(pattern.findall(source))) == sorted(set(pattern.findall(target))), source


def test_instrument_and_protocol_files_are_bilingual():
    for instrument in instruments.all_instruments().values():
        texts = [instrument.name, instrument.patient_title, instrument.recall]
        for item in instrument.items:
            texts.append(item.text)
            texts.extend(option.label for option in item.options)
        assert all(t.ko.strip() and t.en.strip() and t.ko != t.en for t in texts if t.en not in ("",)), (
            instrument.code
        )
    for path in PROTOCOLS.glob("*.json"):
        protocol = json.loads(path.read_text(encoding="utf-8"))
        for visit in protocol["visits"]:
            assert visit["label"]["ko"].strip() and visit["label"]["en"].strip()


def test_the_test_catches_a_removed_korean_string(tmp_path):
    """Remove one Korean translation from a copy of the catalog: the completeness check must notice."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="ko")
    victim = next(m for m in catalog if m.id == "Submit")
    victim.string = ""
    translated = {_key(m) for m in catalog if m.id and m.string and not m.fuzzy}
    assert (None, "Submit") in _extracted_ids(tmp_path) - translated
