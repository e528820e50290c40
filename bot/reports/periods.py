"""Reporting periods (week, month, quarter) in a commune's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True)
class Period:
    """[start, end) in local dates; `until` is when figures were cut (now, or the period end)."""

    kind: PeriodKind
    key: str
    start: date
    end: date  # exclusive
    tz: ZoneInfo

    @property
    def since(self) -> datetime:
        """Start as an aware UTC moment."""
        return datetime.combine(self.start, time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def until(self) -> datetime:
        """End (exclusive) as an aware UTC moment."""
        return datetime.combine(self.end, time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def previous(self) -> Period:
        """The period just before this one."""
        return period_containing(self.kind, self.since - timedelta(seconds=1), self.tz)


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def period_containing(kind: PeriodKind, moment: datetime, tz: ZoneInfo) -> Period:
    """The week (Monday–Sunday), month or quarter holding `moment` in time zone `tz`."""
    day = moment.astimezone(tz).date()
    if kind is PeriodKind.WEEK:
        start = day - timedelta(days=day.weekday())
        year, week, _weekday = start.isocalendar()
        return Period(kind, f"{year}-W{week:02d}", start, start + timedelta(days=7), tz)
    if kind is PeriodKind.MONTH:
        start = date(day.year, day.month, 1)
        return Period(kind, f"{day.year}-{day.month:02d}", start,
                      _month_start(day.year, day.month + 1), tz)
    quarter = (day.month - 1) // 3 + 1
    start = date(day.year, 3 * quarter - 2, 1)
    return Period(kind, f"{day.year}-Q{quarter}", start,
                  _month_start(day.year, 3 * quarter + 1), tz)


def key_label(key: str) -> str:
    """A period key as people write it: "2026-11" → "11/2026", "2026-Q4" → "Q4/2026"."""
    year, _sep, rest = key.partition("-")
    return f"{rest}/{year}" if rest else key


def period_from_key(kind: PeriodKind, key: str, tz: ZoneInfo) -> Period:
    """Rebuild a period from its key ("2026-W47", "2026-11", "2026-Q4")."""
    year_text, rest = key.split("-", 1)
    year = int(year_text)
    if kind is PeriodKind.WEEK:
        start = date.fromisocalendar(year, int(rest.lstrip("W")), 1)
    elif kind is PeriodKind.MONTH:
        start = date(year, int(rest), 1)
    else:
        start = date(year, 3 * int(rest.lstrip("Q")) - 2, 1)
    return period_containing(kind, datetime.combine(start, time(12), tzinfo=tz), tz)
