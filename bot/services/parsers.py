"""Reading what volunteers type in a flow: stop words, dates and weekdays, activation sentences.

Hand-written on purpose: the phrases are few, mostly Vietnamese without diacritics ("t6", "dc",
"kich hoat") and no date or NLP library reads them.
"""

from __future__ import annotations

from enum import StrEnum

from bot.services.names import has_diacritics, same_name
from bot.textnorm import fold

_PUNCTUATION = " .,!?…;:\"'()"


class Stop(StrEnum):
    """What a message means as a request to stop."""

    YES = "yes"
    MAYBE = "maybe"  # also a given name ("huy" may be Huy, "dung" may be Dũng)


_STOP_PHRASES = ("thôi", "thôi nhé", "thôi không ghi nữa", "hủy", "hủy bỏ", "bỏ", "dừng",
                 "dừng lại", "ngừng", "thoát", "stop", "cancel", "quit", "exit")
_STOP_FOLDED = frozenset(fold(p) for p in _STOP_PHRASES)
_STOP_NAMES = frozenset({"huy", "dung"})


def stop_intent(text: str) -> Stop | None:
    """Whether a whole message asks to stop: "thôi", "hủy", "dừng lại", "huy", "thoi"…"""
    typed = text.strip(_PUNCTUATION)
    if has_diacritics(typed):
        return Stop.YES if any(same_name(typed, p) for p in _STOP_PHRASES) else None
    folded = fold(typed)
    if folded in _STOP_NAMES:
        return Stop.MAYBE
    return Stop.YES if folded in _STOP_FOLDED else None
