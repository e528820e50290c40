"""Citizen ID numbers typed into the help desk: found, cut out, never kept or echoed.

Every use in the help desk goes through `redact_ids`; the detector is the project-wide one
(`bot.textnorm`), which also finds IDs typed with " - ", non-breaking spaces, direction marks,
fullwidth digits or glued to a word ("cccd001203004567"). Dossier codes
(`000.00.21.H40-250918-0012`), phone numbers and dates are numbers citizens are right to type;
they are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.textnorm import REDACTED, redact_citizen_ids


@dataclass(frozen=True)
class Redacted:
    """The message without ID-like numbers, and whether one was removed."""

    text: str
    found: bool


def redact_ids(text: str) -> Redacted:
    """Cut every 12-digit citizen-ID-like number out of `text` (dossier codes, phones, dates kept)."""
    redacted, found = redact_citizen_ids(text)
    if not found:
        return Redacted(text, False)
    # The question is read and matched without the number, so it leaves no mark behind.
    return Redacted(" ".join(redacted.replace(REDACTED, " ").split()), True)
