"""The invites aggregate: one-time codes to join, and the wrong codes people typed."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.models import Invite, Role
from storage.engine import Database
from storage.values import as_datetime, ts


class InviteStore(Protocol):
    """Invites made, looked up and used; wrong codes counted per person and overall."""

    async def add(self, invite: Invite, created_by: int | None) -> None: ...

    async def get(self, code: str) -> Invite | None: ...

    async def use(self, code: str, member_id: int, at: datetime) -> bool: ...

    async def add_failure(self, channel: str, external_id: str, at: datetime) -> None: ...

    async def all_failures_since(self, since: datetime) -> list[datetime]: ...

    async def failures_since(self, channel: str, external_id: str,
                             since: datetime) -> list[datetime]: ...


class InviteRepository:
    """Every statement on invites and invite_failures; callers wrap writes in a transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, invite: Invite, created_by: int | None) -> None:
        """Store a new invite."""
        await self.db.execute(
            "INSERT INTO invites (code, role, commune_code, hamlet_code, created_by, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (invite.code, invite.role.value, invite.commune_code, invite.hamlet_code, created_by,
             ts(invite.created_at), ts(invite.expires_at)))

    async def get(self, code: str) -> Invite | None:
        """The invite with this code, if any (used or not)."""
        row = await self.db.fetchone("SELECT * FROM invites WHERE code = ?", (code,))
        if row is None:
            return None
        return Invite(code=row["code"], role=Role(row["role"]), commune_code=row["commune_code"],
                      hamlet_code=row["hamlet_code"],
                      created_at=as_datetime(row["created_at"]),
                      expires_at=as_datetime(row["expires_at"]),
                      used_by=row["used_by"])

    async def use(self, code: str, member_id: int, at: datetime) -> bool:
        """Mark the invite used; False if someone used it first."""
        cursor = await self.db.execute(
            "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
            (member_id, ts(at), code))
        return cursor.rowcount == 1

    async def add_failure(self, channel: str, external_id: str, at: datetime) -> None:
        """Note a wrong code typed by this person."""
        await self.db.execute(
            "INSERT INTO invite_failures (channel, external_id, at) VALUES (?, ?, ?)",
            (channel, external_id, ts(at)))

    async def all_failures_since(self, since: datetime) -> list[datetime]:
        """Times of every wrong invite code since a moment (all accounts), oldest first."""
        rows = await self.db.fetchall(
            "SELECT at FROM invite_failures WHERE at >= ? ORDER BY at", (ts(since),))
        return [as_datetime(r["at"]) for r in rows]

    async def failures_since(self, channel: str, external_id: str,
                             since: datetime) -> list[datetime]:
        """Times of this user's wrong invite codes since a moment, oldest first."""
        rows = await self.db.fetchall(
            "SELECT at FROM invite_failures WHERE channel = ? AND external_id = ? AND at >= ?"
            " ORDER BY at", (channel, external_id, ts(since)))
        return [as_datetime(r["at"]) for r in rows]
