"""Logging activations and guidance visits, and correcting or undoing them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from bot.clock import Clock, local_date
from bot.errors import Refusal
from bot.i18n import N_, _, fmt_date
from bot.live_settings import LiveSettings, ReadsLiveSettings
from bot.models import Activation, Entry, Household, Member, Outcome, Visit
from bot.services.households import MAX_HOUSEHOLD_MEMBERS
from storage.repositories import Repositories

# Guidance topics (seed plans: install, activate, level 2 at the commune police, the national
# portal, online dossiers and payments, scam safety, documents kept in VNeID).
TOPICS: dict[str, str] = {
    "install": N_("Install VNeID"),
    "activate": N_("Activate the account"),
    "level2": N_("Level-2 appointment at the commune police"),
    "portal": N_("Log in to the national portal"),
    "dossier": N_("Submit a dossier online"),
    "payment": N_("Pay a fee online"),
    "scams": N_("Scam safety"),
    "documents": N_("Documents in VNeID"),
}
MAX_FOLLOW_UP_DAYS = 60
R = TypeVar("R", Activation, Visit)


class RecordService(ReadsLiveSettings):
    """The rules for what a volunteer may record, and the audit trail of every change."""

    def __init__(self, repos: Repositories, settings: LiveSettings, clock: Clock) -> None:
        self.repos = repos
        self.live = settings
        self.clock = clock

    def today(self, member: Member) -> date:
        """Today in the member's commune."""
        return local_date(self.clock(), self.settings.commune(member.commune_code).tz)

    async def check_counts(self, household: Household, level2: int, activated: int,
                           capable: bool | None = None, replaces: int | None = None) -> None:
        """Refuse impossible counts, with the reason."""
        limit = household.members or MAX_HOUSEHOLD_MEMBERS
        for value in (level2, activated):
            if value < 0:
                raise Refusal(_("A count cannot be negative."))
            if value > limit:
                if household.members:
                    raise Refusal(_("Household {code} has only {n} members.").format(
                        code=household.code, n=household.members))
                raise Refusal(_("{n} is more than a household can have (at most {max}).")
                              .format(n=value, max=MAX_HOUSEHOLD_MEMBERS))
        if household.members:
            totals = await self.repos.households.household_totals(household.id, exclude_activation=replaces)
            if totals.level2_registered + level2 > household.members:
                raise Refusal(_(
                    "Household {code} has {n} members and {done} are already recorded as "
                    "registered for level 2.").format(
                        code=household.code, n=household.members, done=totals.level2_registered))
            if totals.activated + activated > household.members:
                raise Refusal(_(
                    "Household {code} has {n} members and {done} are already recorded as "
                    "activated.").format(
                        code=household.code, n=household.members, done=totals.activated))
        if capable is False and level2 == 0 and activated == 0:
            raise Refusal(_("There is nothing to save: all counts are zero."))

    async def log_activation(self, member: Member, household: Household, *, level2: int,
                             activated: int, capable: bool,
                             replaces: int | None = None) -> Activation:
        """Save an activation record whole (and void the one it corrects), with an audit row."""
        await self.check_counts(household, level2, activated, capable, replaces)
        return await self._record(
            member, "activation", replaces,
            lambda now: self.repos.records.add_activation(
                household_id=household.id, member_id=member.id,
                hamlet_code=household.hamlet_code, level2_registered=level2, activated=activated,
                household_capable=capable, at=now, replaces_id=replaces),
            {"household": household.code, "level2": level2, "activated": activated,
             "capable": capable})

    def check_follow_up(self, member: Member, day: date) -> None:
        """A follow-up date must be after today and within two months."""
        today = self.today(member)
        if day < today:
            raise Refusal(_("{date} has already passed. Choose a day after today.").format(
                date=fmt_date(day)))
        if day == today:
            raise Refusal(_("The follow-up date must be after today."))
        if day > today + timedelta(days=MAX_FOLLOW_UP_DAYS):
            raise Refusal(_("The follow-up date must be within {n} days.").format(
                n=MAX_FOLLOW_UP_DAYS))

    async def log_visit(self, member: Member, household: Household, *, topics: Sequence[str],
                        follow_up_on: date | None, replaces: int | None = None) -> Visit:
        """Save a guidance visit whole (and void the one it corrects), with an audit row."""
        chosen = [t for t in TOPICS if t in topics]
        if not chosen:
            raise Refusal(_("Choose at least one topic."))
        if follow_up_on is not None:
            self.check_follow_up(member, follow_up_on)
        outcome = Outcome.FOLLOW_UP if follow_up_on else Outcome.DONE
        return await self._record(
            member, "visit", replaces,
            lambda now: self.repos.records.add_visit(
                household_id=household.id, member_id=member.id,
                hamlet_code=household.hamlet_code, topics=chosen, outcome=outcome,
                follow_up_on=follow_up_on, at=now, replaces_id=replaces),
            {"household": household.code, "topics": chosen, "follow_up_on": follow_up_on})

    async def _record(self, member: Member, kind: str, replaces: int | None,
                      add: Callable[[datetime], Awaitable[R]], details: dict[str, Any]) -> R:
        """Void the corrected record, add the new one and its audit row, all in one transaction."""
        now = self.clock()
        async with self.repos.db.transaction():
            if replaces is not None and not await self.repos.records.void_record(
                    kind, replaces, member.id, now):
                raise Refusal(_("That entry was already changed or removed."))
            record = await add(now)
            await self.repos.audit(
                member_id=member.id, action="correct" if replaces else "create", entity=kind,
                entity_id=record.id, details={**details, "replaces": replaces}, at=now)
        return record

    async def recent(self, member: Member, limit: int = 6) -> list[Entry]:
        """The member's own entries that may still be corrected, newest first."""
        since = self.clock() - timedelta(days=self.settings.bot.correction_window_days)
        return await self.repos.records.recent_entries(member.id, since, limit)

    async def find_recent(self, member: Member, kind: str, record_id: int) -> Entry | None:
        """One of the member's correctable entries, or None."""
        for entry in await self.recent(member, limit=50):
            if entry.kind == kind and entry.id == record_id:
                return entry
        return None

    async def undo(self, member: Member, kind: str, record_id: int) -> Entry:
        """Void one of the member's recent entries."""
        entry = await self.find_recent(member, kind, record_id)
        if entry is None:
            raise Refusal(_("That entry can no longer be changed."))
        now = self.clock()
        async with self.repos.db.transaction():
            if not await self.repos.records.void_record(kind, record_id, member.id, now):
                raise Refusal(_("That entry was already changed or removed."))
            await self.repos.audit(member_id=member.id, action="undo", entity=kind,
                                   entity_id=record_id, details={}, at=now)
        return entry
