"""Typed replies matched back to the options last offered: the one place that does it.

Every channel without buttons shows options as a numbered list, and every channel accepts a
typed answer; the router stores the options it offered with the conversation and resolves the
next text here, so no flow keeps its own word list for its buttons.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from bot.messages import Option, Reply
from bot.textnorm import fold, parse_count

# Short forms people type for whole words (folded); applied word by word before comparing.
_ABBREVIATIONS = {"k": "khong", "ko": "khong", "kh": "khong", "hok": "khong", "hong": "khong",
                  "dc": "duoc", "đc": "duoc", "c": "co", "ok": "dong y", "oke": "dong y",
                  "hd": "huong dan", "kt": "kiem tra", "sl": "so luong", "tt": "thong tin"}
_INTEGER = re.compile(r"\d{1,6}")
# Parts of a label that are worth matching alone: "Nguyễn Thị Lan · X01-001" → the name, the code.
_SEGMENT_SPLIT = re.compile(r"\s*(?:·|\(|\)|:|/|,)\s*")
# Punctuation and marks (☐ ☑ “ ” , .) say nothing about which option is meant.
_MARKS = re.compile(r"[^\w\s/-]+", re.UNICODE)


def offered(replies: Sequence[Reply]) -> list[Option]:
    """The options shown to the sender by these replies, numbered 1… in this order."""
    return [option for reply in replies if reply.to is None
            for row in reply.options for option in row]


def is_value(option: Option) -> bool:
    """True when the option's label is itself a number (a count): typing it means that value."""
    return bool(_INTEGER.fullmatch(option.label.strip()))


def numbered_by_value(options: Sequence[Option]) -> bool:
    """When some options are numbers, typed numbers mean values and the list is not numbered."""
    return any(is_value(option) for option in options)


def _plain(text: str) -> str:
    """Lower case, composed, marks and abbreviations expanded, diacritics kept."""
    lowered = _MARKS.sub(" ", unicodedata.normalize("NFC", text).casefold()).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in lowered)


def _folded(text: str) -> str:
    """As _plain, without diacritics."""
    return " ".join(_ABBREVIATIONS.get(word, word) for word in _MARKS.sub(" ", fold(text)).split())


@lru_cache(maxsize=4096)
def _label_forms(label: str, with_diacritics: bool) -> tuple[str, tuple[str, ...]]:
    """An option's label and its parts, normalised as a typed reply is compared with them.

    Cached: each typed reply is compared with every option, and the same labels (Save,
    Cancel, a volunteer's households) come back update after update.
    """
    norm = _plain if with_diacritics else _folded
    parts = (part for part in _SEGMENT_SPLIT.split(label) if part.strip())
    return norm(label), tuple(norm(part) for part in parts)


def resolve(text: str, options: Sequence[Option]) -> Option | None:
    """The option a typed reply picks, or None when it picks none or several (the flow reads it).

    A reply picks an option by its number in the list (or by its value when options are
    numbers), or by its words — exactly, or without diacritics and with the usual short forms.
    Names that differ only in diacritics are never confused: typed with diacritics, the words
    are compared with their diacritics; typed without, several matches mean no match.
    """
    typed = text.strip().rstrip(".!?")
    if not typed or not options:
        return None
    if numbered_by_value(options):
        number = parse_count(typed)
        if number is not None:
            values = [o for o in options if is_value(o) and int(o.label) == number]
            return values[0] if values else None
    elif _INTEGER.fullmatch(typed):
        index = int(typed)
        return options[index - 1] if 1 <= index <= len(options) else None
    # Typed with diacritics: compare with them, so "Lân" never picks "Lan".
    diacritics = fold(typed) != " ".join(typed.casefold().split())
    wanted = (_plain if diacritics else _folded)(typed)
    if not wanted:
        return None
    forms = [(o, *_label_forms(o.label, diacritics)) for o in options]
    whole = [o for o, label, parts in forms if wanted == label or wanted in parts]
    if whole:
        return whole[0] if len(whole) == 1 else None
    # The first words of one option ("sua" → "Sửa lại"), or, for a longer phrase, words that
    # only one option contains ("kich hoat" → "Ghi kích hoạt").
    starts = [o for o, label, _parts in forms if f"{label} ".startswith(f"{wanted} ")]
    if starts:
        return starts[0] if len(starts) == 1 else None
    if len(wanted) < 4:
        return None
    pattern = re.compile(rf"(?:^|\s){re.escape(wanted)}(?:\s|$)")
    inside = [o for o, label, _parts in forms if pattern.search(label)]
    return inside[0] if len(inside) == 1 else None
