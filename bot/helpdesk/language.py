"""Which language a citizen wrote in: Vietnamese, English, or another we do not answer in.

Hand-written on purpose: language-identification libraries are trained on full sentences with
diacritics and take short Vietnamese typed without marks ("quen mat khau", "tk bi khoa") for
another language. Here each word votes: a run of words with Vietnamese marks is one Vietnamese
vote (English writers borrow terms like "tạm trú"), an unmarked word by whether it can be a
Vietnamese syllable at all, with small lists for the words both languages share.
"""

from __future__ import annotations

import re
import unicodedata

from bot.helpdesk.vocabulary import SYLLABLE, word_set
from bot.textnorm import strip_telex

VIETNAMESE, ENGLISH, OTHER = "vi", "en", "other"
SUPPORTED = (VIETNAMESE, ENGLISH)

_VIETNAMESE_LETTERS = frozenset("ăâđêôơư")
_WORD = re.compile(r"[^\W\d_]+")
# Scripts of neighbours and visitors (Chinese, Japanese, Korean, Khmer, Lao, Thai, Cyrillic, Arabic…).
_OTHER_SCRIPT = re.compile(
    r"[\u0400-\u04ff\u0600-\u06ff\u0e00-\u0eff\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# English words that also fit the Vietnamese syllable shape, and so would not vote by shape.
_ENGLISH_SHORT = word_set(
    "i a my hi hey is it at am we he she you your our please help how what who why when where "
    "which can't cannot don't doesn't didn't won't isn't id ok no yes get got lost this has "
    "does his its thanks thank thx bye of if as us or says saying")
# Folded Vietnamese words that English also writes ("the" is thẻ/thế, "can" is cần, "to" is tờ);
# alone they vote for neither language, beside English words they count half for English.
_SHARED = word_set(
    "the can an to do me so no on it in ban ma ok id")
_SHARED_WEIGHT = 0.5
# Chat shorthand and names every Vietnamese speaker types; they are not English evidence.
_VIETNAMESE_SHORTHAND = word_set(
    "k ko kh khg dc dk dt sdt tk mk qmk cccd cmnd dvc dvcqg dvctt bhyt bhxh gplx lltp ntn vs "
    "r j z bn hs ks gks hkd ubnd dd ddt m1 m2 t e ad hok hem dzay dzo alo tt onl")
_NEUTRAL = word_set(
    "vneid otp app sms zalo facebook qr apk nfc pass passcode email wifi iphone android "
    "internet online bot chatbot")


def detect_language(text: str) -> str | None:
    """"vi", "en" or "other" for a message; None when nothing in it tells ("ok", "079…")."""
    if _OTHER_SCRIPT.search(text):
        return OTHER
    lowered = unicodedata.normalize("NFC", text.lower())
    votes = _votes(_WORD.findall(lowered.replace("'", "")))
    english = sum(weight for kind, weight in votes if kind == ENGLISH)
    vietnamese = sum(weight for kind, weight in votes if kind == VIETNAMESE)
    shared = sum(kind == _SHARED_KIND for kind, _ in votes)
    if english == vietnamese == 0:
        return None
    if english:
        english += _SHARED_WEIGHT * shared
    return ENGLISH if english > vietnamese else VIETNAMESE


_SHARED_KIND, _MARKED_KIND = "shared", "marked"


def _votes(words: list[str]) -> list[tuple[str, float]]:
    """Each word's language vote (kind, weight); a term quoted in Vietnamese counts once."""
    votes: list[tuple[str, float]] = []
    for word in words:
        if _marked(word):
            # Words with Vietnamese marks are Vietnamese; a run of them is one term, which English
            # writers borrow ("how do I register tạm trú", "the sổ đỏ"): one vote per run.
            votes.append((_MARKED_KIND, 0.0 if votes and votes[-1][0] == _MARKED_KIND else 1.0))
        elif word in _NEUTRAL:
            continue
        elif word in _SHARED:
            votes.append((_SHARED_KIND, 0.0))
        elif word in _VIETNAMESE_SHORTHAND:
            votes.append((VIETNAMESE, 1.0))
        elif word in _ENGLISH_SHORT or not (SYLLABLE.fullmatch(word) or _telex_leftover(word)):
            votes.append((ENGLISH, 1.0))
        else:
            # Telex leftovers are likelier Vietnamese, but "keeps" fits too.
            votes.append((VIETNAMESE, 1.0 if SYLLABLE.fullmatch(word) else 0.5))
    # Unmarked syllables between English words are a term quoted from the app too ("VNeID says
    # tai khoan da bi khoa. what can I do?"): the run counts as one vote.
    i = 0
    while i < len(votes):
        j = i
        while j < len(votes) and votes[j][0] in (VIETNAMESE, _SHARED_KIND):
            j += 1
        if i > 0 and j < len(votes) and votes[i - 1][0] == votes[j][0] == ENGLISH \
                and sum(kind == VIETNAMESE for kind, _ in votes[i:j]) > 1:
            votes[i:j] = [(VIETNAMESE, 1.0)]
            j = i + 1
        i = max(j, i + 1)
    return [(VIETNAMESE if kind == _MARKED_KIND else kind, weight) for kind, weight in votes]


def _marked(word: str) -> bool:
    """True for a word written with Vietnamese letters or tone marks."""
    return bool(_VIETNAMESE_LETTERS.intersection(word)) or any(
        unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", word))


_TELEX_MARKS = re.compile(r"dd|aa|ee|oo|ow|aw|uw")


def _telex_leftover(word: str) -> bool:
    """A Vietnamese syllable typed with unconverted Telex keys ("kichs", "dduowcj"). Only doubled
    letters or a closing tone key count: "next" or "year" must not pass for Telex."""
    marked = bool(_TELEX_MARKS.search(word)) or word[-1] in "sfjx"
    return marked and SYLLABLE.fullmatch(strip_telex(word)) is not None
