"""Every string the app shows is in the Korean and English catalogues, with the same placeholders,
and the font that draws Hangul ships with its licence."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mobile import i18n

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "backend" / "activities" / "data" / "activity_types.v1.json"
KV_MESSAGE = re.compile(r"""\b_\(\s*(['"])(.+?)\1\s*\)""")  # _('…') and tr._('…') in kv rules


def kv_messages() -> set[str]:
    return {m[1] for kv in (ROOT / "mobile").rglob("*.kv") for m in KV_MESSAGE.findall(kv.read_text())}


def source_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set(kv_messages())
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / "mobile"), keywords={"_": None, "N_": None, "ngettext": (1, 2)}, method_map=[("**.py", "python")]):
        found.add(message)
    return found


def test_kv_rules_are_read() -> None:
    """The kv files' labels count as shown strings (the check above would pass without them)."""
    found = kv_messages()
    assert {"This month", "Opt out of this event", "Save electricity together"} <= found, sorted(found)


def catalog(lang: str):
    with i18n.po_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_shown_string_is_translated(lang: str) -> None:
    cat = catalog(lang)
    missing, mismatched = [], []
    for message in source_messages():
        key = message if isinstance(message, str) else message[0]
        entry = cat.get(key)
        strings = entry.string if entry is not None else None
        values = [strings] if isinstance(strings, str) else list(strings or [])
        if entry is None or entry.fuzzy or not all(values) or not values:
            missing.append(message)
            continue
        wanted = fields(key)
        if any(fields(v) != wanted for v in values):
            mismatched.append(key)
    assert not missing, f"untranslated in {lang}: {missing}"
    assert not mismatched, f"placeholders differ in {lang}: {mismatched}"


def test_catalogue_names_have_korean_labels() -> None:
    """Parameter names, choices and units come from the server's catalogue and are shown translated."""
    types = json.loads(CATALOGUE.read_text())["activity_types"]
    names = {p["name"] for t in types for p in t["params"]}
    names |= {c for t in types for p in t["params"] for c in p.get("choices", [])}
    names |= {p["unit"] for t in types for p in t["params"] if p.get("unit")}
    ko = catalog("ko")
    missing = sorted(n for n in names if ko.get(n) is None or not ko.get(n).string)
    assert not missing, missing


def test_korean_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PVPP_APP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert i18n.device_language() == "ko"
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert i18n.device_language() == "ko"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert i18n.device_language() == "en"


def test_numbers_and_dates_follow_the_language() -> None:
    from datetime import date

    from mobile import formats

    i18n.set_language("ko")
    assert formats.won(12500) == "12,500원"
    assert re.search(r"2026\. ?5\. ?4\.", formats.day(date(2026, 5, 4)))
    i18n.set_language("en")
    assert formats.won(12500) == "12,500 won"
    assert formats.day(date(2026, 5, 4)) == "4 May 2026"


def test_period_labels_follow_the_language() -> None:
    """Scoreboards, awards and certificates name periods from their kind and first day, in the app's language."""
    from mobile import formats

    i18n.set_language("ko")
    assert formats.period("MONTH", "2026-11-01") == "2026년 11월"
    assert formats.period("TERM", "2026-09-01") == "2026학년도 2학기"
    assert formats.period("term", "2027-03-01") == "2027학년도 1학기"
    assert formats.period("SCHOOL_YEAR", "2026-03-01") == "2026학년도"
    i18n.set_language("en")
    assert formats.period("MONTH", "2026-11-01") == "November 2026"
    assert formats.period("TERM", "2026-09-01") == "Term 2 of 2026"
    assert formats.period("school_year", "2026-03-01") == "School year 2026"
    i18n.set_language("ko")


def test_font_and_licence_ship() -> None:
    from mobile.bootstrap import font_path

    assert Path(font_path()).name == "NotoSansKR-Regular.otf"
    licence = (ROOT / "mobile" / "assets" / "fonts" / "OFL.txt").read_text()
    assert "Copyright 2014-2021 Adobe" in licence and "SIL OPEN FONT LICENSE Version 1.1" in licence


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_shipped_mo_matches_the_po(lang: str) -> None:
    """The app loads the .mo; `python -m mobile.i18n` rewrites it after a .po changed."""
    assert i18n.mo_path(lang).read_bytes() == i18n.compile_po(lang), "run: python -m mobile.i18n"
