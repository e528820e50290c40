"""Progress of hamlets and volunteers against the plan's targets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock, week_start
from bot.config import Commune, Hamlet, Settings
from bot.models import Member
from storage.repositories import Repositories


def share(part: int, whole: int) -> float | None:
    """part/whole, or None when there is nothing to divide by."""
    return part / whole if whole > 0 else None


def gap(target_share: float, whole: int, done: int) -> int:
    """How many more are needed for done/whole to reach target_share."""
    # The small epsilon keeps 0.85 * 100 (= 85.00000000000001) from asking for 86.
    return max(0, math.ceil(target_share * whole - 1e-9) - done)


@dataclass(frozen=True)
class HamletProgress:
    """One hamlet's figures and shares, each next to its target."""

    hamlet: Hamlet
    commune: Commune
    capable_households: int
    level2_total: int
    activated_total: int
    visits_this_week: int

    @property
    def capable_share(self) -> float | None:
        return share(self.capable_households, self.hamlet.households)

    @property
    def level2_share(self) -> float | None:
        return share(self.level2_total, self.hamlet.eligible_citizens)

    @property
    def activation_share(self) -> float | None:
        return share(self.activated_total, self.level2_total)

    @property
    def capable_gap(self) -> int:
        """Households still needed to reach the target."""
        return gap(self.commune.targets.capable_households, self.hamlet.households,
                   self.capable_households)

    @property
    def level2_gap(self) -> int:
        return gap(self.commune.targets.level2_registration, self.hamlet.eligible_citizens,
                   self.level2_total)

    @property
    def activation_gap(self) -> int:
        return gap(self.commune.targets.activation, self.level2_total, self.activated_total)


@dataclass(frozen=True)
class MemberWeek:
    activation_records: int
    accounts_activated: int
    visits: int


class ProgressService:
    """Computes progress from stored records and the configured targets."""

    def __init__(self, repos: Repositories, settings: Settings, clock: Clock) -> None:
        self.repos = repos
        self.settings = settings
        self.clock = clock

    async def hamlets(self, commune: Commune, hamlet_codes: list[str] | None = None,
                      now: datetime | None = None) -> list[HamletProgress]:
        """Progress of a commune's hamlets (or some of them), in configuration order."""
        now = now or self.clock()
        chosen = [h for h in commune.hamlets if hamlet_codes is None or h.code in hamlet_codes]
        since = week_start(now, commune.tz)
        counts = await self.repos.hamlet_counts(
            [h.code for h in chosen], visits_since=since, visits_until=since + timedelta(days=7))
        return [
            HamletProgress(
                hamlet=h, commune=commune,
                capable_households=counts[h.code].capable_households,
                level2_total=h.level2_baseline + counts[h.code].level2_registered,
                activated_total=h.activated_baseline + counts[h.code].activated,
                visits_this_week=counts[h.code].visits,
            )
            for h in chosen
        ]

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
        records, activated, visits = await self.repos.member_counts(member.id, since)
        return MemberWeek(records, activated, visits)
