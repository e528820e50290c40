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
    "does his its thanks thank thx bye of if as us or")
# Folded Vietnamese words that English also writes ("the" is thẻ/thế, "can" is cần, "to" is tờ);
# alone they vote for neither language, beside English words they count half for English.
_SHARED = word_set(
    "the can an to do me so no on it in ban ma ok id")
_SHARED_WEIGHT = 0.5
# Chat shorthand and names every Vietnamese speaker types; they are not English evidence.
_VIETNAMESE_SHORTHAND = word_set(
    "k ko kh khg dc dk dt sdt tk mk qmk cccd cmnd dvc dvcqg dvctt bhyt bhxh gplx lltp ntn vs "
    "r j z bn hs ks gks hkd ubnd dd ddt m1 m2 t e ad hok hem dzay dzo alo")
_NEUTRAL = word_set(
    "vneid otp app sms zalo facebook qr apk nfc pass passcode email wifi iphone android "
    "internet online bot chatbot")


def detect_language(text: str) -> str | None:
    """"vi", "en" or "other" for a message; None when nothing in it tells ("ok", "079…")."""
    if _OTHER_SCRIPT.search(text):
        return OTHER
    lowered = unicodedata.normalize("NFC", text.lower())
    english = vietnamese = 0.0
    shared = 0
    in_term = False
    for word in _WORD.findall(lowered.replace("'", "")):
        # Words with Vietnamese marks are Vietnamese; a run of them is one term, which English
        # writers borrow ("how do I register tạm trú", "the sổ đỏ"): one vote per run.
        if _marked(word):
            vietnamese += not in_term
            in_term = True
            continue
        in_term = False
        if word in _NEUTRAL:
            continue
        if word in _SHARED:
            shared += 1
            continue
        if word in _VIETNAMESE_SHORTHAND:
            vietnamese += 1
        elif word in _ENGLISH_SHORT or not (SYLLABLE.fullmatch(word) or _telex_leftover(word)):
            english += 1
        elif not SYLLABLE.fullmatch(word):
            vietnamese += 0.5  # Telex leftovers are likelier Vietnamese, but "keeps" fits too
        else:
            vietnamese += 1
    if english == vietnamese == 0:
        return None
    if english:
        english += _SHARED_WEIGHT * shared
    return ENGLISH if english > vietnamese else VIETNAMESE


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
