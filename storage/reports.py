"""The reports aggregate: follow-ups waiting, office figures, and the rows digests are made of
(the measures themselves are in storage/digest_figures.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from storage.engine import Database
from storage.values import as_date


def _ts(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class HamletActivity:
    """What was logged in one hamlet within a period."""

    activation_records: int = 0
    level2_registered: int = 0
    activated: int = 0
    newly_capable: int = 0
    visits: int = 0


@dataclass(frozen=True)
class VolunteerActivity:
    member_id: int
    name: str
    hamlet_code: str | None
    activation_records: int
    visits: int


@dataclass(frozen=True)
class FollowUp:
    visit_id: int
    household_code: str
    head_name: str
    hamlet_code: str
    follow_up_on: date
    member_id: int
    member_name: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class VisitRow:
    recorded_at: datetime
    hamlet_code: str
    household_code: str
    head_name: str
    topics: tuple[str, ...]
    outcome: str
    follow_up_on: date | None
    member_name: str


@dataclass(frozen=True)
class OfficeFigure:
    indicator: str
    done: int
    total: int

class ReportStore(Protocol):
    """What digests, reminders and office figures read and write besides the measures."""

    async def waiting_follow_ups(self, codes: Sequence[str], *, due_on: date | None = None,
                                 due_since: date | None = None,
                                 member_id: int | None = None) -> list[FollowUp]: ...

    async def office_figures(self, commune_code: str, period: str
                             ) -> dict[str, OfficeFigure]: ...

    async def set_office_figure(self, commune_code: str, period: str, indicator: str,
                                done: int, total: int, member_id: int | None,
                                at: datetime) -> None: ...


class ReportRepository:
    """Queries behind digests, reminders and office figures."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _marks(codes: Sequence[str]) -> str:
        return ",".join("?" * len(codes))

    async def waiting_follow_ups(self, codes: Sequence[str], *, due_on: date | None = None,
                                 due_since: date | None = None,
                                 member_id: int | None = None) -> list[FollowUp]:
        """Follow-up visits not yet followed by a later visit to the household."""
        sql = (
            "SELECT v.id, h.code, h.head_name, v.hamlet_code, v.follow_up_on, m.id, "
            " m.display_name, v.topics FROM visits v JOIN households h ON h.id = v.household_id"
            " JOIN members m ON m.id = v.member_id WHERE v.voided_at IS NULL"
            f" AND v.outcome = 'follow_up' AND v.hamlet_code IN ({self._marks(codes)})"
            " AND NOT EXISTS (SELECT 1 FROM visits later WHERE later.household_id ="
            " v.household_id AND later.voided_at IS NULL AND later.recorded_at > v.recorded_at)")
        params: list[Any] = list(codes)
        if due_on is not None:
            sql += " AND v.follow_up_on = ?"
            params.append(due_on.isoformat())
        if due_since is not None:
            sql += " AND v.follow_up_on >= ?"
            params.append(due_since.isoformat())
        if member_id is not None:
            sql += " AND v.member_id = ?"
            params.append(member_id)
        rows = await self.db.fetchall(sql + " ORDER BY v.follow_up_on, h.code", params)
        return [FollowUp(r[0], r[1], r[2], r[3], as_date(r[4]), r[5], r[6],
                         tuple(r[7].split(","))) for r in rows]

    async def office_figures(self, commune_code: str, period: str) -> dict[str, OfficeFigure]:
        rows = await self.db.fetchall(
            "SELECT indicator, done, total FROM office_figures WHERE commune_code = ?"
            " AND period = ?", (commune_code, period))
        return {r[0]: OfficeFigure(r[0], r[1], r[2]) for r in rows}

    async def set_office_figure(self, commune_code: str, period: str, indicator: str,
                                done: int, total: int, member_id: int | None,
                                at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO office_figures (commune_code, period, indicator, done, total,"
            " entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(commune_code, period, indicator) DO UPDATE SET done=excluded.done,"
            " total=excluded.total, entered_by=excluded.entered_by,"
            " entered_at=excluded.entered_at",
            (commune_code, period, indicator, done, total, member_id, _ts(at)))
