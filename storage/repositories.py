"""Repositories: one per aggregate, in its own module behind a protocol, reached through one
object built in the composition root; plus the one-trip read that starts every update."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.models import OpenedUpdate
from storage.announcements import AnnouncementRepository
from storage.channels import ChannelRepository, offered_options, offered_options_query
from storage.conversations import (
    ConversationRepository,
    ConversationStore,
    claim_statement,
    conversation_from,
    conversation_query,
    latest_offers_query,
    was_offered_query,
)
from storage.engine import Database, Statement
from storage.feedback import FeedbackRepository
from storage.helpdesk import HelpdeskRepository, HelpdeskStore
from storage.households import HouseholdRepository, HouseholdStore
from storage.invites import InviteRepository, InviteStore
from storage.members import MemberRepository, MemberStore, member_from, member_query, user_language_query
from storage.outbox import OutboxRepository
from storage.pacing import PacingRepository
from storage.personal_data import PersonalDataRepository
from storage.places import VERSION_QUERY, PlacesRepository
from storage.records import RecordRepository, RecordStore
from storage.reports import ReportRepository, ReportStore
from storage.values import ts


def _language_and_places_query(channel: str, external_id: str) -> Statement:
    """The language chosen before joining and the places' version, as one row: the version
    rides on a read every update makes anyway, so it costs no round trip of its own."""
    language, params = user_language_query(channel, external_id)
    return (f"SELECT ({language}) AS language, ({VERSION_QUERY[0]}) AS places_version", params)


class Repositories:
    """Typed access to every table; one instance per database, built in the composition root.

    Each aggregate is an attribute, behind the protocol its services are written against.
    The start of every update reads the sender's member, language, conversation and offered
    buttons, and the places' version, together in one trip (open_update), from the
    statements those modules expose.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.members: MemberStore = MemberRepository(db)
        self.invites: InviteStore = InviteRepository(db)
        self.conversations: ConversationStore = ConversationRepository(db)
        self.places = PlacesRepository(db)
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

    async def open_update(self, channel: str, external_id: str, update_id: str,
                          at: datetime, button: str | None = None) -> OpenedUpdate:
        """Claim an update and read what the router needs about its sender, in one trip."""
        statements = [claim_statement(channel, update_id, at),
                      member_query(channel, external_id),
                      _language_and_places_query(channel, external_id),
                      conversation_query(channel, external_id),
                      offered_options_query(channel, external_id),
                      latest_offers_query(channel, external_id)]
        if button is not None:
            statements.append(was_offered_query(channel, external_id, button))
        claim, member, chosen, state, options, latest, *pressed = await self.db.batch(statements)
        values = {row[0] for row in latest.rows}
        if button is not None and pressed[0].rows:
            values.add(button)
        return OpenedUpdate(
            claimed=claim.rowcount == 1,
            member=member_from(member.rows[0]) if member.rows else None,
            chosen_language=chosen.rows[0]["language"],
            conversation=conversation_from(state.rows[0]) if state.rows else None,
            offered=offered_options(options.rows[0]) if options.rows else [],
            button_pressed=button, offered_values=frozenset(values),
            places_version=int(chosen.rows[0]["places_version"]))

    # -- audit ----------------------------------------------------------------------------
    async def audit(self, *, member_id: int | None, action: str, entity: str,
                    entity_id: object, details: dict[str, Any], at: datetime) -> None:
        """Record who changed what, when (with the unit of work's next trip: nothing reads it
        back while the update runs)."""
        await self.db.execute_later(
            "INSERT INTO audit_log (at, member_id, action, entity, entity_id, details)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (ts(at), member_id, action, entity, str(entity_id),
             json.dumps(details, ensure_ascii=False, default=str)))

    # -- counts ---------------------------------------------------------------------------
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
