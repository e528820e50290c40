"""SQL for citizens' feedback and petitions (phản ánh, kiến nghị)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage.engine import Database, Row
from storage.values import as_date, as_datetime

OPEN_STATUSES = ("open", "assigned", "answered")


@dataclass(frozen=True)
class Petition:
    """One phản ánh/kiến nghị and where it stands."""

    id: int
    ref: str
    channel: str
    external_id: str
    chat_id: str
    commune_code: str
    hamlet_code: str | None
    text: str
    photo_file_id: str | None
    status: str
    created_at: datetime
    due_on: date
    assignee_id: int | None
    answer: str | None
    answered_at: datetime | None
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def _petition(row: Row) -> Petition:
    def moment(value: str | datetime | None) -> datetime | None:
        return as_datetime(value) if value else None

    return Petition(
        id=row["id"], ref=row["ref"], channel=row["channel"], external_id=row["external_id"],
        chat_id=row["chat_id"], commune_code=row["commune_code"], hamlet_code=row["hamlet_code"],
        text=row["text"], photo_file_id=row["photo_file_id"], status=row["status"],
        created_at=as_datetime(row["created_at"]),
        due_on=as_date(row["due_on"]), assignee_id=row["assignee_id"],
        answer=row["answer"], answered_at=moment(row["answered_at"]),
        closed_at=moment(row["closed_at"]))


class FeedbackRepository:
    """Petitions: add, find (always scoped by who asks), assign, answer, close, count."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, *, prefix: str, channel: str, external_id: str, chat_id: str,
                  commune_code: str, hamlet_code: str | None, text: str,
                  photo_file_id: str | None, at: datetime, due_on: date) -> Petition:
        """Store a petition with the next reference of its year (call inside a transaction)."""
        ref = f"{prefix}{await self._next_number(prefix):06d}"
        row = await self.db.fetchone(
            "INSERT INTO petitions (ref, channel, external_id, chat_id, commune_code,"
            " hamlet_code, text, photo_file_id, created_at, due_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (ref, channel, external_id, chat_id, commune_code, hamlet_code, text,
             photo_file_id, at.isoformat(), due_on.isoformat()))
        assert row is not None
        petition = await self.get(int(row[0]))
        assert petition is not None
        return petition

    async def _next_number(self, prefix: str) -> int:
        """The prefix's next number, taken atomically: concurrent transactions on other
        workers wait on the counter row and get the numbers after it. A prefix's first number
        continues after the petitions stored before this counter existed."""
        row = await self.db.fetchone(
            "INSERT INTO reference_counters (prefix, last)"
            " SELECT ?, COUNT(*) + 1 FROM petitions WHERE ref LIKE ?"
            " ON CONFLICT (prefix) DO UPDATE SET last = reference_counters.last + 1"
            " RETURNING last", (prefix, prefix + "%"))
        assert row is not None
        return int(row[0])

    async def get(self, petition_id: int) -> Petition | None:
        row = await self.db.fetchone("SELECT * FROM petitions WHERE id = ?", (petition_id,))
        return _petition(row) if row else None

    async def by_ref(self, ref: str) -> Petition | None:
        row = await self.db.fetchone("SELECT * FROM petitions WHERE ref = ?", (ref.upper(),))
        return _petition(row) if row else None

    async def of_sender(self, channel: str, external_id: str, limit: int = 10
                        ) -> list[Petition]:
        """A citizen's own petitions, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM petitions WHERE channel = ? AND external_id = ?"
            " ORDER BY created_at DESC, id DESC LIMIT ?", (channel, external_id, limit))
        return [_petition(r) for r in rows]

    async def open_in(self, commune_codes: Sequence[str] | None, *,
                      assignee_id: int | None = None, limit: int = 30) -> list[Petition]:
        """Petitions not closed yet, most urgent first; of some communes (None: all) or of one
        assignee."""
        sql = f"SELECT * FROM petitions WHERE status IN {OPEN_STATUSES!r}"
        params: list[Any] = []
        if commune_codes is not None:
            sql += f" AND commune_code IN ({','.join('?' * len(commune_codes))})"
            params += list(commune_codes)
        if assignee_id is not None:
            sql += " AND assignee_id = ?"
            params.append(assignee_id)
        rows = await self.db.fetchall(sql + " ORDER BY due_on, id LIMIT ?", [*params, limit])
        return [_petition(r) for r in rows]

    async def open_counts(self, commune_code: str, today: date) -> tuple[int, int]:
        """(open, overdue) petitions of a commune; overdue means past its due day, unanswered
        or answered but not closed."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN due_on < ? THEN 1 ELSE 0 END), 0) AS late FROM petitions"
            f" WHERE commune_code = ? AND status IN {OPEN_STATUSES!r}",
            (today.isoformat(), commune_code))
        assert row is not None
        return int(row["n"]), int(row["late"])

    async def assign(self, petition_id: int, assignee_id: int) -> bool:
        """Give an open petition to someone; False when it is closed already."""
        cursor = await self.db.execute(
            "UPDATE petitions SET assignee_id = ?, status = CASE WHEN status = 'open'"
            " THEN 'assigned' ELSE status END WHERE id = ? AND status <> 'closed'",
            (assignee_id, petition_id))
        return cursor.rowcount == 1

    async def answer(self, petition_id: int, member_id: int, text: str, at: datetime) -> bool:
        """Store the answer (a later answer replaces it); False when it is closed already."""
        cursor = await self.db.execute(
            "UPDATE petitions SET status = 'answered', answer = ?, answered_by = ?,"
            " answered_at = ? WHERE id = ? AND status <> 'closed'",
            (text, member_id, at.isoformat(), petition_id))
        return cursor.rowcount == 1

    async def close(self, petition_id: int, member_id: int, at: datetime) -> bool:
        """Close a petition; False when it was closed already."""
        cursor = await self.db.execute(
            "UPDATE petitions SET status = 'closed', closed_by = ?, closed_at = ?"
            " WHERE id = ? AND status <> 'closed'", (member_id, at.isoformat(), petition_id))
        return cursor.rowcount == 1
