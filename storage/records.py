"""The records aggregate: activations and guidance visits volunteers log, and their counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from bot.models import Activation, Entry, HamletCounts, Outcome, Visit
from storage.engine import Database, Row, insert_returning_row
from storage.values import as_date, as_datetime


def _ts(value: datetime) -> str:
    return value.isoformat()


def _activation(row: Row) -> Activation:
    return Activation(
        id=row["id"], household_id=row["household_id"], member_id=row["member_id"],
        hamlet_code=row["hamlet_code"], level2_registered=row["level2_registered"],
        activated=row["activated"], household_capable=bool(row["household_capable"]),
        recorded_at=as_datetime(row["recorded_at"]),
    )


def _visit(row: Row) -> Visit:
    return Visit(
        id=row["id"], household_id=row["household_id"], member_id=row["member_id"],
        hamlet_code=row["hamlet_code"], topics=tuple(row["topics"].split(",")),
        outcome=Outcome(row["outcome"]),
        follow_up_on=as_date(row["follow_up_on"]) if row["follow_up_on"] else None,
        recorded_at=as_datetime(row["recorded_at"]),
    )


class RecordStore(Protocol):
    """Activations and visits: logged, voided, listed and counted."""

    async def add_activation(self, *, household_id: int, member_id: int, hamlet_code: str,
                             level2_registered: int, activated: int, household_capable: bool,
                             at: datetime, replaces_id: int | None = None) -> Activation: ...

    async def activation(self, activation_id: int) -> Activation | None: ...

    async def add_visit(self, *, household_id: int, member_id: int, hamlet_code: str,
                        topics: Sequence[str], outcome: Outcome, follow_up_on: date | None,
                        at: datetime, replaces_id: int | None = None) -> Visit: ...

    async def visit(self, visit_id: int) -> Visit | None: ...

    async def void_record(self, kind: str, record_id: int, member_id: int, at: datetime) -> bool: ...

    async def recent_entries(self, member_id: int, since: datetime, limit: int) -> list[Entry]: ...

    async def hamlet_counts(self, hamlet_codes: Sequence[str], *,
                            visits_since: datetime | None = None,
                            visits_until: datetime | None = None) -> dict[str, HamletCounts]: ...

    async def member_counts(self, member_id: int, since: datetime
                            ) -> tuple[int, int, int, int]: ...


class RecordRepository:
    """Every statement on the activations and visits tables; callers wrap writes in a
    transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_activation(self, *, household_id: int, member_id: int, hamlet_code: str,
                             level2_registered: int, activated: int, household_capable: bool,
                             at: datetime, replaces_id: int | None = None) -> Activation:
        return _activation(await insert_returning_row(
            self.db, "INSERT INTO activations (household_id, member_id, hamlet_code, level2_registered,"
            " activated, household_capable, recorded_at, replaces_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (household_id, member_id, hamlet_code, level2_registered, activated,
             int(household_capable), _ts(at), replaces_id)))

    async def activation(self, activation_id: int) -> Activation | None:
        row = await self.db.fetchone(
            "SELECT * FROM activations WHERE id = ? AND voided_at IS NULL", (activation_id,))
        return _activation(row) if row else None

    async def add_visit(self, *, household_id: int, member_id: int, hamlet_code: str,
                        topics: Sequence[str], outcome: Outcome, follow_up_on: date | None,
                        at: datetime, replaces_id: int | None = None) -> Visit:
        return _visit(await insert_returning_row(
            self.db, "INSERT INTO visits (household_id, member_id, hamlet_code, topics, outcome,"
            " follow_up_on, recorded_at, replaces_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (household_id, member_id, hamlet_code, ",".join(topics), outcome.value,
             follow_up_on.isoformat() if follow_up_on else None, _ts(at), replaces_id)))

    async def visit(self, visit_id: int) -> Visit | None:
        row = await self.db.fetchone(
            "SELECT * FROM visits WHERE id = ? AND voided_at IS NULL", (visit_id,))
        return _visit(row) if row else None

    async def void_record(self, kind: str, record_id: int, member_id: int, at: datetime) -> bool:
        """Void one of a member's own records; False if it was already voided or is not theirs."""
        table = {"activation": "activations", "visit": "visits"}[kind]
        cursor = await self.db.execute(
            f"UPDATE {table} SET voided_at = ?, voided_by = ?"
            " WHERE id = ? AND member_id = ? AND voided_at IS NULL",
            (_ts(at), member_id, record_id, member_id))
        return cursor.rowcount == 1

    async def recent_entries(self, member_id: int, since: datetime, limit: int) -> list[Entry]:
        """A member's own non-voided records since a moment, newest first."""
        # Each kind takes its newest `limit` rows straight from its (member_id, recorded_at)
        # index: a busy volunteer's week of records is never all read and sorted to show 6.
        rows = await self.db.fetchall(
            "SELECT kind, r.id, r.household_id, h.code, h.head_name, r.recorded_at, r.level2,"
            " r.activated, r.capable, r.topics, r.follow_up_on FROM ("
            "  SELECT * FROM (SELECT 'activation' AS kind, id, household_id, recorded_at,"
            "   level2_registered AS level2, activated, household_capable AS capable,"
            "   NULL AS topics, CAST(NULL AS DATE) AS follow_up_on FROM activations"
            "   WHERE member_id = ? AND voided_at IS NULL AND recorded_at >= ?"
            "   ORDER BY recorded_at DESC, id DESC LIMIT ?) AS a"
            "  UNION ALL"
            "  SELECT * FROM (SELECT 'visit', id, household_id, recorded_at, 0, 0, 0, topics,"
            "   follow_up_on FROM visits WHERE member_id = ? AND voided_at IS NULL"
            "   AND recorded_at >= ? ORDER BY recorded_at DESC, id DESC LIMIT ?) AS v"
            ") AS r JOIN households h ON h.id = r.household_id"
            " ORDER BY r.recorded_at DESC, r.id DESC LIMIT ?",
            (member_id, _ts(since), limit, member_id, _ts(since), limit, limit))
        return [Entry(kind=r[0], id=r[1], household_id=r[2], household_code=r[3],
                      head_name=r[4], recorded_at=as_datetime(r[5]),
                      level2_registered=r[6], activated=r[7], household_capable=bool(r[8]),
                      topics=tuple(r[9].split(",")) if r[9] else (),
                      follow_up_on=as_date(r[10]) if r[10] else None)
                for r in rows]

    async def hamlet_counts(self, hamlet_codes: Sequence[str], *,
                            visits_since: datetime | None = None,
                            visits_until: datetime | None = None) -> dict[str, HamletCounts]:
        """Logged totals per hamlet; visits only within [since, until) when given."""
        marks = ",".join("?" * len(hamlet_codes))
        codes = list(hamlet_codes)
        visit_sql = (f"SELECT hamlet_code, COUNT(*) AS n FROM visits WHERE voided_at IS NULL"
                     f" AND hamlet_code IN ({marks})")
        visit_params: list[Any] = list(codes)
        if visits_since is not None:
            visit_sql += " AND recorded_at >= ?"
            visit_params.append(_ts(visits_since))
        if visits_until is not None:
            visit_sql += " AND recorded_at < ?"
            visit_params.append(_ts(visits_until))
        act_rows, cap_rows, visit_rows = await self.db.batch([
            ("SELECT hamlet_code, SUM(level2_registered) AS l2, SUM(activated) AS act"
             f" FROM activations WHERE voided_at IS NULL AND hamlet_code IN ({marks})"
             " GROUP BY hamlet_code", codes),
            ("SELECT hamlet_code, COUNT(DISTINCT household_id) AS n FROM activations"
             f" WHERE voided_at IS NULL AND household_capable = 1 AND hamlet_code IN ({marks})"
             " GROUP BY hamlet_code", codes),
            (visit_sql + " GROUP BY hamlet_code", visit_params)])
        acts = {r["hamlet_code"]: r for r in act_rows.rows}
        caps = {r["hamlet_code"]: r["n"] for r in cap_rows.rows}
        visits = {r["hamlet_code"]: r["n"] for r in visit_rows.rows}
        return {
            code: HamletCounts(
                hamlet_code=code,
                capable_households=caps.get(code, 0),
                level2_registered=acts[code]["l2"] if code in acts else 0,
                activated=acts[code]["act"] if code in acts else 0,
                visits=visits.get(code, 0),
            )
            for code in codes
        }

    async def member_counts(self, member_id: int, since: datetime
                            ) -> tuple[int, int, int, int]:
        """(activation records, activated accounts, visits, level-2 registrations) a member
        logged since a moment."""
        act = await self.db.fetchone(
            "SELECT COUNT(*) AS n, COALESCE(SUM(activated), 0) AS a,"
            " COALESCE(SUM(level2_registered), 0) AS l2 FROM activations"
            " WHERE member_id = ? AND voided_at IS NULL AND recorded_at >= ?",
            (member_id, _ts(since)))
        vis = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM visits WHERE member_id = ? AND voided_at IS NULL"
            " AND recorded_at >= ?", (member_id, _ts(since)))
        assert act is not None and vis is not None
        return act["n"], act["a"], vis["n"], act["l2"]
