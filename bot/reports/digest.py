"""The digest's figures: per hamlet against targets, pace, who is behind, who is active."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.clock import Clock
from bot.config import Commune, Settings
from bot.errors import Refusal
from bot.i18n import N_, _
from bot.measures import Indicator, hamlet_indicators
from bot.models import Member, Role
from bot.reports.periods import Period, PeriodKind, period_containing, period_from_key
from storage.repositories import (
    FollowUp,
    HamletActivity,
    HelpdeskRepository,
    OfficeFigure,
    ReportRepository,
    Repositories,
    VisitRow,
    VolunteerActivity,
)

OFFICE_INDICATORS: dict[str, str] = {
    "online_dossiers": N_("Dossiers submitted online"),
    "digitised_results": N_("Results digitised"),
    "synced_to_portal": N_("Results synced to the national portal"),
    "online_payments": N_("Fees paid online"),
    "on_time": N_("Dossiers settled on time"),
    "satisfaction": N_("Citizen satisfaction"),
}
MAX_OFFICE_FIGURE = 10_000_000
BEHIND_COUNT = 3
FOLLOW_UP_WINDOW_DAYS = 30
TOP_VOLUNTEERS = 5


@dataclass(frozen=True)
class HamletLine:
    """One row of the digest: a hamlet (or a commune/province total)."""

    code: str
    name: str
    commune_name: str
    households: int
    capable: Indicator
    level2: Indicator
    activation: Indicator
    visits: int
    visits_before: int
    visits_target: int
    logged: HamletActivity

    @property
    def visits_change(self) -> int:
        return self.visits - self.visits_before


@dataclass(frozen=True)
class CampaignPace:
    name: str
    start: date
    end: date
    days_left: int
    level2: Indicator
    activation: Indicator

    @property
    def level2_per_day(self) -> int:
        return math.ceil(self.level2.gap / self.days_left) if self.days_left else self.level2.gap

    @property
    def activation_per_day(self) -> int:
        if not self.days_left:
            return self.activation.gap
        return math.ceil(self.activation.gap / self.days_left)


@dataclass(frozen=True)
class OfficeLine:
    indicator: str
    label: str  # msgid: translate when rendering
    figure: OfficeFigure | None
    target: float | None

    @property
    def as_indicator(self) -> Indicator | None:
        if self.figure is None:
            return None
        return Indicator(self.figure.done, self.figure.total, self.target)


@dataclass
class CommuneDigest:
    code: str
    name: str
    hamlets: list[HamletLine]
    total: HamletLine
    behind: list[HamletLine]
    volunteers: list[VolunteerActivity]
    quiet_volunteers: int
    follow_ups: list[FollowUp]
    office: list[OfficeLine]
    office_period: str
    campaign: CampaignPace | None
    visits: list[VisitRow] = field(repr=False)
    open_questions: int = 0


@dataclass
class Digest:
    period: Period
    cut_at: datetime
    communes: list[CommuneDigest]
    province_name: str | None = None
    province_total: HamletLine | None = None
    province_rows: list[HamletLine] = field(default_factory=list)  # one per commune


def _scaled_target(weekly: int, period: Period) -> int:
    return round(weekly * (period.end - period.start).days / 7)


def _sum_lines(code: str, name: str, commune_name: str, lines: list[HamletLine],
               visits_target: int) -> HamletLine:
    first = lines[0]
    total = HamletLine(code, name, commune_name, 0, Indicator(0, 0, first.capable.target),
                       Indicator(0, 0, first.level2.target),
                       Indicator(0, 0, first.activation.target), 0, 0, visits_target,
                       HamletActivity())
    for line in lines:
        total = HamletLine(
            code, name, commune_name, total.households + line.households,
            total.capable + line.capable, total.level2 + line.level2,
            total.activation + line.activation, total.visits + line.visits,
            total.visits_before + line.visits_before, visits_target,
            HamletActivity(*(a + b for a, b in zip(
                (total.logged.activation_records, total.logged.level2_registered,
                 total.logged.activated, total.logged.newly_capable, total.logged.visits),
                (line.logged.activation_records, line.logged.level2_registered,
                 line.logged.activated, line.logged.newly_capable, line.logged.visits),
                strict=True))))
    return total


class DigestService:
    """Builds digests from stored records and the configured targets."""

    def __init__(self, repos: Repositories, settings: Settings, clock: Clock) -> None:
        self.repos = repos
        self.reports = ReportRepository(repos.db)
        self.helpdesk = HelpdeskRepository(repos.db)
        self.settings = settings
        self.clock = clock

    def period(self, kind: PeriodKind, commune: Commune, *, previous: bool = False,
               now: datetime | None = None) -> Period:
        """The current (or just finished) period of a kind in a commune's time zone."""
        current = period_containing(kind, now or self.clock(), commune.tz)
        return current.previous() if previous else current

    async def build(self, kind: PeriodKind, commune_codes: list[str] | None = None, *,
                    previous: bool = False, period_key: str | None = None,
                    now: datetime | None = None) -> Digest:
        """A digest of these communes (all when None) for a period: the current one, the
        previous one, or the one named by its key."""
        now = now or self.clock()
        communes = [c for c in self.settings.communes
                    if commune_codes is None or c.code in commune_codes]
        if not communes:
            raise KeyError(commune_codes)

        def period_of(commune: Commune) -> Period:
            if period_key is not None:
                return period_from_key(kind, period_key, commune.tz)
            return self.period(kind, commune, previous=previous, now=now)

        period = period_of(communes[0])
        # Records stamped at exactly `now` belong in the figures: the window ends just after.
        cut_at = min(now + timedelta(microseconds=1), period.until)
        digests = [await self._commune(c, period_of(c), cut_at) for c in communes]
        digest = Digest(period, cut_at, digests)
        if len(digests) > 1 or (commune_codes is None and self.settings.province):
            rows = [_sum_lines(d.code, d.name, d.name, d.hamlets, d.total.visits_target)
                    for d in digests]
            name = self.settings.province.name if self.settings.province else ""
            digest.province_name = name
            digest.province_rows = rows
            digest.province_total = _sum_lines(
                "*", name, name, rows, sum(r.visits_target for r in rows))
        return digest

    async def _commune(self, commune: Commune, period: Period, cut_at: datetime
                       ) -> CommuneDigest:
        codes = [h.code for h in commune.hamlets]
        elapsed = cut_at - period.since
        before = period.previous()
        # "Change from last week" compares like with like: the same stretch of the week before.
        before_until = min(before.until, before.since + elapsed)
        totals = await self.repos.hamlet_counts(codes)
        now_activity = await self.reports.activity_by_hamlet(codes, period.since, cut_at)
        before_activity = await self.reports.activity_by_hamlet(codes, before.since,
                                                                before_until)
        visits_target = _scaled_target(commune.targets.weekly_visits_per_hamlet, period)
        lines = []
        for hamlet in commune.hamlets:
            measures = hamlet_indicators(commune, hamlet, totals[hamlet.code])
            lines.append(HamletLine(
                code=hamlet.code, name=hamlet.name, commune_name=commune.name,
                households=hamlet.households, capable=measures.capable,
                level2=measures.level2, activation=measures.activation,
                visits=now_activity[hamlet.code].visits,
                visits_before=before_activity[hamlet.code].visits,
                visits_target=visits_target, logged=now_activity[hamlet.code]))
        total = _sum_lines(commune.code, commune.name, commune.name, lines,
                           visits_target * len(lines))
        behind = sorted(lines, key=lambda line: (line.capable.share or 0,
                                                 line.level2.share or 0))[:BEHIND_COUNT]
        volunteers = await self.reports.volunteer_activity(codes, period.since, cut_at)
        members = await self.repos.members(commune_code=commune.code, role=Role.VOLUNTEER)
        active_ids = {v.member_id for v in volunteers}
        office_keys = self._office_months(commune, period, cut_at)
        return CommuneDigest(
            code=commune.code, name=commune.name, hamlets=lines, total=total, behind=behind,
            volunteers=volunteers[:TOP_VOLUNTEERS],
            quiet_volunteers=sum(1 for m in members if m.id not in active_ids),
            # Follow-ups overdue by more than a month are stale; the list shows recent ones.
            follow_ups=await self.reports.waiting_follow_ups(
                codes, due_since=period.start - timedelta(days=FOLLOW_UP_WINDOW_DAYS)),
            office=await self._office(commune, office_keys, period, cut_at),
            open_questions=await self.helpdesk.count_open(commune.code),
            office_period=period.key if period.kind is PeriodKind.QUARTER else office_keys[0],
            campaign=await self._campaign(commune, cut_at),
            visits=await self.reports.visits_between(codes, period.since, cut_at))

    @staticmethod
    def _office_months(commune: Commune, period: Period, cut_at: datetime) -> list[str]:
        """Office figures are entered per month: a week shows its month, a quarter adds three."""
        if period.kind is PeriodKind.QUARTER:
            return [f"{period.start.year}-{period.start.month + i:02d}" for i in range(3)]
        if period.kind is PeriodKind.MONTH:
            return [period.key]
        return [period_containing(PeriodKind.MONTH, cut_at, commune.tz).key]

    def office_month(self, commune_code: str) -> str:
        """The month office figures are entered for now ("2026-11")."""
        commune = self.settings.commune(commune_code)
        return period_containing(PeriodKind.MONTH, self.clock(), commune.tz).key

    async def set_office_figure(self, member: Member, indicator: str, done: int,
                                total: int) -> None:
        """Store this month's figure for an office indicator, with an audit row."""
        if indicator not in OFFICE_INDICATORS:
            raise Refusal(_("Please tap an indicator."))
        if total <= 0 or done < 0 or done > total or total > MAX_OFFICE_FIGURE:
            raise Refusal(_("The count must not exceed the total, and the total must be "
                            "above zero."))
        commune = str(member.commune_code)
        month = self.office_month(commune)
        now = self.clock()
        async with self.repos.db.transaction():
            await self.reports.set_office_figure(commune, month, indicator, done, total,
                                                 member.id, now)
            await self.repos.audit(member_id=member.id, action="set", entity="office_figure",
                                   entity_id=f"{commune}:{month}:{indicator}",
                                   details={"done": done, "total": total}, at=now)

    async def _office(self, commune: Commune, keys: list[str], period: Period,
                      cut_at: datetime) -> list[OfficeLine]:
        figures: dict[str, OfficeFigure] = {}
        for key in keys:
            for code, fig in (await self.reports.office_figures(commune.code, key)).items():
                old = figures.get(code)
                figures[code] = fig if old is None else OfficeFigure(
                    code, old.done + fig.done, old.total + fig.total)
        if "satisfaction" not in figures:
            # Without a figure from the office, citizens' ratings of the help desk stand in.
            good, rated = await self.helpdesk.satisfaction(commune.code, period.since, cut_at)
            if rated:
                figures["satisfaction"] = OfficeFigure("satisfaction", good, rated)
        targets = commune.office_targets
        return [OfficeLine(code, label, figures.get(code), getattr(targets, code))
                for code, label in OFFICE_INDICATORS.items()
                if getattr(targets, code) is not None or code in figures]

    async def _campaign(self, commune: Commune, cut_at: datetime) -> CampaignPace | None:
        campaign = commune.campaign
        if campaign is None:
            return None
        today = cut_at.astimezone(commune.tz).date()
        days_left = max(0, (campaign.end - today).days)
        codes = [h.code for h in commune.hamlets]
        if campaign.eligible_citizens:
            # The campaign's own baseline (a district's) plus what was logged since it began.
            start = datetime.combine(campaign.start, datetime.min.time(), tzinfo=commune.tz)
            logged = (await self.reports.activity_by_hamlet(codes, start, cut_at)).values()
            eligible = campaign.eligible_citizens
            level2 = (campaign.level2_baseline or 0) + sum(a.level2_registered for a in logged)
            activated = (campaign.activated_baseline or 0) + sum(a.activated for a in logged)
        else:
            counts = (await self.repos.hamlet_counts(codes)).values()
            eligible = sum(h.eligible_citizens for h in commune.hamlets)
            level2 = sum(h.level2_baseline for h in commune.hamlets) + sum(
                c.level2_registered for c in counts)
            activated = sum(h.activated_baseline for h in commune.hamlets) + sum(
                c.activated for c in counts)
        return CampaignPace(
            name=campaign.name, start=campaign.start, end=campaign.end, days_left=days_left,
            level2=Indicator(level2, eligible, campaign.level2_target),
            activation=Indicator(activated, level2, campaign.activation_target))
