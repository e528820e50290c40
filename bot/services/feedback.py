"""Rules for citizens' feedback and petitions (phản ánh, kiến nghị): who sees, assigns,
answers and closes them, and when one is overdue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays

from bot.clock import Clock, local_date
from bot.errors import Refusal
from bot.i18n import N_, _
from bot.live_settings import LiveSettings, ReadsLiveSettings
from bot.models import Member, Role
from storage.feedback import Petition
from storage.repositories import Repositories

MAX_TEXT_CHARS = 2000
# Where a petition stands, in words a citizen understands (msgids: translate when shown).
STATUS_LABELS = {"open": N_("received, waiting to be handled"), "assigned": N_("being handled"),
                 "answered": N_("answered"), "closed": N_("handled and closed")}
REF_PREFIX = "PA"
# "PA-2026-000123", also typed as "pa 2026 123" or "PA2026000123".
REF_PATTERN = re.compile(r"\bPA[-\s]?(\d{4})[-\s]?(\d{1,6})\b", re.IGNORECASE)


def parse_ref(text: str) -> str | None:
    """The petition reference in a typed text, in its canonical form, or None."""
    found = REF_PATTERN.search(text)
    if found is None:
        return None
    return f"{REF_PREFIX}-{found.group(1)}-{int(found.group(2)):06d}"


@cache
def _vietnam_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=[year, year + 1])


def add_working_days(start: date, days: int) -> date:
    """The day `days` working days after `start`: weekends and Vietnam's public holidays
    (Tết included, from the `holidays` package) do not count."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in _vietnam_holidays(current.year):
            left -= 1
    return current


@dataclass(frozen=True)
class Submitted:
    petition: Petition
    recipients: list[Member]  # officers to tell, reachable on the citizen's channel


class FeedbackService(ReadsLiveSettings):
    """Petitions from citizens to their commune, followed until an officer closes them."""

    def __init__(self, repos: Repositories, settings: LiveSettings, clock: Clock) -> None:
        self.repos = repos
        self.live = settings
        self.clock = clock
        self.store = repos.feedback
        self.homes = repos.helpdesk

    # -- citizens -------------------------------------------------------------------------
    async def home_of(self, channel: str, external_id: str) -> str | None:
        """The hamlet a citizen said they live in, if they did."""
        return await self.homes.citizen_hamlet(channel, external_id)

    async def submit(self, *, channel: str, external_id: str, chat_id: str, text: str,
                     photo_file_id: str | None, hamlet_code: str | None) -> Submitted:
        """Store a citizen's petition with its reference and due day; tell the officers."""
        text = text.strip()[:MAX_TEXT_CHARS]
        if not text:
            raise Refusal(_("Please write what Anh/Chị wants to report or propose."))
        found = self.settings.hamlet(hamlet_code) if hamlet_code else None
        commune = found[0] if found else self.settings.communes[0]
        hamlet = found[1].code if found else None
        now = self.clock()
        today = local_date(now, commune.tz)
        async with self.repos.db.transaction():
            if hamlet is not None:
                await self.homes.set_citizen_hamlet(channel, external_id, hamlet)
            petition = await self.store.add(
                prefix=f"{REF_PREFIX}-{today.year}-", channel=channel, external_id=external_id,
                chat_id=chat_id, commune_code=commune.code, hamlet_code=hamlet, text=text,
                photo_file_id=photo_file_id, at=now,
                due_on=add_working_days(today, self.settings.bot.petition_working_days))
            await self.repos.audit(member_id=None, action="submit", entity="petition",
                                   entity_id=petition.ref,
                                   details={"photo": photo_file_id is not None}, at=now)
        officers = await self.repos.members.matching(commune_code=commune.code, role=Role.OFFICER)
        return Submitted(petition, [m for m in officers if m.channel == channel])

    async def mine(self, channel: str, external_id: str) -> list[Petition]:
        """The citizen's own petitions, newest first."""
        return await self.store.of_sender(channel, external_id)

    async def own(self, channel: str, external_id: str, ref: str) -> Petition | None:
        """The petition with this reference when this account sent it; None otherwise, so a
        reference alone never opens someone else's petition."""
        petition = await self.store.by_ref(ref)
        if petition is None or (petition.channel, petition.external_id) != (channel,
                                                                             external_id):
            return None
        return petition

    # -- officers and volunteers ----------------------------------------------------------
    def can_read(self, member: Member, petition: Petition) -> bool:
        """Officers: their commune's; province officers: all; volunteers: those given to them
        (always of their own hamlet)."""
        if member.role is Role.PROVINCE:
            return True
        if member.role is Role.OFFICER:
            return member.commune_code == petition.commune_code
        return petition.assignee_id == member.id and member.hamlet_code == petition.hamlet_code

    def can_manage(self, member: Member, petition: Petition) -> bool:
        """Assign and close: officers of the petition's commune."""
        return member.role is Role.OFFICER and member.commune_code == petition.commune_code

    def can_answer(self, member: Member, petition: Petition) -> bool:
        """Answer: officers of the commune, or the volunteer it was given to."""
        if not petition.is_open or member.role is Role.PROVINCE:
            return False
        return self.can_manage(member, petition) or self.can_read(member, petition)

    async def visible(self, member: Member) -> list[Petition]:
        """Petitions not closed that this member may see, most urgent first."""
        if member.role is Role.PROVINCE:
            return await self.store.open_in(None)
        if member.role is Role.OFFICER:
            return await self.store.open_in([str(member.commune_code)])
        return [p for p in await self.store.open_in(None, assignee_id=member.id)
                if self.can_read(member, p)]

    async def get_for(self, member: Member, petition_id: int) -> Petition:
        """One petition, if this member may see it."""
        petition = await self.store.get(petition_id)
        if petition is None or not self.can_read(member, petition):
            raise Refusal(_("That petition is not one you can see."))
        return petition

    async def find_for(self, member: Member, ref: str) -> Petition:
        """A petition by its reference, if this member may see it."""
        petition = await self.store.by_ref(ref)
        if petition is None:
            raise Refusal(_("That petition is not one you can see."))
        return await self.get_for(member, petition.id)

    async def assignees(self, member: Member, petition: Petition) -> list[Member]:
        """Who may take it: the commune's officers and the volunteers of its hamlet."""
        if not self.can_manage(member, petition):
            return []
        people = await self.repos.members.matching(commune_code=petition.commune_code,
                                          role=Role.OFFICER)
        if petition.hamlet_code is not None:
            people += await self.repos.members.matching(hamlet_code=petition.hamlet_code,
                                               role=Role.VOLUNTEER)
        return people

    async def assign(self, member: Member, petition_id: int, assignee_id: int
                     ) -> tuple[Petition, Member]:
        """Give a petition to an officer of its commune or a volunteer of its hamlet."""
        petition = await self.get_for(member, petition_id)
        if not self.can_manage(member, petition):
            raise Refusal(_("Only the commune's officers can assign petitions."))
        assignee = next((m for m in await self.assignees(member, petition)
                         if m.id == assignee_id), None)
        if assignee is None:
            raise Refusal(_("That person cannot take this petition."))
        now = self.clock()
        async with self.repos.db.transaction():
            if not await self.store.assign(petition.id, assignee.id):
                raise Refusal(_("This petition is closed already."))
            await self.repos.audit(member_id=member.id, action="assign", entity="petition",
                                   entity_id=petition.ref, details={"to": assignee.id}, at=now)
        return await self._fresh(petition), assignee

    async def answer(self, member: Member, petition_id: int, text: str) -> Petition:
        """Store the answer that is relayed to the citizen."""
        petition = await self.get_for(member, petition_id)
        if not self.can_answer(member, petition):
            raise Refusal(_("This petition is closed already.") if not petition.is_open
                          else _("Only the commune's officers or the person it was given to "
                                 "can answer it."))
        text = text.strip()[:MAX_TEXT_CHARS]
        if not text:
            raise Refusal(_("Please type the answer as text."))
        now = self.clock()
        async with self.repos.db.transaction():
            if not await self.store.answer(petition.id, member.id, text, now):
                raise Refusal(_("This petition is closed already."))
            await self.repos.audit(member_id=member.id, action="answer", entity="petition",
                                   entity_id=petition.ref, details={}, at=now)
        return await self._fresh(petition)

    async def close(self, member: Member, petition_id: int) -> Petition:
        """Close a petition: handling is finished."""
        petition = await self.get_for(member, petition_id)
        if not self.can_manage(member, petition):
            raise Refusal(_("Only the commune's officers can close petitions."))
        now = self.clock()
        async with self.repos.db.transaction():
            if not await self.store.close(petition.id, member.id, now):
                raise Refusal(_("This petition is closed already."))
            await self.repos.audit(member_id=member.id, action="close", entity="petition",
                                   entity_id=petition.ref, details={}, at=now)
        return await self._fresh(petition)

    # -- deadlines ------------------------------------------------------------------------
    def today(self, commune_code: str) -> date:
        """Today in the commune's time zone."""
        return local_date(self.clock(), self.settings.commune(commune_code).tz)

    def received_on(self, petition: Petition) -> date:
        """The day a petition arrived, in its commune's time zone."""
        return local_date(petition.created_at, self.settings.commune(petition.commune_code).tz)

    def is_overdue(self, petition: Petition) -> bool:
        """Past its due day and not closed."""
        return petition.is_open and petition.due_on < self.today(petition.commune_code)

    async def counts(self, commune_code: str) -> tuple[int, int]:
        """(open, overdue) petitions of a commune, for the digest."""
        return await self.store.open_counts(commune_code, self.today(commune_code))

    async def _fresh(self, petition: Petition) -> Petition:
        fresh = await self.store.get(petition.id)
        assert fresh is not None
        return fresh
