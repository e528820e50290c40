"""The current time, injectable so tests and the demo never depend on the real clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)


def week_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """Monday 00:00 of the local week that holds `moment`, as an aware UTC datetime."""
    local = moment.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0), tzinfo=tz).astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar date at `moment` in a time zone."""
    return moment.astimezone(tz).date()
