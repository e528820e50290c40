"""SQL for the channels: offered options, contacts, OA tokens, downloads, linked accounts and
the outbox of messages to other people."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.messages import Option
from storage.engine import Database, Row, Statement
from storage.values import as_datetime


def _ts(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class OaTokens:
    access_token: str
    refresh_token: str
    expires_at: datetime


@dataclass(frozen=True)
class Download:
    filename: str
    mime_type: str
    content: bytes


def offered_options_query(channel: str, external_id: str) -> Statement:
    """The options last shown to someone (read with offered_options)."""
    return ("SELECT options FROM offered_options WHERE channel = ? AND external_id = ?",
            (channel, external_id))


def offered_options(row: Row) -> list[Option]:
    """The options of an offered_options row."""
    return [Option(label, value) for label, value in json.loads(row["options"])]


class ChannelRepository:
    """Per-channel state kept in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- options last offered -------------------------------------------------------------
    async def offered_options(self, channel: str, external_id: str) -> list[Option]:
        row = await self.db.fetchone(*offered_options_query(channel, external_id))
        return offered_options(row) if row else []

    async def set_offered_options(self, channel: str, external_id: str, options: list[Option],
                                  at: datetime) -> None:
        """Remember the options just shown; an empty list forgets them (with the unit of
        work's next trip)."""
        if not options:
            await self.db.execute_later(
                "DELETE FROM offered_options WHERE channel = ? AND external_id = ?",
                (channel, external_id))
            return
        await self.db.execute_later(
            "INSERT INTO offered_options (channel, external_id, options, offered_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(channel, external_id) DO UPDATE SET"
            " options = excluded.options, offered_at = excluded.offered_at",
            (channel, external_id,
             json.dumps([[o.label, o.value] for o in options], ensure_ascii=False), _ts(at)))

    # -- when people last wrote -----------------------------------------------------------
    async def touch_contact(self, channel: str, external_id: str, at: datetime) -> None:
        """Note when someone last wrote (with the unit of work's next trip)."""
        await self.db.execute_later(
            "INSERT INTO contacts (channel, external_id, last_inbound_at) VALUES (?, ?, ?)"
            " ON CONFLICT(channel, external_id) DO UPDATE SET"
            " last_inbound_at = CASE WHEN excluded.last_inbound_at > contacts.last_inbound_at"
            " THEN excluded.last_inbound_at ELSE contacts.last_inbound_at END",
            (channel, external_id, _ts(at)))

    async def last_inbound(self, channel: str, external_id: str) -> datetime | None:
        row = await self.db.fetchone(
            "SELECT last_inbound_at FROM contacts WHERE channel = ? AND external_id = ?",
            (channel, external_id))
        return as_datetime(row[0]) if row else None

    # -- OA tokens ------------------------------------------------------------------------
    async def oa_tokens(self, key: str) -> OaTokens | None:
        row = await self.db.fetchone(
            "SELECT access_token, refresh_token, expires_at FROM oa_tokens WHERE oa_key = ?",
            (key,))
        return OaTokens(row[0], row[1], as_datetime(row[2])) if row else None

    async def save_oa_tokens(self, key: str, tokens: OaTokens, at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO oa_tokens (oa_key, access_token, refresh_token, expires_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(oa_key) DO UPDATE SET"
            " access_token = excluded.access_token, refresh_token = excluded.refresh_token,"
            " expires_at = excluded.expires_at, updated_at = excluded.updated_at",
            (key, tokens.access_token, tokens.refresh_token, _ts(tokens.expires_at), _ts(at)))

    # -- downloads ------------------------------------------------------------------------
    async def add_download(self, token: str, download: Download, at: datetime,
                           expires_at: datetime) -> None:
        await self.db.execute("DELETE FROM downloads WHERE expires_at < ?", (_ts(at),))
        await self.db.execute(
            "INSERT INTO downloads (token, filename, mime_type, content, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (token, download.filename, download.mime_type, download.content, _ts(at),
             _ts(expires_at)))

    async def download(self, token: str, now: datetime) -> Download | None:
        row = await self.db.fetchone(
            "SELECT filename, mime_type, content FROM downloads WHERE token = ? AND expires_at > ?",
            (token, _ts(now)))
        return Download(row[0], row[1], bytes(row[2])) if row else None

    # -- linked accounts ------------------------------------------------------------------
    async def add_link_code(self, code: str, member_id: int, expires_at: datetime) -> None:
        await self.db.execute("DELETE FROM link_codes WHERE member_id = ? AND used_at IS NULL",
                              (member_id,))
        await self.db.execute(
            "INSERT INTO link_codes (code, member_id, expires_at) VALUES (?, ?, ?)",
            (code, member_id, _ts(expires_at)))

    async def use_link_code(self, code: str, now: datetime) -> int | None:
        """The member a valid, unused code belongs to (the code is spent), else None."""
        row = await self.db.fetchone(
            "SELECT member_id FROM link_codes WHERE code = ? AND used_at IS NULL"
            " AND expires_at > ?", (code, _ts(now)))
        if row is None:
            return None
        await self.db.execute("UPDATE link_codes SET used_at = ? WHERE code = ?", (_ts(now), code))
        return int(row[0])

    async def link_account(self, channel: str, external_id: str, member_id: int,
                           at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO member_accounts (channel, external_id, member_id, linked_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(channel, external_id) DO UPDATE SET"
            " member_id = excluded.member_id, linked_at = excluded.linked_at",
            (channel, external_id, member_id, _ts(at)))

    async def accounts(self, member_id: int) -> list[tuple[str, str]]:
        """Every (channel, external id) of a member: the one they joined with first."""
        rows = await self.db.fetchall(
            "SELECT channel, external_id FROM members WHERE id = ? UNION ALL"
            " SELECT channel, external_id FROM member_accounts WHERE member_id = ?",
            (member_id, member_id))
        return [(r[0], r[1]) for r in rows]

    async def preferred_channel(self, member_id: int) -> str | None:
        row = await self.db.fetchone("SELECT preferred_channel FROM members WHERE id = ?",
                                     (member_id,))
        return row[0] if row else None

    async def set_preferred_channel(self, member_id: int, channel: str | None) -> None:
        await self.db.execute("UPDATE members SET preferred_channel = ? WHERE id = ?",
                              (channel, member_id))
