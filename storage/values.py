"""Values as the engines hand them back: SQLite keeps ISO text, PostgreSQL typed values."""

from __future__ import annotations

from datetime import date, datetime


def ts(value: datetime) -> str:
    """A moment as a parameter: ISO text, which SQLite stores and PostgreSQL types itself."""
    return value.isoformat()


def as_datetime(value: str | datetime) -> datetime:
    """A stored moment (ISO text or timestamptz) as a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def as_date(value: str | date) -> date:
    """A stored day (ISO text or date) as a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def maybe_datetime(value: str | datetime | None) -> datetime | None:
    """Like as_datetime, for a column that may be empty."""
    return None if value is None else as_datetime(value)


def maybe_date(value: str | date | None) -> date | None:
    """Like as_date, for a column that may be empty."""
    return None if value in (None, "") else as_date(value)  # type: ignore[arg-type]
