"""Text helpers for what people really type: no diacritics, abbreviations, numbers as words."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A hand-written fold because the only rule needed is "drop combining marks, đ→d"; a
# transliteration library would also rewrite non-Vietnamese text we want to keep.
_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})
_SPACES = re.compile(r"\s+")

# A chain of digit groups joined by what people type between them: spaces (double too), dots,
# dashes, slashes, commas, underscores, " - ". Groups touching a letter belong to a code
# (dossier codes such as 000.00.21.H40-250918-0012), unless one group alone has 12 digits
# ("cccd001203004567").
_SEPARATOR = r"[\s.\-/,_\u2010-\u2015\u00b7]{1,3}"
_CHAIN = re.compile(rf"(?<!\d)\d+(?:{_SEPARATOR}\d+)*(?!\d)")
_GROUP = re.compile(r"\d+")
# Whole dates (12/05/2024, 2024-05-12) are read as dates, so a date range is not an ID.
_DATES = re.compile(r"(?<![^\W_])(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{1,2}-\d{1,2})"
                    r"(?![^\W_])")
CITIZEN_ID_DIGITS = 12
REDACTED = "[***]"

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


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ→d) and squeeze spaces."""
    # Cached: an update folds the same option labels and words a dozen times over.
    if text.isascii():
        return _SPACES.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.lower()).strip()


def _digit_view(text: str) -> tuple[str, list[int]]:
    """The text as a detector should read it, with the index in `text` of every character.

    Compatibility forms become plain ones (fullwidth ３, superscript ², circled ①) and
    invisible format characters (zero-width spaces, direction marks) are dropped, so
    "0​01 203…" reads as the digits it shows.
    """
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            continue
        for plain in unicodedata.normalize("NFKC", ch):
            chars.append(plain)
            origin.append(index)
    return "".join(chars), origin


def _citizen_id_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) in `text` of every run of digit groups that adds up to 12 digits."""
    view, origin = _digit_view(text)
    view = _DATES.sub(lambda m: "#" * len(m.group()), view)
    spans: list[tuple[int, int]] = []
    for chain in _CHAIN.finditer(view):
        groups = list(_GROUP.finditer(view, chain.start(), chain.end()))
        left_code = chain.start() > 0 and view[chain.start() - 1].isalpha()
        right_code = chain.end() < len(view) and view[chain.end()].isalpha()
        # Consecutive groups whose digits add up to exactly twelve (two pointers: all positive).
        first, total = 0, 0
        for last, group in enumerate(groups):
            total += len(group.group())
            while total > CITIZEN_ID_DIGITS:
                total -= len(groups[first].group())
                first += 1
            # Digits glued to a letter are a code ("H29.22-251203-0041"): none of its parts is
            # an ID, though a lone 12-digit group after a prefix still is ("cccd001203004567").
            in_code = left_code or right_code
            if total == CITIZEN_ID_DIGITS and (first == last or not in_code):
                spans.append((origin[groups[first].start()], origin[group.end() - 1] + 1))
    return spans


def contains_citizen_id(text: str) -> bool:
    """True when the text holds a 12-digit citizen ID number, however it was typed."""
    return bool(_citizen_id_spans(text))


def redact_citizen_ids(text: str) -> tuple[str, bool]:
    """The text with every citizen ID number replaced by [***], and whether one was found."""
    spans = _citizen_id_spans(text)
    if not spans:
        return text, False
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    parts, cursor = [], 0
    for start, end in merged:
        parts += [text[cursor:start], REDACTED]
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts), True


def parse_int(text: str, max_digits: int = 9) -> int | None:
    """A whole number typed with any digits (ASCII, fullwidth, ², ①), or None.

    `str.isdigit()` is true for "²" and "①" where `int()` fails; every place that reads a
    number from people or from button data goes through here instead.
    """
    plain = unicodedata.normalize("NFKC", text).strip()
    sign = -1 if plain[:1] == "-" else 1
    digits = plain[1:] if plain[:1] in "+-" else plain
    if not digits or len(digits) > max_digits or not digits.isdecimal():
        return None
    return sign * int(digits)


def parse_count(text: str) -> int | None:
    """Read a whole number typed as digits or as a word ("hai", "ba", "two"); None if unreadable."""
    folded = fold(text).strip(" .!")
    number = parse_int(folded)
    if number is not None:
        return number
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
