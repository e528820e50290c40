"""The help desk aggregate: where citizens live, the questions handed to people, ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from storage.engine import Database, Row, insert_returning_id
from storage.values import as_datetime


def _ts(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class CitizenQuestion:
    id: int
    channel: str
    external_id: str
    chat_id: str
    commune_code: str
    hamlet_code: str | None
    text: str
    status: str
    created_at: datetime
    answered_by: int | None


def _question(row: Row) -> CitizenQuestion:
    return CitizenQuestion(row["id"], row["channel"], row["external_id"], row["chat_id"],
                           row["commune_code"], row["hamlet_code"], row["text"], row["status"],
                           as_datetime(row["created_at"]), row["answered_by"])

class HelpdeskStore(Protocol):
    """Citizens' homes, handed-over questions and ratings."""

    async def citizen_hamlet(self, channel: str, external_id: str) -> str | None: ...

    async def set_citizen_hamlet(self, channel: str, external_id: str, hamlet: str) -> None: ...

    async def add_question(self, *, channel: str, external_id: str, chat_id: str,
                           commune_code: str, hamlet_code: str | None, text: str,
                           at: datetime) -> CitizenQuestion: ...

    async def question(self, question_id: int) -> CitizenQuestion | None: ...

    async def answer_question(self, question_id: int, member_id: int, answer: str,
                              at: datetime) -> bool: ...

    async def open_questions(self, commune_code: str, hamlet_code: str | None = None,
                             limit: int = 20) -> list[CitizenQuestion]: ...

    async def rate(self, *, channel: str, external_id: str, subject: str, helpful: bool,
                   commune_code: str | None, at: datetime) -> bool: ...

    async def satisfaction(self, commune_code: str | None, since: datetime,
                           until: datetime) -> tuple[int, int]: ...


class HelpdeskRepository:
    """Citizens' homes, handed-over questions and ratings."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def citizen_hamlet(self, channel: str, external_id: str) -> str | None:
        row = await self.db.fetchone(
            "SELECT hamlet_code FROM citizen_profiles WHERE channel = ? AND external_id = ?",
            (channel, external_id))
        return row["hamlet_code"] if row else None

    async def set_citizen_hamlet(self, channel: str, external_id: str, hamlet: str) -> None:
        await self.db.execute(
            "INSERT INTO citizen_profiles (channel, external_id, hamlet_code) VALUES (?, ?, ?)"
            " ON CONFLICT(channel, external_id) DO UPDATE SET hamlet_code=excluded.hamlet_code",
            (channel, external_id, hamlet))

    async def add_question(self, *, channel: str, external_id: str, chat_id: str,
                           commune_code: str, hamlet_code: str | None, text: str,
                           at: datetime) -> CitizenQuestion:
        new_id = await insert_returning_id(
            self.db, "INSERT INTO citizen_questions (channel, external_id, chat_id, commune_code,"
            " hamlet_code, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (channel, external_id, chat_id, commune_code, hamlet_code, text, _ts(at)))
        question = await self.question(new_id)
        assert question is not None
        return question

    async def question(self, question_id: int) -> CitizenQuestion | None:
        row = await self.db.fetchone("SELECT * FROM citizen_questions WHERE id = ?",
                                     (question_id,))
        return _question(row) if row else None

    async def answer_question(self, question_id: int, member_id: int, answer: str,
                              at: datetime) -> bool:
        """Mark a question answered; False if someone answered it first."""
        cursor = await self.db.execute(
            "UPDATE citizen_questions SET status = 'answered', answered_by = ?,"
            " answered_at = ?, answer = ? WHERE id = ? AND status = 'open'",
            (member_id, _ts(at), answer, question_id))
        return cursor.rowcount == 1

    async def open_questions(self, commune_code: str, hamlet_code: str | None = None,
                             limit: int = 20) -> list[CitizenQuestion]:
        """Unanswered questions of a commune (or one hamlet), oldest first."""
        sql = "SELECT * FROM citizen_questions WHERE status = 'open' AND commune_code = ?"
        params: list[Any] = [commune_code]
        if hamlet_code is not None:
            sql += " AND (hamlet_code = ? OR hamlet_code IS NULL)"
            params.append(hamlet_code)
        rows = await self.db.fetchall(sql + " ORDER BY created_at, id LIMIT ?", [*params, limit])
        return [_question(r) for r in rows]

    async def rate(self, *, channel: str, external_id: str, subject: str, helpful: bool,
                   commune_code: str | None, at: datetime) -> bool:
        """Store a rating; False when this help was rated before (the first rating stands)."""
        cursor = await self.db.execute(
            "INSERT INTO ratings (channel, external_id, subject, helpful, commune_code, at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, external_id, subject) DO NOTHING",
            (channel, external_id, subject, int(helpful), commune_code, _ts(at)))
        return cursor.rowcount == 1

    async def satisfaction(self, commune_code: str | None, since: datetime,
                           until: datetime) -> tuple[int, int]:
        """(helpful, all) ratings in [since, until) for a commune (None: not yet placed too)."""
        row = await self.db.fetchone(
            "SELECT COALESCE(SUM(helpful), 0) AS good, COUNT(*) AS n FROM ratings"
            " WHERE commune_code IS NOT DISTINCT FROM ? AND at >= ? AND at < ?",
            (commune_code, _ts(since), _ts(until)))
        assert row is not None
        return int(row["good"]), int(row["n"])
