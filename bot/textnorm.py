"""Text helpers for what people really type: no diacritics, abbreviations, numbers as words."""

from __future__ import annotations

import re
import unicodedata

# A hand-written fold because the only rule needed is "drop combining marks, đ→d"; a
# transliteration library would also rewrite non-Vietnamese text we want to keep.
_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})
_SPACES = re.compile(r"\s+")

# Twelve digits (a citizen ID / CCCD number), possibly typed with spaces, dots or dashes.
_CCCD = re.compile(r"(?<!\d)(?:\d[\s.\-]?){11}\d(?!\d)")

_NUMBER_WORDS = {
    "khong": 0, "ko": 0, "k": 0, "zero": 0, "none": 0,
    "mot": 1, "one": 1,
    "hai": 2, "two": 2,
    "ba": 3, "three": 3,
    "bon": 4, "tu": 4, "four": 4,
    "nam": 5, "lam": 5, "five": 5,
    "sau": 6, "six": 6,
    "bay": 7, "seven": 7,
    "tam": 8, "eight": 8,
    "chin": 9, "nine": 9,
    "muoi": 10, "ten": 10,
}


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ→d) and squeeze spaces."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.lower()).strip()


def contains_citizen_id(text: str) -> bool:
    """True when the text holds something shaped like a 12-digit citizen ID number."""
    return bool(_CCCD.search(text))


def parse_count(text: str) -> int | None:
    """Read a whole number typed as digits or as a word ("hai", "ba", "two"); None if unreadable."""
    folded = fold(text).strip(" .!")
    if re.fullmatch(r"[+-]?\d{1,9}", folded):
        return int(folded)
    return _NUMBER_WORDS.get(folded)


_YES = {"c", "co", "yes", "y", "ok", "dc", "duoc", "roi", "da", "co roi", "biet", "biet dung", "u",
        "uh", "um", "vang", "da co"}
_NO = {"k", "ko", "khong", "kh", "no", "n", "chua", "chua biet", "khong biet", "hong", "hok"}


def parse_yes_no(text: str) -> bool | None:
    """Read yes/no the way people type it ("có", "co", "dc", "ko", "chưa"); None if unclear."""
    folded = fold(text).strip(" .!")
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    return None


def split_words(text: str) -> list[str]:
    """Words of a short answer, split on spaces, commas, semicolons, slashes and plus signs."""
    return [w for w in re.split(r"[\s,;/+]+", text.strip()) if w]


# Leftover keystrokes when a Telex/VNI keyboard did not convert: "kichs hoatj", "dduowcj", "vneidd".
_TELEX_PAIRS = (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u"))
_VOWELS = frozenset("aeiouy")
# Tone keys never end up after a vowel in a real (folded) Vietnamese syllable, so dropping them is safe.
_TONE_KEYS = frozenset("sfrxj123456789")


def strip_telex(word: str) -> str:
    """Undo Telex/VNI leftovers in one folded word ("kichs"→"kich", "dduowcj"→"duoc").

    Only meaningful for Vietnamese words; callers should keep the result only when it is a
    word they know, because English words ("pass") are changed too.
    """
    for pair, single in _TELEX_PAIRS:
        word = word.replace(pair, single)
    kept: list[str] = []
    seen_vowel = False
    for ch in word:
        if seen_vowel and ch in _TONE_KEYS:
            continue
        seen_vowel = seen_vowel or ch in _VOWELS
        kept.append(ch)
    return "".join(kept)
