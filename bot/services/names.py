"""Comparing Vietnamese names as people read them: the diacritics a user types count.

"Lê Thị Hòa" and "Lê Thị Hoa" are two people; "le thi hoa" (typed without diacritics) may be
either. Tone marks may sit on either vowel ("Hoà" and "Hòa" are one spelling in two styles).
"""

from __future__ import annotations

import unicodedata

from bot.textnorm import fold

# The five tone marks; the other combining marks (circumflex, breve, horn) change the letter.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese mark (or đ): the user typed with diacritics."""
    return fold(text) != " ".join(text.lower().split())


def _syllable(word: str) -> tuple[str, str]:
    """(letters with their vowel marks, tone mark) of one word, wherever the tone was placed."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tone = "".join(ch for ch in decomposed if ch in _TONES)
    letters = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    return letters, tone


def _word_starts(typed: str, word: str) -> bool:
    """The typed word is the start of the name's word, diacritics included."""
    typed_letters, typed_tone = _syllable(typed)
    letters, tone = _syllable(word)
    if typed_letters == letters:
        return typed_tone == tone
    # Part of a word: the tone, if typed, must be the word's tone.
    return letters.startswith(typed_letters) and typed_tone in ("", tone)


def matches(query: str, name: str) -> bool:
    """Every typed word starts a word of the name: with diacritics when the query has any,
    otherwise on the plain letters."""
    if not has_diacritics(query):
        words = fold(name).split()
        return all(any(w.startswith(t) for w in words) for t in fold(query).split())
    words = name.split()
    return all(any(_word_starts(t, w) for w in words) for t in query.split())


def same_name(a: str, b: str) -> bool:
    """The same name, diacritics included (tone placement and case aside)."""
    return [_syllable(w) for w in a.split()] == [_syllable(w) for w in b.split()]
