"""The members aggregate: who joined, in which role and place, and the language each person
chose (members and people who have not joined)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.models import Member, Role
from storage.engine import Database, Row, Statement
from storage.values import as_datetime, ts


def member_from(row: Row) -> Member:
    """A members row as the project's Member."""
    return Member(
        id=row["id"], channel=row["channel"], external_id=row["external_id"],
        display_name=row["display_name"], role=Role(row["role"]),
        commune_code=row["commune_code"], hamlet_code=row["hamlet_code"],
        language=row["language"], joined_at=as_datetime(row["joined_at"]),
    )


# Statements the start of an update also runs, in its one trip (Repositories.open_update).
def member_query(channel: str, external_id: str) -> Statement:
    """The member behind a channel account: joined with it, or linked to it."""
    return ("SELECT * FROM members WHERE channel = ? AND external_id = ? UNION ALL"
            " SELECT m.* FROM member_accounts a JOIN members m ON m.id = a.member_id"
            " WHERE a.channel = ? AND a.external_id = ? LIMIT 1",
            (channel, external_id, channel, external_id))


def user_language_query(channel: str, external_id: str) -> Statement:
    """The language chosen by someone who has not joined."""
    return ("SELECT language FROM user_languages WHERE channel = ? AND external_id = ?",
            (channel, external_id))


class MemberStore(Protocol):
    """Members by account, id or place; joined or moved; and everyone's chosen language."""

    async def member(self, channel: str, external_id: str) -> Member | None: ...

    async def member_by_id(self, member_id: int) -> Member | None: ...

    async def matching(self, *, commune_code: str | None = None, role: Role | None = None,
                       hamlet_code: str | None = None) -> list[Member]: ...

    async def upsert_member(self, *, channel: str, external_id: str, display_name: str,
                            role: Role, commune_code: str | None, hamlet_code: str | None,
                            language: str, at: datetime) -> Member: ...

    async def set_member_language(self, member_id: int, language: str) -> None: ...

    async def user_language(self, channel: str, external_id: str) -> str | None: ...

    async def set_user_language(self, channel: str, external_id: str, language: str) -> None: ...


class MemberRepository:
    """Every statement on members and user_languages; callers wrap writes in a transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def member(self, channel: str, external_id: str) -> Member | None:
        """The member behind a channel account (joined with it or linked to it), if any."""
        row = await self.db.fetchone(*member_query(channel, external_id))
        return member_from(row) if row else None

    async def member_by_id(self, member_id: int) -> Member | None:
        """The member with this id, if any."""
        row = await self.db.fetchone("SELECT * FROM members WHERE id = ?", (member_id,))
        return member_from(row) if row else None

    async def matching(self, *, commune_code: str | None = None, role: Role | None = None,
                       hamlet_code: str | None = None) -> list[Member]:
        """Members filtered by commune, role and hamlet, in joining order."""
        sql, params = "SELECT * FROM members WHERE 1=1", []
        for column, value in (("commune_code", commune_code), ("role", role),
                              ("hamlet_code", hamlet_code)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(str(value))
        return [member_from(r) for r in await self.db.fetchall(sql + " ORDER BY id", params)]

    async def upsert_member(self, *, channel: str, external_id: str, display_name: str,
                            role: Role, commune_code: str | None, hamlet_code: str | None,
                            language: str, at: datetime) -> Member:
        """Create the member, or move an existing one to the new role and place."""
        await self.db.execute(
            "INSERT INTO members (channel, external_id, display_name, role, commune_code,"
            " hamlet_code, language, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(channel, external_id) DO UPDATE SET display_name=excluded.display_name,"
            " role=excluded.role, commune_code=excluded.commune_code,"
            " hamlet_code=excluded.hamlet_code",
            (channel, external_id, display_name, role.value, commune_code, hamlet_code,
             language, ts(at)),
        )
        member = await self.member(channel, external_id)
        assert member is not None
        return member

    async def set_member_language(self, member_id: int, language: str) -> None:
        """Keep the language a member chose."""
        await self.db.execute("UPDATE members SET language = ? WHERE id = ?", (language, member_id))

    async def user_language(self, channel: str, external_id: str) -> str | None:
        """Language chosen by someone who has not joined."""
        row = await self.db.fetchone(*user_language_query(channel, external_id))
        return row["language"] if row else None

    async def set_user_language(self, channel: str, external_id: str, language: str) -> None:
        """Keep the language chosen by someone who has not joined."""
        await self.db.execute(
            "INSERT INTO user_languages (channel, external_id, language) VALUES (?, ?, ?)"
            " ON CONFLICT(channel, external_id) DO UPDATE SET language=excluded.language",
            (channel, external_id, language))
