"""The digest's figures: per hamlet against targets, pace, who is behind, who is active.

Adding a section to the digest: give `CommuneDigest` a field, fill it in
`DigestService._communes` with one statement for all the communes (storage/digest_figures.py),
then add a line to the short text (`bot/reports/text.py`: `ACTION_ITEMS` or `DETAIL_SECTIONS`)
and, when it has rows, a sheet to the workbook.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.config import Commune
from bot.errors import Refusal
from bot.i18n import N_, _
from bot.live_settings import LiveSettings, ReadsLiveSettings
from bot.measures import Indicator, hamlet_indicators
from bot.models import Member
from bot.reports.periods import Period, PeriodKind, period_containing, period_from_key
from storage.detail_rows import (
    ActivationRow,
    CommuneWindow,
    PetitionRow,
    QuestionRow,
    StoredDetailRows,
)
from storage.digest_figures import DigestFigures, Window
from storage.reports import FollowUp, HamletActivity, OfficeFigure, VisitRow, VolunteerActivity
from storage.repositories import Repositories

OFFICE_INDICATORS: dict[str, str] = {
    "online_dossiers": N_("Dossiers submitted online"),
    "digitised_results": N_("Results digitised"),
    "synced_to_portal": N_("Results synced to the national portal"),
    "online_payments": N_("Fees paid online"),
    "on_time": N_("Dossiers settled on time"),
    "satisfaction": N_("Citizen satisfaction with procedures"),
}
MAX_OFFICE_FIGURE = 10_000_000
BEHIND_COUNT = 3
# Follow-ups overdue by more than a month are stale: the digest shows the more recent ones.
FOLLOW_UP_WINDOW_DAYS = 30
TOP_VOLUNTEERS = 5
MAX_FOLLOW_UPS_SHOWN = 5


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
    follow_ups: list[FollowUp]  # the soonest due; the workbook lists them all
    office: list[OfficeLine]
    office_period: str
    campaign: CampaignPace | None
    follow_ups_waiting: int = 0
    open_questions: int = 0
    # Citizens' petitions (phản ánh, kiến nghị) not closed yet, and those past their time limit.
    open_petitions: int = 0
    overdue_petitions: int = 0
    # Citizens' ratings of the help desk's answers (helpful, of all rated): not the plan's
    # satisfaction indicator, which is about how procedures were handled.
    answer_ratings: Indicator | None = None


class DetailRows(Protocol):
    """Every record behind a digest, read when the workbook is written."""

    def visits(self, commune_code: str) -> Iterable[VisitRow]: ...

    def activations(self, commune_code: str) -> Iterable[ActivationRow]: ...

    def follow_ups(self, commune_code: str) -> Iterable[FollowUp]: ...

    def questions(self, commune_code: str) -> Iterable[QuestionRow]: ...

    def petitions(self, commune_code: str) -> Iterable[PetitionRow]: ...


class NoDetailRows:
    """A digest without stored records behind it (built by hand)."""

    def visits(self, commune_code: str) -> list[VisitRow]:
        return []

    def activations(self, commune_code: str) -> list[ActivationRow]:
        return []

    def follow_ups(self, commune_code: str) -> list[FollowUp]:
        return []

    def questions(self, commune_code: str) -> list[QuestionRow]:
        return []

    def petitions(self, commune_code: str) -> list[PetitionRow]:
        return []


@dataclass
class Digest:
    period: Period
    cut_at: datetime
    communes: list[CommuneDigest]
    province_name: str | None = None
    province_total: HamletLine | None = None
    province_rows: list[HamletLine] = field(default_factory=list)  # one per commune
    rows: DetailRows = field(default_factory=NoDetailRows, repr=False)


def furthest_behind(lines: Sequence[HamletLine]) -> list[HamletLine]:
    """Lowest share of capable households first, then of level-2 registrations."""
    return sorted(lines, key=lambda line: (line.capable.share or 0, line.level2.share or 0))


def _window(period: Period, now: datetime) -> Window:
    """The period up to now and, for "change from last week", the same stretch before it."""
    # Records stamped at exactly `now` belong in the figures: the window ends just after.
    cut = min(now + timedelta(microseconds=1), period.until)
    before = period.previous()
    return Window(period.since, cut, before.since, min(before.until, before.since
                                                        + (cut - period.since)))


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


class DigestService(ReadsLiveSettings):
    """Builds digests from stored records and the configured targets."""

    def __init__(self, repos: Repositories, settings: LiveSettings, clock: Clock) -> None:
        self.repos = repos
        self.reports = repos.reports
        self.figures = DigestFigures(repos.db)
        self.live = settings
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

        # Communes in the same time zone share a period: each group's measures are one
        # statement per measure, whatever the number of communes.
        groups: dict[Window, list[Commune]] = {}
        periods: dict[str, Period] = {}
        for commune in communes:
            period = periods[commune.code] = period_of(commune)
            groups.setdefault(_window(period, now), []).append(commune)
        built: dict[str, CommuneDigest] = {}
        for window, members in groups.items():
            for d in await self._communes(members, periods, window):
                built[d.code] = d
        digests = [built[c.code] for c in communes]
        first = periods[communes[0].code]
        cut_at = _window(first, now).cut
        windows = [CommuneWindow(
            c.code, tuple(h.code for h in c.hamlets), periods[c.code].since,
            _window(periods[c.code], now).cut,
            periods[c.code].start - timedelta(days=FOLLOW_UP_WINDOW_DAYS)) for c in communes]
        digest = Digest(first, cut_at, digests, rows=StoredDetailRows(self.repos.db.target,
                                                                        windows))
        if len(digests) > 1 or (commune_codes is None and self.settings.province):
            rows = [_sum_lines(d.code, d.name, d.name, d.hamlets, d.total.visits_target)
                    for d in digests]
            name = self.settings.province.name if self.settings.province else ""
            digest.province_name = name
            digest.province_rows = rows
            digest.province_total = _sum_lines(
                "*", name, name, rows, sum(r.visits_target for r in rows))
        return digest

    async def _communes(self, communes: list[Commune], periods: dict[str, Period],
                        window: Window) -> list[CommuneDigest]:
        """The digests of communes sharing one period window."""
        codes = [h.code for c in communes for h in c.hamlets]
        names = [c.code for c in communes]
        figures = await self.figures.hamlets(codes, window)
        volunteers = await self.figures.volunteers(names, codes, window)
        period = periods[communes[0].code]
        waiting = await self.figures.follow_ups(
            names, codes, period.start - timedelta(days=FOLLOW_UP_WINDOW_DAYS), MAX_FOLLOW_UPS_SHOWN)
        office_keys = {c.code: self._office_months(c, periods[c.code], window.cut)
                       for c in communes}
        office = await self.figures.office_figures(
            names, sorted({k for keys in office_keys.values() for k in keys}))
        questions = await self.figures.open_questions(names)
        petitions = await self.figures.open_petitions(names)
        ratings = await self.figures.answer_ratings(names, window)
        result = []
        for commune in communes:
            period = periods[commune.code]
            visits_target = _scaled_target(commune.targets.weekly_visits_per_hamlet, period)
            lines = []
            for hamlet in commune.hamlets:
                f = figures[hamlet.code]
                measures = hamlet_indicators(commune, hamlet, f.totals)
                lines.append(HamletLine(
                    code=hamlet.code, name=hamlet.name, commune_name=commune.name,
                    households=hamlet.households, capable=measures.capable,
                    level2=measures.level2, activation=measures.activation,
                    visits=f.logged.visits, visits_before=f.visits_before,
                    visits_target=visits_target, logged=f.logged))
            total = _sum_lines(commune.code, commune.name, commune.name, lines,
                               visits_target * len(lines))
            active, quiet = volunteers[commune.code]
            keys = office_keys[commune.code]
            good, rated = ratings.get(commune.code, (0, 0))
            due = petitions.get(commune.code, {})
            today = window.cut.astimezone(commune.tz).date()
            result.append(CommuneDigest(
                code=commune.code, name=commune.name, hamlets=lines, total=total,
                behind=furthest_behind(lines)[:BEHIND_COUNT],
                volunteers=active[:TOP_VOLUNTEERS], quiet_volunteers=quiet,
                follow_ups=waiting[commune.code].first,
                follow_ups_waiting=waiting[commune.code].count,
                office=self._office(commune, [f for k in keys
                                              for f in office.get((commune.code, k), [])]),
                office_period=period.key if period.kind is PeriodKind.QUARTER else keys[0],
                campaign=await self._campaign(commune, lines, window.cut),
                open_questions=questions.get(commune.code, 0),
                open_petitions=sum(due.values()),
                overdue_petitions=sum(n for day, n in due.items() if day < today),
                answer_ratings=Indicator(good, rated, None) if rated else None))
        return result

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
            raise Refusal(_("Please choose an indicator."))
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

    @staticmethod
    def _office(commune: Commune, entered: list[OfficeFigure]) -> list[OfficeLine]:
        """Office indicators with a target or a figure, months of a quarter added up. The
        plan's satisfaction figure is only what the office entered: ratings of the help desk's
        answers measure something else and are shown apart."""
        figures: dict[str, OfficeFigure] = {}
        for fig in entered:
            old = figures.get(fig.indicator)
            figures[fig.indicator] = fig if old is None else OfficeFigure(
                fig.indicator, old.done + fig.done, old.total + fig.total)
        targets = commune.office_targets
        return [OfficeLine(code, label, figures.get(code), getattr(targets, code))
                for code, label in OFFICE_INDICATORS.items()
                if getattr(targets, code) is not None or code in figures]

    async def _campaign(self, commune: Commune, lines: list[HamletLine], cut_at: datetime
                        ) -> CampaignPace | None:
        campaign = commune.campaign
        if campaign is None:
            return None
        today = cut_at.astimezone(commune.tz).date()
        days_left = max(0, (campaign.end - today).days)
        if campaign.eligible_citizens:
            # The campaign's own baseline (a district's) plus what was logged since it began.
            start = datetime.combine(campaign.start, datetime.min.time(), tzinfo=commune.tz)
            level2, activated = await self.figures.logged_since(
                [h.code for h in commune.hamlets], start, cut_at)
            eligible = campaign.eligible_citizens
            level2 += campaign.level2_baseline or 0
            activated += campaign.activated_baseline or 0
        else:
            eligible = sum(line.level2.whole for line in lines)
            level2 = sum(line.level2.done for line in lines)
            activated = sum(line.activation.done for line in lines)
        return CampaignPace(
            name=campaign.name, start=campaign.start, end=campaign.end, days_left=days_left,
            level2=Indicator(level2, eligible, campaign.level2_target),
            activation=Indicator(activated, level2, campaign.activation_target))
