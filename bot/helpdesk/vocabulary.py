"""What citizens type → the words the knowledge uses: regional speech, voice-to-text slips and
chat shorthand from an officer-editable TOML file, plus a few spelling rules kept in code."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.textnorm import fold

VOCABULARY_FILE = Path(__file__).resolve().parent.parent.parent / "vocabulary.toml"
_SECTIONS = ("accented", "abbreviations", "regional", "voice")
_CACHE_SIZE = 4096
_FOLDED_KEY = re.compile(r"^[a-z0-9]+(?: [a-z0-9]+)*$")


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one space-separated string (easier to read and extend)."""
    return frozenset(text.split())


class VocabularyError(ValueError):
    """The vocabulary file is missing, unreadable or holds an invalid line."""


class _Sections(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    accented: dict[str, str] = {}
    abbreviations: dict[str, str] = {}
    regional: dict[str, str] = {}
    voice: dict[str, str] = {}

    @field_validator(*_SECTIONS)
    @classmethod
    def _clean(cls, lines: dict[str, str]) -> dict[str, str]:
        cleaned: dict[str, str] = {}
        for key, value in lines.items():
            key_n, value_n = _squeeze(key).lower(), _squeeze(value).lower()
            if not key_n or not value_n:
                raise ValueError(f"line {key!r}: key and meaning must not be empty")
            if not re.fullmatch(r"[\w ]+", key_n):
                raise ValueError(f"line {key!r}: use letters, digits and spaces only")
            cleaned[key_n] = value_n
        return cleaned


def _squeeze(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


# Spelling rules that need patterns rather than word lists (kept in code on purpose: officers
# extend words, not regular expressions).
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bv\s?n\s?e\s?i\s?d+\b|\bvn\s?id\b|\bvnied\b|\bvneld\b", "vneid"),
        (r"\b(?:muc|cap) do\b", "muc"),  # "mức độ 2", "cấp độ 2" → "mức 2"
        (r"\bm(?:uc)?\s?([1-4])\b", r"muc \1"),  # "m2", "muc2"
        (r"\bmuc (?:mot|i)\b", "muc 1"),
        (r"\bmuc (?:hai|ii)\b", "muc 2"),
        (r"\b(?:level|lv|lvl)\s?([1-4])\b", r"level \1"),
        (r"\bpass\s?code\b|\bpasscot\b", "passcode"),
        (r"\bdich\s?vu\s?cong\b", "dich vu cong"),
        (r"\bdichvucong(?:\.gov\.vn)?\b", "dichvucong dich vu cong"),
        (r"\bch\s?play\b|\bgoogle play\b|\bplay store\b", "chplay"),
        (r"\bapp\s?store\b", "appstore"),
        (r"\bo\s?t\s?p\b", "otp"),
        (r"\b6 so\b|\bsau so\b", "6 so"),
        (r"\b(\d{1,2})\s?t\b", r"\1 tuoi"),  # "14t" → "14 tuổi"
        # Central "mô" is "đâu" after a verb of place ("đi mô", "ở mô"); elsewhere "mo" is "mở".
        (r"\b(o|di|den|ra|len|ve) mo\b", r"\1 dau"),
        (r"\bbi nhi?e?u\b", "bao nhieu"),
    )
)

# Filler phrases that carry no topic; removed after expansion so rambling questions score fairly.
_FILLER = re.compile(
    r"\b(?:nhu the nao|lam the nao|the nao|lam sao|ra sao|kieu gi|kieu nao|cach nao|phai lam gi"
    r"|la cai gi|cai gi|la gi|la sao|co duoc khong|duoc khong|co phai"
    r"|cho toi hoi|cho em hoi|cho minh hoi|cho hoi|xin hoi|cam on|o dau|khong biet|lam gi"
    r"|nhu vay|the nay|how do i|how can i|how to|what is"
    r"|what s|is it)\b"
)
_PUNCT = re.compile(r"[^\w\s]|_")
# Folded "nha" is "nhà" (house) or the closing particle "nha" ("giúp em nha"): only the end is a particle.
_CLOSING_NHA = re.compile(r"\bnha\s*$")
# One folded Vietnamese syllable: onset, one to three vowels, coda. Telex leftovers ("kichs"), joined
# words ("kichhoat") and most English words ("phone", "forgot") never fit it.
SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")


def _alternation(keys: list[str]) -> re.Pattern[str] | None:
    """One whole-word pattern for many keys, longest first so phrases beat their own words."""
    if not keys:
        return None
    ordered = sorted(keys, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(k) for k in ordered) + r")(?!\w)")


class Vocabulary:
    """Officer-editable replacements, compiled once; `expand` turns a message into topic words."""

    def __init__(self, accented: dict[str, str], folded: dict[str, str]) -> None:
        self.accented = accented
        self.folded = folded
        self._accented_re = _alternation(list(accented))
        self._phrase_re = _alternation([k for k in folded if " " in k])
        self._rewritten: dict[str, str] = {}

    def rewrite(self, text: str) -> str:
        """The message with every known way of writing replaced, folded (no diacritics)."""
        # Reading one message rewrites the same text several times (intent, matching, clauses).
        cached = self._rewritten.get(text)
        if cached is None:
            if len(self._rewritten) >= _CACHE_SIZE:
                self._rewritten.clear()
            cached = self._rewritten[text] = self._rewrite(text)
        return cached

    def _rewrite(self, text: str) -> str:
        lowered = unicodedata.normalize("NFC", text.lower())
        if self._accented_re is not None:
            lowered = self._accented_re.sub(lambda m: self.accented[m.group(0)], lowered)
        folded = _PUNCT.sub(" ", fold(lowered))
        for pattern, replacement in _RULES:
            folded = pattern.sub(replacement, folded)
        if self._phrase_re is not None:
            folded = self._phrase_re.sub(lambda m: self.folded[m.group(0)], folded)
        words = " ".join(self.folded.get(word, word) for word in folded.split())
        for pattern, replacement in _RULES:
            words = pattern.sub(replacement, words)
        return words

    def expand(self, text: str) -> tuple[str, ...]:
        """Topic-bearing words of a message: rewritten, filler phrases and closing particles gone."""
        expanded = _FILLER.sub(" ", self.rewrite(text))
        expanded = _CLOSING_NHA.sub(" ", expanded)
        return tuple(w for part in expanded.split() for w in _LETTER_DIGIT.sub(" ", part).split() if w)

    def glued(self) -> set[str]:
        """Pairs "word_synonym" made by expansions like "online" → "online truc tuyen"."""
        return {f"{key}_{value.split()[1]}" for key, value in self.folded.items()
                if " " not in key and value.startswith(f"{key} ")}


def load_vocabulary(path: str | Path = VOCABULARY_FILE) -> Vocabulary:
    """Read and check the vocabulary file; raise VocabularyError naming the fault."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
        sections = _Sections.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise VocabularyError(f"{file}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"[{'.'.join(str(p) for p in err['loc'])}]: {err['msg']}" for err in exc.errors())
        raise VocabularyError(f"{file}: {problems}") from exc
    folded: dict[str, str] = {}
    for section in _SECTIONS[1:]:
        for key, value in getattr(sections, section).items():
            key_f = fold(key)
            if not _FOLDED_KEY.fullmatch(key_f):
                raise VocabularyError(f"{file}: [{section}] {key!r}: use letters, digits and spaces only")
            if key_f in folded:
                raise VocabularyError(f"{file}: [{section}] {key!r}: written twice")
            if fold(value) == key_f:
                raise VocabularyError(f"{file}: [{section}] {key!r}: means itself")
            folded[key_f] = fold(value)
    return Vocabulary(accented=dict(sections.accented), folded=folded)


@cache
def default_vocabulary() -> Vocabulary:
    """The project's vocabulary file, loaded once per process."""
    return load_vocabulary()
