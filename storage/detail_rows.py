"""The digest's detail rows (every visit, activation, follow-up, question, petition), streamed.

The workbook lists every record of the period; for a province that is tens of thousands of rows,
so they are read row by row while the workbook is written, never gathered in a list. Rendering
runs in a worker thread: it reads through its own connection (SQLite: read-only, a snapshot
under WAL; PostgreSQL: a server-side cursor), which neither waits for nor blocks the bot's writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage.engine import is_postgres
from storage.reports import FollowUp, VisitRow
from storage.values import as_date, as_datetime, maybe_date, maybe_datetime


@dataclass(frozen=True)
class ActivationRow:
    recorded_at: datetime
    hamlet_code: str
    household_code: str
    head_name: str
    level2_registered: int
    activated: int
    household_capable: bool
    member_name: str


@dataclass(frozen=True)
class QuestionRow:
    created_at: datetime
    hamlet_code: str | None
    text: str
    answered_at: datetime | None


@dataclass(frozen=True)
class PetitionRow:
    ref: str
    created_at: datetime
    hamlet_code: str | None
    text: str
    status: str
    due_on: date
    answered_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class CommuneWindow:
    """What one commune's detail rows cover: its hamlets and the period up to the cut-off."""

    commune_code: str
    hamlet_codes: tuple[str, ...]
    since: datetime
    cut: datetime
    follow_ups_due_since: date


def _marks(values: tuple[str, ...]) -> str:
    return ",".join("?" * len(values))


class StoredDetailRows:
    """Detail rows of a digest, read from the database (a SQLite file or a PostgreSQL URL) when
    they are iterated."""

    def __init__(self, target: str, windows: list[CommuneWindow]) -> None:
        self.target = target
        self.windows = windows

    def _rows(self, sql: str, params: list[object]) -> Iterator[Any]:
        if is_postgres(self.target):
            yield from self._postgres_rows(sql, params)
            return
        conn = sqlite3.connect(f"file:{self.target}?mode=ro", uri=True, check_same_thread=False)
        try:
            yield from conn.execute(sql, params)
        finally:
            conn.close()

    def _postgres_rows(self, sql: str, params: list[object]) -> Iterator[Any]:
        import psycopg

        from storage.postgres import translate

        with psycopg.connect(self.target) as conn, conn.cursor(name="detail_rows") as cursor:
            cursor.execute(*translate(sql, params))
            yield from cursor

    def visits(self, commune_code: str) -> Iterator[VisitRow]:
        """The period's visits in a commune, oldest first."""
        w = self._window(commune_code)
        for r in self._rows(
                "SELECT v.recorded_at, v.hamlet_code, h.code, h.head_name, v.topics, v.outcome,"
                " v.follow_up_on, m.display_name FROM visits v"
                " JOIN households h ON h.id = v.household_id JOIN members m ON m.id = v.member_id"
                " WHERE v.voided_at IS NULL AND v.recorded_at >= ? AND v.recorded_at < ?"
                f" AND v.hamlet_code IN ({_marks(w.hamlet_codes)}) ORDER BY v.recorded_at",
                [w.since.isoformat(), w.cut.isoformat(), *w.hamlet_codes]):
            yield VisitRow(as_datetime(r[0]), r[1], r[2], r[3],
                           tuple(r[4].split(",")), r[5], maybe_date(r[6]), r[7])

    def activations(self, commune_code: str) -> Iterator[ActivationRow]:
        """The period's activation entries in a commune, oldest first."""
        w = self._window(commune_code)
        for r in self._rows(
                "SELECT a.recorded_at, a.hamlet_code, h.code, h.head_name, a.level2_registered,"
                " a.activated, a.household_capable, m.display_name FROM activations a"
                " JOIN households h ON h.id = a.household_id JOIN members m ON m.id = a.member_id"
                " WHERE a.voided_at IS NULL AND a.recorded_at >= ? AND a.recorded_at < ?"
                f" AND a.hamlet_code IN ({_marks(w.hamlet_codes)}) ORDER BY a.recorded_at",
                [w.since.isoformat(), w.cut.isoformat(), *w.hamlet_codes]):
            yield ActivationRow(as_datetime(r[0]), r[1], r[2], r[3], r[4], r[5],
                                bool(r[6]), r[7])

    def follow_ups(self, commune_code: str) -> Iterator[FollowUp]:
        """Households of a commune still waiting for a promised return visit, soonest first."""
        w = self._window(commune_code)
        for r in self._rows(
                "SELECT v.id, h.code, h.head_name, v.hamlet_code, v.follow_up_on, m.id,"
                " m.display_name, v.topics FROM visits v"
                " JOIN households h ON h.id = v.household_id JOIN members m ON m.id = v.member_id"
                " WHERE v.voided_at IS NULL AND v.outcome = 'follow_up' AND v.follow_up_on >= ?"
                f" AND v.hamlet_code IN ({_marks(w.hamlet_codes)}) AND NOT EXISTS (SELECT 1"
                " FROM visits later WHERE later.household_id = v.household_id"
                " AND later.voided_at IS NULL AND later.recorded_at > v.recorded_at)"
                " ORDER BY v.follow_up_on, h.code",
                [w.follow_ups_due_since.isoformat(), *w.hamlet_codes]):
            yield FollowUp(r[0], r[1], r[2], r[3], as_date(r[4]), r[5], r[6],
                           tuple(r[7].split(",")))

    def questions(self, commune_code: str) -> Iterator[QuestionRow]:
        """Citizens' questions handed to people: asked in the period, or still waiting."""
        w = self._window(commune_code)
        for r in self._rows(
                "SELECT created_at, hamlet_code, text, answered_at FROM citizen_questions"
                " WHERE commune_code = ? AND created_at < ?"
                " AND (status = 'open' OR created_at >= ?) ORDER BY created_at",
                [commune_code, w.cut.isoformat(), w.since.isoformat()]):
            yield QuestionRow(as_datetime(r[0]), r[1], r[2],
                              maybe_datetime(r[3]))

    def petitions(self, commune_code: str) -> Iterator[PetitionRow]:
        """Citizens' petitions: received in the period, or not closed at its end."""
        w = self._window(commune_code)
        for r in self._rows(
                "SELECT ref, created_at, hamlet_code, text, status, due_on, answered_at, closed_at"
                " FROM petitions WHERE commune_code = ? AND created_at < ?"
                " AND (created_at >= ? OR closed_at IS NULL OR closed_at >= ?)"
                " ORDER BY created_at",
                [commune_code, w.cut.isoformat(), w.since.isoformat(), w.cut.isoformat()]):
            yield PetitionRow(r[0], as_datetime(r[1]), r[2], r[3], r[4], as_date(r[5]),
                              maybe_datetime(r[6]), maybe_datetime(r[7]))

    def _window(self, commune_code: str) -> CommuneWindow:
        return next(w for w in self.windows if w.commune_code == commune_code)
