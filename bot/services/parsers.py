"""Reading what volunteers type in a flow: stop words, dates and weekdays, activation sentences.

Hand-written on purpose: the phrases are few, mostly Vietnamese without diacritics ("t6", "dc",
"kich hoat") and no date or NLP library reads them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.services.names import has_diacritics, same_name
from bot.textnorm import fold, parse_count, parse_yes_no

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


# Menu words typed where a name was expected ("kích hoạt", "menu"): never a person's name.
_COMMAND_WORDS = frozenset({"menu", "help", "start", "tro giup", "kich hoat", "ghi kich hoat",
                            "huong dan", "ghi luot huong dan", "sua", "sua lai", "tien do",
                            "luu", "xong", "cancel", "ok"})


def looks_like_command(text: str) -> bool:
    """A command, a stop word or a menu word rather than what the step asked for."""
    typed = text.strip(_PUNCTUATION)
    return (text.strip().startswith("/") or stop_intent(typed) is Stop.YES
            or fold(typed) in _COMMAND_WORDS)


# -- dates ------------------------------------------------------------------------------------
# Weekday words after "thứ" (or "t"): Monday is "thứ hai" (2) … Saturday "thứ bảy" (7).
_THU = {"2": 0, "hai": 0, "3": 1, "ba": 1, "4": 2, "tu": 2, "bon": 2, "5": 3, "nam": 3,
        "6": 4, "sau": 4, "7": 5, "bay": 5}
_ENGLISH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(
    r"^(?:(?:thu|t) ?(?P<thu>[2-7]|hai|ba|tu|bon|nam|sau|bay)|(?P<cn>chu nhat|cn)"
    r"|(?P<next>next )?(?P<en>mon|tue|wed|thu|fri|sat|sun)[a-z]*)"
    r"(?: (?P<week>tuan sau|tuan toi|tuan nay|nay))?$")
_NUMERIC = re.compile(r"^(\d{1,2})\s*(?:[/.\-]|thang)\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2,4}))?$")
_IN_DAYS = re.compile(r"^(?:(?:sau|in) )?(\w+) (?:ngay|hom|days?)(?: nua| toi)?$")
_RELATIVE = {"mai": 1, "ngay mai": 1, "sang mai": 1, "chieu mai": 1, "tomorrow": 1,
             "kia": 2, "ngay kia": 2, "mot": 2, "ngay mot": 2, "day after tomorrow": 2,
             "hom nay": 0, "today": 0,
             "tuan sau": 7, "tuan toi": 7, "next week": 7, "in a week": 7, "1 tuan nua": 7}
_FILLERS = re.compile(r"^(?:hen |quay lai |vao |ngay (?=\d)|on )|(?: nhe| nha| a| nhe ban)$")


def parse_day(text: str, today: date, *, ahead: int = 366) -> date | None:
    """A day typed the way volunteers say it: "thứ 6", "t6", "mai", "tuần sau", "thứ hai tuần
    sau", "15/12", "15-12" (also with diacritics, or in English); None when unreadable.

    A day/month without a year that has passed this year means next year only when that is
    within `ahead` days; otherwise it stays in the past, so the caller can say it has passed.
    """
    raw = text.strip()
    try:
        return date.fromisoformat(raw)  # from a button
    except ValueError:
        pass
    folded = fold(raw).strip(_PUNCTUATION)
    for _round in range(3):
        folded = _FILLERS.sub("", folded).strip()
    if folded in _RELATIVE:
        return today + timedelta(days=_RELATIVE[folded])
    if (match := _IN_DAYS.match(folded)) and (count := parse_count(match.group(1))) is not None:
        return today + timedelta(days=count)
    if match := _WEEKDAY.match(folded):
        return _weekday(match, today)
    if match := _NUMERIC.match(folded):
        return _day_month(match, today, ahead)
    return None


def _weekday(match: re.Match[str], today: date) -> date:
    if match["thu"]:
        weekday = _THU[match["thu"]]
    elif match["cn"]:
        weekday = 6
    else:
        weekday = [d[:3] for d in _ENGLISH_DAYS].index(match["en"])
    monday = today - timedelta(days=today.weekday())
    if match["week"] in ("tuan sau", "tuan toi") or match["next"]:
        return monday + timedelta(days=7 + weekday)
    if match["week"] in ("tuan nay", "nay"):
        return monday + timedelta(days=weekday)
    # A weekday alone is the next one to come: "thứ 6" said on a Friday is next Friday.
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _day_month(match: re.Match[str], today: date, ahead: int) -> date | None:
    day, month, year = match.groups()
    year_value = (int(year) + (2000 if len(year) == 2 else 0)) if year else today.year
    try:
        found = date(year_value, int(month), int(day))
    except ValueError:
        return None
    if year is None and found < today:
        # "05/01" typed in December means next January; "15/11" typed on 20/11 has passed.
        try:
            later = found.replace(year=found.year + 1)
        except ValueError:  # 29/02
            return found
        if (later - today).days <= ahead:
            return later
    return found


# -- activation sentences ---------------------------------------------------------------------
@dataclass(frozen=True)
class ActivationNote:
    """What a free sentence says about an activation; None where it says nothing."""

    household: str | None = None  # the name after "hộ", "nhà", as typed (diacritics kept)
    level2: int | None = None
    activated: int | None = None
    capable: bool | None = None

    def counts(self) -> dict[str, int | bool]:
        """The counts that were said, keyed like the activation flow's data."""
        said = {"level2": self.level2, "activated": self.activated, "capable": self.capable}
        return {key: value for key, value in said.items() if value is not None}


_HONORIFIC = r"(?:ong|ba|anh|chi|co|chu|bac|cu|em|di|duong|thim|mo|cau|o)"
_HOUSEHOLD = re.compile(
    rf"\b(?:ho|nha|gia dinh)\s+(?:{_HONORIFIC}\s+)?(?P<name>[^\W\d_][^\W\d_ ]*"
    r"(?:\s+[^\W\d_][^\W\d_ ]*){0,3}?)"
    r"(?=\s*(?:$|[,.;:!?…()\-]|\s(?:kich|dang|da|duoc|dc|co|vua|moi|hom|roi|\d)))")
_NUM = r"(\d{1,2}|mot|hai|ba|bon|tu|nam|sau|bay|tam|chin|muoi)"
_PEOPLE = r"(?: (?:nguoi|tai khoan|tk|thanh vien|tv|ca nhan|people|persons?|accounts?))?"
_SOFT = r"(?: (?:da|duoc|dc|moi|vua|them|cho|xong|roi|were|was|newly))*"
_L2 = re.compile(r"\b(?:(?:dang ky|dk|dky)\s+)?(?:tai khoan\s+|tk\s+)?(?:dinh danh\s+)?"
                 r"(?:muc|level|lv)\s*2\b")
_REGISTER = r"(?:dang ky|dky|dk|L2|registered|registrations?)"
_ACTIVATE = r"(?:kich hoat|activated|activations?)"
_CAPABLE_NO = re.compile(r"\b(?:chua|khong|ko|chang|cannot|can't|not)\b(?: (?:biet|the|duoc|dc|"
                         r"yet))* (?:dung|su dung|xai|use)\b")
_CAPABLE_YES = re.compile(r"\b(?:dung|su dung|xai)(?: (?:duoc|dc|roi|ok|tot|thao))+\b|"
                          r"\bbiet (?:dung|su dung|xai)\b|\bcan use\b")


def _aligned_fold(text: str) -> str:
    """fold() that keeps every character in place, so a match can be cut from the original."""
    return "".join(fold(ch) or " " if not ch.isspace() else " " for ch in text)


def _count(text: str, subject: str) -> int | None:
    for pattern in (rf"\b{_NUM}{_PEOPLE}{_SOFT} {subject}\b",
                    rf"\b{subject}(?: L2)?{_SOFT} {_NUM}\b"):
        if (match := re.search(pattern, text)) and (n := parse_count(match.group(1))) is not None:
            return n
    return None


def parse_activation(text: str) -> ActivationNote:
    """Read "2 nguoi dang ky, 1 nguoi kich hoat, dung dc roi" or "Hộ bà Lan … kích hoạt được
    2 người": counts, whether the household can use VNeID now, and whose household it is."""
    original = unicodedata.normalize("NFC", text)
    aligned = _aligned_fold(original)
    household = None
    if match := _HOUSEHOLD.search(aligned):
        marker = original[match.start():match.start() + 2]
        # "Hồ" is a family name, not "hộ" (household): typed diacritics decide.
        if not has_diacritics(marker) or same_name(marker, "hộ") or fold(marker) != "ho":
            household = original[match.start("name"):match.end("name")].strip()
            aligned = aligned[:match.start()] + " " + aligned[match.end():]
    folded = " ".join(_L2.sub(" L2 ", aligned).replace(",", " , ").split())
    capable: bool | None = None
    if _CAPABLE_NO.search(folded):
        capable = False
    elif _CAPABLE_YES.search(folded):
        capable = True
    else:  # a clause of its own: "…, co" or "…; chua"
        for clause in re.split(r"[,;.]", folded):
            if clause.strip() and (answer := parse_yes_no(clause)) is not None:
                capable = answer
    return ActivationNote(household, _count(folded, _REGISTER), _count(folded, _ACTIVATE),
                          capable)


def parse_capable(text: str) -> bool | None:
    """Yes/no to "can the household use VNeID now": "có", "chưa", "dùng được rồi", "chua biet"."""
    return parse_yes_no(text) if parse_yes_no(text) is not None else \
        parse_activation(text).capable
