"""Repositories: every SQL statement of the product lives here; they return plain data objects."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.models import (
    Conversation,
    Invite,
    Member,
    OpenedUpdate,
    Role,
)
from storage.announcements import AnnouncementRepository
from storage.channels import ChannelRepository, offered_options, offered_options_query
from storage.engine import Database, Row, Statement
from storage.feedback import FeedbackRepository
from storage.helpdesk import HelpdeskRepository, HelpdeskStore
from storage.households import HouseholdRepository, HouseholdStore
from storage.outbox import OutboxRepository
from storage.pacing import PacingRepository
from storage.personal_data import PersonalDataRepository
from storage.records import RecordRepository, RecordStore
from storage.reports import ReportRepository, ReportStore
from storage.values import as_datetime


def _ts(value: datetime) -> str:
    return value.isoformat()


def _member(row: Row) -> Member:
    return Member(
        id=row["id"], channel=row["channel"], external_id=row["external_id"],
        display_name=row["display_name"], role=Role(row["role"]),
        commune_code=row["commune_code"], hamlet_code=row["hamlet_code"],
        language=row["language"], joined_at=as_datetime(row["joined_at"]),
    )


def _conversation(row: Row) -> Conversation:
    return Conversation(row["flow"], row["step"], json.loads(row["data"]))


# Statements the router runs together at the start of an update (Repositories.open_update).
def _member_query(channel: str, external_id: str) -> Statement:
    return ("SELECT * FROM members WHERE channel = ? AND external_id = ? UNION ALL"
            " SELECT m.* FROM member_accounts a JOIN members m ON m.id = a.member_id"
            " WHERE a.channel = ? AND a.external_id = ? LIMIT 1",
            (channel, external_id, channel, external_id))


def _user_language_query(channel: str, external_id: str) -> Statement:
    return ("SELECT language FROM user_languages WHERE channel = ? AND external_id = ?",
            (channel, external_id))


def _conversation_query(channel: str, external_id: str) -> Statement:
    return ("SELECT flow, step, data FROM conversations WHERE channel = ? AND external_id = ?",
            (channel, external_id))


def _was_offered_query(channel: str, external_id: str, value: str) -> Statement:
    return ("SELECT 1 FROM button_offers WHERE channel = ? AND external_id = ? AND value = ?",
            (channel, external_id, value))


def _claim_statement(channel: str, update_id: str, at: datetime) -> Statement:
    return ("INSERT INTO processed_updates (channel, update_id, processed_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING", (channel, update_id, _ts(at)))


class Repositories:
    """Typed access to every table; one instance per database, built in the composition root.

    Members, invites and conversations are its own methods: the start of every update reads
    them together in one trip (open_update). The other aggregates are its attributes,
    households, records, reports and the help desk behind the protocols their services are
    written against.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.channels = ChannelRepository(db)
        self.outbox = OutboxRepository(db)
        self.households: HouseholdStore = HouseholdRepository(db)
        self.records: RecordStore = RecordRepository(db)
        self.reports: ReportStore = ReportRepository(db)
        self.helpdesk: HelpdeskStore = HelpdeskRepository(db)
        self.feedback = FeedbackRepository(db)
        self.announcements = AnnouncementRepository(db)
        self.personal_data = PersonalDataRepository(db)
        self.pacing = PacingRepository(db)

    # -- communes and hamlets -------------------------------------------------------------
    async def sync_places(self, communes: Iterable[dict[str, Any]],
                          hamlets: Iterable[dict[str, Any]]) -> None:
        """Insert or update communes and hamlets from the configuration."""
        async with self.db.transaction():
            for c in communes:
                await self.db.execute(
                    "INSERT INTO communes (code, name, timezone, language) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(code) DO UPDATE SET name=excluded.name,"
                    " timezone=excluded.timezone, language=excluded.language",
                    (c["code"], c["name"], c["timezone"], c["language"]),
                )
            for h in hamlets:
                await self.db.execute(
                    "INSERT INTO hamlets (code, commune_code, name, households, eligible_citizens,"
                    " level2_baseline, activated_baseline) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(code) DO UPDATE SET commune_code=excluded.commune_code,"
                    " name=excluded.name, households=excluded.households,"
                    " eligible_citizens=excluded.eligible_citizens,"
                    " level2_baseline=excluded.level2_baseline,"
                    " activated_baseline=excluded.activated_baseline",
                    (h["code"], h["commune_code"], h["name"], h["households"],
                     h["eligible_citizens"], h["level2_baseline"], h["activated_baseline"]),
                )

    # -- members --------------------------------------------------------------------------
    async def member(self, channel: str, external_id: str) -> Member | None:
        """The member behind a channel account (joined with it or linked to it), if any."""
        row = await self.db.fetchone(*_member_query(channel, external_id))
        return _member(row) if row else None

    async def member_by_id(self, member_id: int) -> Member | None:
        row = await self.db.fetchone("SELECT * FROM members WHERE id = ?", (member_id,))
        return _member(row) if row else None

    async def members(self, *, commune_code: str | None = None,
                      role: Role | None = None, hamlet_code: str | None = None) -> list[Member]:
        """Members filtered by commune, role and hamlet."""
        sql, params = "SELECT * FROM members WHERE 1=1", []
        for column, value in (("commune_code", commune_code), ("role", role),
                              ("hamlet_code", hamlet_code)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(str(value))
        return [_member(r) for r in await self.db.fetchall(sql + " ORDER BY id", params)]

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
             language, _ts(at)),
        )
        member = await self.member(channel, external_id)
        assert member is not None
        return member

    async def set_member_language(self, member_id: int, language: str) -> None:
        await self.db.execute("UPDATE members SET language = ? WHERE id = ?", (language, member_id))

    async def user_language(self, channel: str, external_id: str) -> str | None:
        """Language chosen by someone who has not joined."""
        row = await self.db.fetchone(*_user_language_query(channel, external_id))
        return row["language"] if row else None

    async def set_user_language(self, channel: str, external_id: str, language: str) -> None:
        await self.db.execute(
            "INSERT INTO user_languages (channel, external_id, language) VALUES (?, ?, ?)"
            " ON CONFLICT(channel, external_id) DO UPDATE SET language=excluded.language",
            (channel, external_id, language))

    # -- invites --------------------------------------------------------------------------
    async def add_invite(self, invite: Invite, created_by: int | None) -> None:
        await self.db.execute(
            "INSERT INTO invites (code, role, commune_code, hamlet_code, created_by, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (invite.code, invite.role.value, invite.commune_code, invite.hamlet_code, created_by,
             _ts(invite.created_at), _ts(invite.expires_at)))

    async def invite(self, code: str) -> Invite | None:
        row = await self.db.fetchone("SELECT * FROM invites WHERE code = ?", (code,))
        if row is None:
            return None
        return Invite(code=row["code"], role=Role(row["role"]), commune_code=row["commune_code"],
                      hamlet_code=row["hamlet_code"],
                      created_at=as_datetime(row["created_at"]),
                      expires_at=as_datetime(row["expires_at"]),
                      used_by=row["used_by"])

    async def use_invite(self, code: str, member_id: int, at: datetime) -> bool:
        """Mark the invite used; False if someone used it first."""
        cursor = await self.db.execute(
            "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
            (member_id, _ts(at), code))
        return cursor.rowcount == 1

    async def add_invite_failure(self, channel: str, external_id: str, at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO invite_failures (channel, external_id, at) VALUES (?, ?, ?)",
            (channel, external_id, _ts(at)))

    async def all_invite_failures_since(self, since: datetime) -> list[datetime]:
        """Times of every wrong invite code since a moment (all accounts), oldest first."""
        rows = await self.db.fetchall(
            "SELECT at FROM invite_failures WHERE at >= ? ORDER BY at", (_ts(since),))
        return [as_datetime(r["at"]) for r in rows]

    async def invite_failures_since(self, channel: str, external_id: str,
                                    since: datetime) -> list[datetime]:
        """Times of this user's wrong invite codes since a moment, oldest first."""
        rows = await self.db.fetchall(
            "SELECT at FROM invite_failures WHERE channel = ? AND external_id = ? AND at >= ?"
            " ORDER BY at", (channel, external_id, _ts(since)))
        return [as_datetime(r["at"]) for r in rows]

    # -- audit ----------------------------------------------------------------------------
    async def audit(self, *, member_id: int | None, action: str, entity: str,
                    entity_id: object, details: dict[str, Any], at: datetime) -> None:
        """Record who changed what, when (with the unit of work's next trip: nothing reads it
        back while the update runs)."""
        await self.db.execute_later(
            "INSERT INTO audit_log (at, member_id, action, entity, entity_id, details)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (_ts(at), member_id, action, entity, str(entity_id),
             json.dumps(details, ensure_ascii=False, default=str)))

    # -- conversations and updates --------------------------------------------------------
    async def open_update(self, channel: str, external_id: str, update_id: str,
                          at: datetime, button: str | None = None) -> OpenedUpdate:
        """Claim an update and read what the router needs about its sender, in one trip."""
        statements = [_claim_statement(channel, update_id, at),
                      _member_query(channel, external_id),
                      _user_language_query(channel, external_id),
                      _conversation_query(channel, external_id),
                      offered_options_query(channel, external_id)]
        # Button values still remembered from the options last shown (a typed choice picks
        # one of those), and the pressed button's own value.
        statements.append(
            ("SELECT b.value FROM button_offers b JOIN offered_options o"
             " ON o.channel = b.channel AND o.external_id = b.external_id"
             " WHERE b.channel = ? AND b.external_id = ? AND b.offered_at >= o.offered_at",
             (channel, external_id)))
        if button is not None:
            statements.append(_was_offered_query(channel, external_id, button))
        claim, member, chosen, state, options, latest, *pressed = await self.db.batch(statements)
        values = {row[0] for row in latest.rows}
        if button is not None and pressed[0].rows:
            values.add(button)
        return OpenedUpdate(
            claimed=claim.rowcount == 1,
            member=_member(member.rows[0]) if member.rows else None,
            chosen_language=chosen.rows[0]["language"] if chosen.rows else None,
            conversation=_conversation(state.rows[0]) if state.rows else None,
            offered=offered_options(options.rows[0]) if options.rows else [],
            button_pressed=button, offered_values=frozenset(values))

    async def conversation(self, channel: str, external_id: str) -> Conversation | None:
        row = await self.db.fetchone(*_conversation_query(channel, external_id))
        return _conversation(row) if row else None

    async def save_conversation(self, channel: str, external_id: str,
                                state: Conversation | None, at: datetime) -> None:
        """Store where the user is, or forget it when the flow ended (state None); sent with
        the unit of work's next trip."""
        if state is None:
            await self.db.execute_later(
                "DELETE FROM conversations WHERE channel = ? AND external_id = ?",
                (channel, external_id))
            return
        await self.db.execute_later(
            "INSERT INTO conversations (channel, external_id, flow, step, data, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, external_id) DO UPDATE SET"
            " flow=excluded.flow, step=excluded.step, data=excluded.data,"
            " updated_at=excluded.updated_at",
            (channel, external_id, state.flow, state.step,
             json.dumps(state.data, ensure_ascii=False), _ts(at)))

    async def remember_options(self, channel: str, external_id: str, values: Iterable[str],
                               at: datetime, keep_since: datetime) -> None:
        """Note the button values offered to someone; forget offers older than `keep_since`
        (with the unit of work's next trip: a few values, one statement each)."""
        for value in values:
            await self.db.execute_later(
                "INSERT INTO button_offers (channel, external_id, value, offered_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (channel, external_id, value)"
                " DO UPDATE SET offered_at=excluded.offered_at",
                (channel, external_id, value, _ts(at)))
        await self.db.execute_later("DELETE FROM button_offers WHERE offered_at < ?",
                                    (_ts(keep_since),))

    async def was_offered(self, channel: str, external_id: str, value: str) -> bool:
        """Whether this button value was offered to this person (and not yet forgotten)."""
        return bool(await self.db.fetchall(*_was_offered_query(channel, external_id, value)))

    async def claim_update(self, channel: str, update_id: str, at: datetime) -> bool:
        """Record an update as processed; False if it was processed before (a duplicate)."""
        cursor = await self.db.execute(*_claim_statement(channel, update_id, at))
        return cursor.rowcount == 1

    async def prune_processed_updates(self, before: datetime) -> int:
        """Forget update ids recorded before `before`."""
        cursor = await self.db.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?", (_ts(before),))
        return cursor.rowcount

    async def prune_idle_conversations(self, before: datetime) -> int:
        """Drop conversations nobody touched since `before` (nothing of them was saved)."""
        cursor = await self.db.execute(
            "DELETE FROM conversations WHERE updated_at < ?", (_ts(before),))
        return cursor.rowcount

    async def real_record_count(self) -> int:
        """Households and members that the demo did not make (the demo never wipes those)."""
        row = await self.db.fetchone(
            "SELECT (SELECT COUNT(*) FROM households WHERE source <> 'demo')"
            " + (SELECT COUNT(*) FROM members WHERE external_id NOT LIKE 'demo-%') AS n")
        return int(row["n"]) if row else 0

    async def count(self, table: str) -> int:
        """Rows in a table (used by the CLI summary and tests)."""
        if table not in {"households", "activations", "visits", "members", "invites",
                         "audit_log", "processed_updates", "conversations"}:
            raise ValueError(table)
        row = await self.db.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
        return int(row["n"]) if row else 0
