"""Repositories: every SQL statement of the product lives here; they return plain data objects."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from bot.models import (
    Activation,
    Conversation,
    Entry,
    HamletCounts,
    Household,
    HouseholdTotals,
    Invite,
    Member,
    OpenedUpdate,
    Outcome,
    Role,
    Visit,
)
from storage.announcements import AnnouncementRepository
from storage.channels import ChannelRepository, offered_options, offered_options_query
from storage.engine import Database, Row, Statement, insert_returning_id
from storage.feedback import FeedbackRepository
from storage.helpdesk import HelpdeskRepository, HelpdeskStore
from storage.outbox import OutboxRepository
from storage.pacing import PacingRepository
from storage.personal_data import PersonalDataRepository
from storage.reports import ReportRepository, ReportStore
from storage.values import as_date, as_datetime


def _ts(value: datetime) -> str:
    return value.isoformat()


def _member(row: Row) -> Member:
    return Member(
        id=row["id"], channel=row["channel"], external_id=row["external_id"],
        display_name=row["display_name"], role=Role(row["role"]),
        commune_code=row["commune_code"], hamlet_code=row["hamlet_code"],
        language=row["language"], joined_at=as_datetime(row["joined_at"]),
    )


def _household(row: Row) -> Household:
    return Household(
        id=row["id"], code=row["code"], hamlet_code=row["hamlet_code"],
        head_name=row["head_name"], members=row["members"], address=row["address"],
    )


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

    Members, households, records and conversations are its own methods; the other aggregates
    are its attributes, each behind the protocol its services are written against.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.channels = ChannelRepository(db)
        self.outbox = OutboxRepository(db)
        self.reports: ReportStore = ReportRepository(db)
        self.helpdesk: HelpdeskStore = HelpdeskRepository(db)
        self.feedback = FeedbackRepository(db)
        self.announcements = AnnouncementRepository(db)
        self.personal_data = PersonalDataRepository(db)
        self.pacing = PacingRepository(db)

    async def _insert(self, sql: str, params: Sequence[Any]) -> int:
        return await insert_returning_id(self.db, sql, params)

    async def _insert_row(self, sql: str, params: Sequence[Any]) -> Row:
        """Run an INSERT and return the whole new row (one statement, not two)."""
        row = await self.db.fetchone(sql + " RETURNING *", params)
        assert row is not None
        return row

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

    # -- households -----------------------------------------------------------------------
    async def household(self, household_id: int) -> Household | None:
        row = await self.db.fetchone("SELECT * FROM households WHERE id = ?", (household_id,))
        return _household(row) if row else None

    async def household_by_code(self, code: str) -> Household | None:
        row = await self.db.fetchone(
            "SELECT * FROM households WHERE UPPER(code) = UPPER(?)", (code,))
        return _household(row) if row else None

    async def households_in(self, hamlet_codes: Sequence[str]) -> list[Household]:
        """Every household of these hamlets."""
        marks = ",".join("?" * len(hamlet_codes))
        rows = await self.db.fetchall(
            f"SELECT * FROM households WHERE hamlet_code IN ({marks}) ORDER BY head_name_folded",
            list(hamlet_codes))
        return [_household(r) for r in rows]

    async def household_names(self, hamlet_codes: Sequence[str]) -> list[tuple[int, str, str]]:
        """(id, code, folded head's name) of every household of these hamlets: enough to search."""
        marks = ",".join("?" * len(hamlet_codes))
        rows = await self.db.fetchall(
            f"SELECT id, code, head_name_folded FROM households WHERE hamlet_code IN ({marks})",
            list(hamlet_codes))
        return [(r[0], r[1], r[2]) for r in rows]

    async def add_household(self, *, code: str, hamlet_code: str, head_name: str,
                            head_name_folded: str, members: int | None, address: str | None,
                            source: str, created_by: int | None, at: datetime) -> Household:
        new_id = await self._insert(
            "INSERT INTO households (code, hamlet_code, head_name, head_name_folded, members,"
            " address, source, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (code, hamlet_code, head_name, head_name_folded, members, address, source,
             created_by, _ts(at)))
        household = await self.household(new_id)
        assert household is not None
        return household

    async def update_household(self, household_id: int, *, head_name: str,
                               head_name_folded: str, members: int | None,
                               address: str | None) -> None:
        await self.db.execute(
            "UPDATE households SET head_name = ?, head_name_folded = ?, members = ?, address = ?"
            " WHERE id = ?", (head_name, head_name_folded, members, address, household_id))

    async def delete_added_household(self, household_id: int, created_by: int) -> bool:
        """Delete a household this member added in the chat, if no record points to it (even a
        voided one); False when it stays."""
        cursor = await self.db.execute(
            "DELETE FROM households WHERE id = ? AND source = 'chat' AND created_by = ? "
            "AND NOT EXISTS (SELECT 1 FROM activations WHERE household_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = ?)",
            [household_id, created_by, household_id, household_id])
        return cursor.rowcount > 0

    async def household_codes_like(self, prefix: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT code FROM households WHERE UPPER(code) LIKE UPPER(?) ORDER BY code", (prefix + "%",))
        return [r["code"] for r in rows]

    async def household_totals(self, household_id: int,
                               exclude_activation: int | None = None) -> HouseholdTotals:
        """What non-voided activation records say about a household so far."""
        row = await self.db.fetchone(
            "SELECT COALESCE(SUM(level2_registered), 0) AS l2, COALESCE(SUM(activated), 0) AS act,"
            " COALESCE(MAX(household_capable), 0) AS cap FROM activations"
            " WHERE household_id = ? AND voided_at IS NULL AND id IS DISTINCT FROM ?",
            (household_id, exclude_activation))
        assert row is not None
        return HouseholdTotals(row["l2"], row["act"], bool(row["cap"]))

    # -- records --------------------------------------------------------------------------
    async def add_activation(self, *, household_id: int, member_id: int, hamlet_code: str,
                             level2_registered: int, activated: int, household_capable: bool,
                             at: datetime, replaces_id: int | None = None) -> Activation:
        return _activation(await self._insert_row(
            "INSERT INTO activations (household_id, member_id, hamlet_code, level2_registered,"
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
        return _visit(await self._insert_row(
            "INSERT INTO visits (household_id, member_id, hamlet_code, topics, outcome,"
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
        rows = await self.db.fetchall(
            "SELECT kind, r.id, r.household_id, h.code, h.head_name, r.recorded_at, r.level2,"
            " r.activated, r.capable, r.topics, r.follow_up_on FROM ("
            "  SELECT 'activation' AS kind, id, household_id, recorded_at,"
            "   level2_registered AS level2, activated, household_capable AS capable,"
            "   NULL AS topics, NULL AS follow_up_on FROM activations"
            "   WHERE member_id = ? AND voided_at IS NULL AND recorded_at >= ?"
            "  UNION ALL"
            "  SELECT 'visit', id, household_id, recorded_at, 0, 0, 0, topics, follow_up_on"
            "   FROM visits WHERE member_id = ? AND voided_at IS NULL AND recorded_at >= ?"
            ") AS r JOIN households h ON h.id = r.household_id"
            " ORDER BY r.recorded_at DESC, r.id DESC LIMIT ?",
            (member_id, _ts(since), member_id, _ts(since), limit))
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
