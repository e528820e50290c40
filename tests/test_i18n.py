"""The catalogs: every string in the code is translated, placeholders agree, formats are local."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, _, fmt_date, fmt_int, fmt_percent, ngettext, use_language

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]*(?:![rs])?\}")


def _catalog(language: str):
    with (ROOT / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _code_msgids() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=keywords):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_catalogs_hold_every_string_of_the_code() -> None:
    wanted = _code_msgids()
    assert len(wanted) > 100
    for language in LANGUAGES:
        ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog(language) if m.id}
        missing = sorted(wanted - ids)
        assert not missing, f"{language}: run `make update` and translate: {missing[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_with_the_same_placeholders(language: str) -> None:
    for message in _catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: untranslated {ids[0]!r}"
        assert "fuzzy" not in message.flags, f"{language}: fuzzy {ids[0]!r}"
        expected = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == expected, (language, ids[0], string)


def test_vietnamese_is_the_default_and_reads_vietnamese() -> None:
    assert _("Save") == "Lưu"
    with use_language("en"):
        assert _("Save") == "Save"
    with use_language("vi"):
        assert ngettext("{n} guidance visit", "{n} guidance visits", 3).format(n=3) \
            == "3 lượt hướng dẫn"


def test_numbers_percentages_and_dates_follow_the_locale() -> None:
    with use_language("vi"):
        assert fmt_int(120961) == "120.961"
        assert fmt_percent(0.7689) == "76,9%"
        assert fmt_date(date(2024, 8, 1)) == "01/08/2024"
    with use_language("en"):
        assert fmt_int(120961) == "120,961"
        assert fmt_percent(0.7689) == "76.9%"
        assert fmt_date(date(2024, 8, 1)) == "8/1/24"
