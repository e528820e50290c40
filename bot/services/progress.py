"""Progress of hamlets and volunteers against the plan's targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.clock import Clock, local_date, week_start
from bot.config import Commune, Hamlet
from bot.live_settings import LiveSettings, ReadsLiveSettings
from bot.measures import HamletIndicators, hamlet_indicators
from bot.models import Member
from storage.reports import FollowUp
from storage.repositories import Repositories


@dataclass(frozen=True)
class HamletProgress:
    """One hamlet's measures and this week's visits."""

    hamlet: Hamlet
    commune: Commune
    measures: HamletIndicators
    visits_this_week: int


@dataclass(frozen=True)
class MemberWeek:
    activation_records: int
    accounts_activated: int
    visits: int
    level2_registered: int = 0
    # The member's promised return visits due by tomorrow (overdue ones too), soonest first.
    follow_ups: tuple[FollowUp, ...] = ()
    today: date | None = None


class ProgressService(ReadsLiveSettings):
    """Computes progress from stored records and the configured targets."""

    def __init__(self, repos: Repositories, settings: LiveSettings, clock: Clock) -> None:
        self.repos = repos
        self.reports = repos.reports
        self.live = settings
        self.clock = clock

    async def hamlets(self, commune: Commune, hamlet_codes: list[str] | None = None,
                      now: datetime | None = None) -> list[HamletProgress]:
        """Progress of a commune's hamlets (or some of them), in configuration order."""
        now = now or self.clock()
        chosen = [h for h in commune.hamlets if hamlet_codes is None or h.code in hamlet_codes]
        since = week_start(now, commune.tz)
        counts = await self.repos.records.hamlet_counts(
            [h.code for h in chosen], visits_since=since, visits_until=since + timedelta(days=7))
        return [HamletProgress(h, commune, hamlet_indicators(commune, h, counts[h.code]),
                               counts[h.code].visits) for h in chosen]

    async def hamlet(self, hamlet_code: str) -> HamletProgress:
        """Progress of one hamlet."""
        found = self.settings.hamlet(hamlet_code)
        if found is None:
            raise KeyError(hamlet_code)
        commune, hamlet = found
        return (await self.hamlets(commune, [hamlet.code]))[0]

    async def member_week(self, member: Member) -> MemberWeek:
        """What a member logged since Monday, in their commune's time zone."""
        commune = self.settings.commune(member.commune_code)
        since = week_start(self.clock(), commune.tz)
        records, activated, visits, level2 = await self.repos.records.member_counts(member.id, since)
        today = local_date(self.clock(), commune.tz)
        hamlets = [member.hamlet_code] if member.hamlet_code else [h.code for h in
                                                                   commune.hamlets]
        due = [f for f in await self.reports.waiting_follow_ups(hamlets, member_id=member.id)
               if f.follow_up_on <= today + timedelta(days=1)]
        return MemberWeek(records, activated, visits, level2, tuple(due), today)
