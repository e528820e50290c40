"""SQL for announcements and for finding the citizens they can go to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.engine import Database, Row
from storage.values import as_datetime, maybe_datetime


@dataclass(frozen=True)
class Contact:
    """A citizen who has written to the bot, and when they last did."""

    channel: str
    external_id: str
    last_inbound: datetime


@dataclass(frozen=True)
class Announcement:
    id: int
    commune_code: str
    audience: str
    hamlet_code: str | None
    text: str
    photo_file_id: str | None
    photo_channel: str | None
    created_by: int
    created_at: datetime
    recipients: int
    reported_at: datetime | None

    @property
    def topic(self) -> str:
        """How its queued messages are marked, to count their outcome."""
        return f"announcement:{self.id}"


def _announcement(row: Row) -> Announcement:
    return Announcement(
        id=row["id"], commune_code=row["commune_code"], audience=row["audience"],
        hamlet_code=row["hamlet_code"], text=row["text"], photo_file_id=row["photo_file_id"],
        photo_channel=row["photo_channel"], created_by=row["created_by"],
        created_at=as_datetime(row["created_at"]), recipients=row["recipients"],
        reported_at=maybe_datetime(row["reported_at"]))


class AnnouncementRepository:
    """Citizens to reach, announcements, and which ones still wait for their outcome."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def citizens(self, hamlet_codes: Sequence[str], *, include_unplaced: bool
                       ) -> list[Contact]:
        """Citizens (never team members) who have written to the bot and live in these hamlets,
        and, if asked, those who never said where they live."""
        marks = ",".join("?" * len(hamlet_codes)) or "NULL"
        rows = await self.db.fetchall(
            "SELECT c.channel, c.external_id, c.last_inbound_at FROM contacts c"
            " LEFT JOIN citizen_profiles p ON p.channel = c.channel"
            " AND p.external_id = c.external_id"
            f" WHERE (p.hamlet_code IN ({marks}) OR (? AND p.hamlet_code IS NULL))"
            " AND NOT EXISTS (SELECT 1 FROM members m WHERE m.channel = c.channel"
            " AND m.external_id = c.external_id)"
            " AND NOT EXISTS (SELECT 1 FROM member_accounts a WHERE a.channel = c.channel"
            " AND a.external_id = c.external_id) ORDER BY c.channel, c.external_id",
            [*hamlet_codes, int(include_unplaced)])
        return [Contact(r[0], r[1], as_datetime(r[2])) for r in rows]

    async def add(self, *, commune_code: str, audience: str, hamlet_code: str | None,
                  text: str, photo_file_id: str | None, photo_channel: str | None,
                  created_by: int, at: datetime, recipients: int) -> Announcement:
        row = await self.db.fetchone(
            "INSERT INTO announcements (commune_code, audience, hamlet_code, text, photo_file_id,"
            " photo_channel, created_by, created_at, recipients)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (commune_code, audience, hamlet_code, text, photo_file_id, photo_channel,
             created_by, at.isoformat(), recipients))
        assert row is not None
        found = await self.get(int(row[0]))
        assert found is not None
        return found

    async def get(self, announcement_id: int) -> Announcement | None:
        row = await self.db.fetchone("SELECT * FROM announcements WHERE id = ?",
                                     (announcement_id,))
        return _announcement(row) if row else None

    async def settled_unreported(self) -> list[Announcement]:
        """Announcements not reported to their officer whose messages are all sent or given
        up."""
        rows = await self.db.fetchall(
            "SELECT a.* FROM announcements a WHERE a.reported_at IS NULL AND NOT EXISTS ("
            " SELECT 1 FROM outbox o WHERE o.topic = 'announcement:' || a.id"
            " AND o.status IN ('pending', 'sending')) ORDER BY a.id")
        return [_announcement(r) for r in rows]

    async def mark_reported(self, announcement_id: int, at: datetime) -> bool:
        cursor = await self.db.execute(
            "UPDATE announcements SET reported_at = ? WHERE id = ? AND reported_at IS NULL",
            (at.isoformat(), announcement_id))
        return cursor.rowcount == 1
