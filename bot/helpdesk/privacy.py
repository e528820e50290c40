"""Citizen ID numbers typed into the help desk: found, cut out, never kept or echoed.

Every use in the help desk goes through `redact_ids`, so the detector can be swapped for the
project-wide one in one place. Dossier codes (`000.00.21.H40-250918-0012`), phone numbers and dates
are numbers citizens are right to type; they are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Zero-width characters people paste along with numbers; they must not hide an ID.
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
# A dossier code: agency digits, a letter-digit unit code, a date and a serial number.
_DOSSIER = re.compile(r"\b\d{3}\.\d{2}\.\d{2}\.[A-Za-z]\d{2}-\d{6}-\d{4}\b")
# Dates (15/09/2025, 15-9-25, 2025-09-15): never an ID, even next to other digits.
_DATE = re.compile(r"(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2})(?!\d)")
# A run of digit groups joined by the separators people type inside one number.
_NUMBER = re.compile(r"(?<![\w.])\+?\d+(?:(?:[ .\-/_,]{1,2})\d+)*")
_ID_DIGITS = 12


@dataclass(frozen=True)
class Redacted:
    """The message without ID-like numbers, and whether one was removed."""

    text: str
    found: bool


def _is_phone(digits: str, raw: str) -> bool:
    """Vietnamese phone numbers: 0 + 9 digits, or +84/84 + 9 digits."""
    return (len(digits) == 10 and digits.startswith("0")) or (
        len(digits) == 11 and digits.startswith("84")) or raw.startswith("+")


def redact_ids(text: str) -> Redacted:
    """Cut every 12-digit citizen-ID-like number out of `text` (dossier codes, phones, dates kept)."""
    visible = _INVISIBLE.sub("", text)
    protected: list[str] = []

    def protect(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        return f"\x00{len(protected) - 1}\x00"

    masked = _DATE.sub(protect, _DOSSIER.sub(protect, visible))
    found = False

    def cut(match: re.Match[str]) -> str:
        nonlocal found
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        groups = re.split(r"[ .\-/_,]{1,2}", raw.lstrip("+"))
        if len(digits) == _ID_DIGITS and not _is_phone(digits, raw):
            found = True
            return " "
        if len(digits) > _ID_DIGITS and len(groups) > 1:
            # Several numbers typed in a row: look at each group alone and at neighbours joined.
            return " ".join(cut_part(part) for part in _split_ids(groups))
        return raw

    def cut_part(part: str) -> str:
        nonlocal found
        if len(part) == _ID_DIGITS:
            found = True
            return " "
        return part

    masked = _NUMBER.sub(cut, masked)
    restored = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], masked)
    return Redacted(" ".join(restored.split()) if found else text, found)


def _split_ids(groups: list[str]) -> list[str]:
    """Join neighbouring digit groups greedily into 12-digit runs where they fit exactly."""
    parts: list[str] = []
    i = 0
    while i < len(groups):
        joined, j = "", i
        while j < len(groups) and len(joined) < _ID_DIGITS:
            joined += groups[j]
            j += 1
        if len(joined) == _ID_DIGITS:
            parts.append(joined)
            i = j
        else:
            parts.append(groups[i])
            i += 1
    return parts
