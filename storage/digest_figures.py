"""The digest's aggregates: one statement per measure for all the communes of a digest.

A province digest covers a thousand hamlets and a year of records, so every measure is computed
by SQLite in one statement over all hamlets at once (never one query per commune), each
statement reads only what the digest shows, and the partial indexes of migrations 005 and 008
let the period's windows be read from the index alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.models import HamletCounts
from storage.engine import Database
from storage.reports import FollowUp, HamletActivity, OfficeFigure, VolunteerActivity
from storage.values import as_date


def _ts(value: datetime) -> str:
    return value.isoformat()


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


@dataclass(frozen=True)
class Window:
    """The period so far [since, cut) and the same stretch of the period before."""

    since: datetime
    cut: datetime
    before_since: datetime
    before_until: datetime


@dataclass(frozen=True)
class HamletFigures:
    """One hamlet: totals up to the cut-off, what was logged in the period, visits before."""

    totals: HamletCounts
    logged: HamletActivity
    visits_before: int


@dataclass(frozen=True)
class WaitingFollowUps:
    """Households of a commune waiting for a promised return visit: how many, and the first."""

    count: int
    first: list[FollowUp]


class DigestFigures:
    """Aggregates behind a digest, for many communes at once."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # SQLite's way to keep an index out of a plan (a unary +) is an error on PostgreSQL,
        # whose planner weighs the indexes with statistics instead.
        self._no_index = "+" if db.engine == "sqlite" else ""

    async def hamlets(self, codes: Sequence[str], window: Window) -> dict[str, HamletFigures]:
        """Per hamlet: capable households, level-2 and activated totals up to the cut-off,
        what was logged in the period and visits in both windows (three statements)."""
        w = [_ts(window.since), _ts(window.before_since), _ts(window.before_until)]
        cut = _ts(window.cut)
        acts = await self.db.fetchall(
            "SELECT hamlet_code, SUM(level2_registered), SUM(activated),"
            " SUM(CASE WHEN recorded_at >= ?1 THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN recorded_at >= ?1 THEN level2_registered ELSE 0 END),"
            " SUM(CASE WHEN recorded_at >= ?1 THEN activated ELSE 0 END)"
            " FROM activations WHERE voided_at IS NULL AND recorded_at < ?4"
            f" AND hamlet_code IN ({_marks(codes)}) GROUP BY hamlet_code",
            [*w, cut, *codes])
        # A household is capable from its first capable record; "new" when that falls in the
        # period. Its partial index hands the records over grouped by hamlet and household;
        # the unary + keeps the planner from trading it for the by-date index.
        capable = await self.db.fetchall(
            "SELECT hamlet_code, COUNT(*), SUM(CASE WHEN first_at >= ?1 THEN 1 ELSE 0 END) FROM ("
            " SELECT hamlet_code, MIN(recorded_at) AS first_at FROM activations"
            f" WHERE voided_at IS NULL AND household_capable = 1 AND {self._no_index}recorded_at < ?4"
            f" AND hamlet_code IN ({_marks(codes)}) GROUP BY hamlet_code, household_id) AS firsts"
            " GROUP BY hamlet_code",
            [*w, cut, *codes])
        visits = await self.db.fetchall(
            "SELECT hamlet_code, SUM(CASE WHEN recorded_at >= ?1 THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN recorded_at < ?3 THEN 1 ELSE 0 END) FROM visits"
            " WHERE voided_at IS NULL AND recorded_at >= ?2 AND recorded_at < ?4"
            f" AND hamlet_code IN ({_marks(codes)}) GROUP BY hamlet_code",
            [*w, cut, *codes])
        act_by = {r[0]: r for r in acts}
        cap_by = {r[0]: r for r in capable}
        vis_by = {r[0]: r for r in visits}
        result = {}
        for code in codes:
            a, c, v = act_by.get(code), cap_by.get(code), vis_by.get(code)
            visits_now = v[1] if v else 0
            result[code] = HamletFigures(
                totals=HamletCounts(code, capable_households=c[1] if c else 0,
                                    level2_registered=a[1] if a else 0,
                                    activated=a[2] if a else 0, visits=visits_now),
                logged=HamletActivity(
                    activation_records=a[3] if a else 0, level2_registered=a[4] if a else 0,
                    activated=a[5] if a else 0, newly_capable=c[2] if c else 0,
                    visits=visits_now),
                visits_before=v[2] if v else 0)
        return result

    async def logged_since(self, codes: Sequence[str], since: datetime, cut: datetime
                           ) -> tuple[int, int]:
        """(level-2 registered, activated) logged in these hamlets in [since, cut)."""
        row = await self.db.fetchone(
            "SELECT COALESCE(SUM(level2_registered), 0), COALESCE(SUM(activated), 0)"
            " FROM activations WHERE voided_at IS NULL AND recorded_at >= ? AND recorded_at < ?"
            f" AND hamlet_code IN ({_marks(codes)})", [_ts(since), _ts(cut), *codes])
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def volunteers(self, communes: Sequence[str], codes: Sequence[str], window: Window
                         ) -> dict[str, tuple[list[VolunteerActivity], int]]:
        """Per commune: who logged anything in the period (most active first) and how many
        of its volunteers logged nothing."""
        span = [_ts(window.since), _ts(window.cut)]
        rows = await self.db.fetchall(
            "WITH logged AS (SELECT member_id, SUM(a) AS acts, SUM(v) AS visits FROM ("
            "  SELECT member_id, 1 AS a, 0 AS v FROM activations WHERE voided_at IS NULL"
            f"   AND recorded_at >= ? AND recorded_at < ? AND hamlet_code IN ({_marks(codes)})"
            "  UNION ALL SELECT member_id, 0, 1 FROM visits WHERE voided_at IS NULL"
            f"   AND recorded_at >= ? AND recorded_at < ? AND hamlet_code IN ({_marks(codes)})"
            " ) AS logged_rows GROUP BY member_id)"
            " SELECT m.commune_code, m.id, m.display_name, m.hamlet_code,"
            " COALESCE(l.acts, 0) AS acts, COALESCE(l.visits, 0) AS visits"
            " FROM members m LEFT JOIN logged l ON l.member_id = m.id"
            f" WHERE m.commune_code IN ({_marks(communes)})"
            " AND (m.role = 'volunteer' OR l.member_id IS NOT NULL)"
            " ORDER BY acts + visits DESC, m.display_name",
            [*span, *codes, *span, *codes, *communes])
        result: dict[str, tuple[list[VolunteerActivity], int]] = {
            code: ([], 0) for code in communes}
        for r in rows:
            active, quiet = result[r[0]]
            if r[4] + r[5]:
                active.append(VolunteerActivity(r[1], r[2], r[3], r[4], r[5]))
            else:
                result[r[0]] = (active, quiet + 1)
        return result

    async def follow_ups(self, communes: Sequence[str], codes: Sequence[str], due_since: date,
                         first: int) -> dict[str, WaitingFollowUps]:
        """Per commune: households waiting for a promised return visit (not visited again
        since), how many and the `first` soonest due."""
        rows = await self.db.fetchall(
            "SELECT * FROM (SELECT hm.commune_code, v.id, h.code, h.head_name, v.hamlet_code,"
            " v.follow_up_on, m.id, m.display_name, v.topics,"
            " ROW_NUMBER() OVER (PARTITION BY hm.commune_code ORDER BY v.follow_up_on, h.code)"
            "  AS rank, COUNT(*) OVER (PARTITION BY hm.commune_code) AS waiting"
            " FROM visits v JOIN hamlets hm ON hm.code = v.hamlet_code"
            " JOIN households h ON h.id = v.household_id JOIN members m ON m.id = v.member_id"
            " WHERE v.voided_at IS NULL AND v.outcome = 'follow_up' AND v.follow_up_on >= ?"
            f" AND v.hamlet_code IN ({_marks(codes)}) AND NOT EXISTS (SELECT 1 FROM visits"
            " later WHERE later.household_id = v.household_id AND later.voided_at IS NULL"
            " AND later.recorded_at > v.recorded_at)) AS ranked WHERE rank <= ?",
            [due_since.isoformat(), *codes, first])
        result = {code: WaitingFollowUps(0, []) for code in communes}
        for r in rows:
            result[r[0]].first.append(FollowUp(r[1], r[2], r[3], r[4], as_date(r[5]),
                                               r[6], r[7], tuple(r[8].split(","))))
            result[r[0]] = WaitingFollowUps(r[10], result[r[0]].first)
        return result

    async def office_figures(self, communes: Sequence[str], periods: Sequence[str]
                             ) -> dict[tuple[str, str], list[OfficeFigure]]:
        """Office figures entered for these communes and months, keyed by (commune, month)."""
        rows = await self.db.fetchall(
            "SELECT commune_code, period, indicator, done, total FROM office_figures"
            f" WHERE commune_code IN ({_marks(communes)}) AND period IN ({_marks(periods)})",
            [*communes, *periods])
        result: dict[tuple[str, str], list[OfficeFigure]] = {}
        for r in rows:
            result.setdefault((r[0], r[1]), []).append(OfficeFigure(r[2], r[3], r[4]))
        return result

    async def open_questions(self, communes: Sequence[str]) -> dict[str, int]:
        """Citizens' questions waiting for a person's answer, per commune."""
        rows = await self.db.fetchall(
            "SELECT commune_code, COUNT(*) FROM citizen_questions WHERE status = 'open'"
            f" AND commune_code IN ({_marks(communes)}) GROUP BY commune_code", list(communes))
        return {r[0]: r[1] for r in rows}

    async def open_petitions(self, communes: Sequence[str]) -> dict[str, dict[date, int]]:
        """Citizens' petitions not closed yet, per commune and due day (overdue is judged
        against each commune's own date)."""
        rows = await self.db.fetchall(
            "SELECT commune_code, due_on, COUNT(*) FROM petitions"
            " WHERE status IN ('open', 'assigned', 'answered')"
            f" AND commune_code IN ({_marks(communes)}) GROUP BY commune_code, due_on",
            list(communes))
        found: dict[str, dict[date, int]] = {}
        for commune, due_on, n in rows:
            found.setdefault(commune, {})[as_date(due_on)] = n
        return found

    async def answer_ratings(self, communes: Sequence[str], window: Window
                             ) -> dict[str, tuple[int, int]]:
        """Citizens' ratings of the help desk's answers in the period: (helpful, all)."""
        rows = await self.db.fetchall(
            "SELECT commune_code, SUM(helpful), COUNT(*) FROM ratings WHERE at >= ? AND at < ?"
            f" AND commune_code IN ({_marks(communes)}) GROUP BY commune_code",
            [_ts(window.since), _ts(window.cut), *communes])
        return {r[0]: (r[1], r[2]) for r in rows}

