"""What each scheduled report is, who receives it, and what it says to each recipient."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.config import WEEKDAYS, Commune
from bot.i18n import _, fmt_int, ngettext
from bot.messages import Document, Option, Reply
from bot.models import Member, Role
from bot.reports.digest import Digest, DigestService
from bot.reports.outbox import Outbox
from bot.reports.periods import PeriodKind, period_containing, period_from_key
from bot.reports.text import render_text
from bot.services import Services
from bot.services.records import TOPICS
from handlers.menu import next_actions
from storage.outbox import OutboxItem, Recipient

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DIGESTS = {"digest-week": PeriodKind.WEEK, "digest-month": PeriodKind.MONTH,
           "digest-quarter": PeriodKind.QUARTER}
REMINDER = "reminder"
FOLLOW_UP = "follow-up"
REPORTS = (*DIGESTS, REMINDER, FOLLOW_UP)
# The button under a digest that asks for its full detail (the same as /digest full).
DETAIL_OPTION = "nav:go:digest-full"


@dataclass(frozen=True)
class DigestFiles:
    text: str
    chart: bytes
    workbook: bytes
    filename: str


def digest_files(digest: Digest) -> DigestFiles:
    """Short text, chart and workbook of a digest, in the current language."""
    # Imported here: matplotlib and XlsxWriter are loaded when a digest is drawn, not at start.
    from bot.reports.chart import render_chart
    from bot.reports.workbook import render_workbook

    scope = "tong-hop" if digest.province_total is not None else digest.communes[0].code
    return DigestFiles(render_text(digest), render_chart(digest), render_workbook(digest),
                       f"bao-cao-{scope}-{digest.period.key}.xlsx")


def digest_replies(files: DigestFiles, title: str) -> list[Reply]:
    """The digest as messages: the short text with a "Details" button, the chart, the
    workbook."""
    return [Reply(files.text, [[Option(_("Details"), DETAIL_OPTION)]], replace=False),
            Reply(title, image=files.chart, replace=False),
            Reply(title, document=Document(files.filename, files.workbook, XLSX), replace=False)]


class ReportJobs:
    """Enqueues reports when their time comes and writes them for each recipient."""

    def __init__(self, services: Services, digests: DigestService) -> None:
        self.services = services
        self.digests = digests
        self.reports = services.repos.reports
        self.outbox: Outbox | None = None
        # One build per digest and language, shared by every recipient (and by concurrent
        # deliveries asking at the same moment).
        self._cache: dict[tuple[str, ...], asyncio.Task[DigestFiles]] = {}

    def period_key(self, report: str, commune: Commune, at: datetime) -> str:
        """The period a report fired at `at` covers: its week, the finished month or quarter."""
        if report == FOLLOW_UP:
            return at.astimezone(commune.tz).date().isoformat()
        if report == REMINDER:
            return period_containing(PeriodKind.WEEK, at, commune.tz).key
        kind = DIGESTS[report]
        current = period_containing(kind, at, commune.tz)
        return current.key if kind is PeriodKind.WEEK else current.previous().key

    async def recipients(self, report: str, commune: Commune, period: str) -> list[Member]:
        """Officers (and province officers) get digests; volunteers reminders and follow-ups."""
        repos = self.services.repos
        if report in DIGESTS:
            return (await repos.members.matching(commune_code=commune.code, role=Role.OFFICER)
                    + await repos.members.matching(role=Role.PROVINCE))
        volunteers = await repos.members.matching(commune_code=commune.code, role=Role.VOLUNTEER)
        if report == REMINDER:
            return volunteers
        due = await self.reports.waiting_follow_ups([h.code for h in commune.hamlets],
                                                    due_on=date.fromisoformat(period))
        owners = {f.member_id for f in due}
        return [m for m in volunteers if m.id in owners]

    async def fire(self, report: str, commune: Commune, at: datetime) -> int:
        """Queue a report for its recipients (idempotent); returns how many rows were new."""
        assert self.outbox is not None
        period = self.period_key(report, commune, at)
        # Each member is written to on the channel they prefer (/kenh), decided when queued.
        accounts = self.services.accounts
        to = [Recipient(*await accounts.reach(m.channel, m.external_id), member_id=m.id)
              for m in await self.recipients(report, commune, period)]
        return await self.outbox.enqueue(report, period, to)

    async def content(self, item: OutboxItem, member: Member) -> list[Reply]:
        """The messages for one outbox row, in the member's language (set by the caller)."""
        if item.report in DIGESTS:
            return await self._digest(item, member)
        if item.report == REMINDER:
            # A reminder caught up after the deadline would only confuse: skip it.
            if self._past_deadline(member, item.period):
                return []
            return [await self._reminder(member)]
        day = date.fromisoformat(item.period)
        if member.commune_code and day < self._today(member):
            return []  # "today you planned…" makes no sense a day late
        return await self._follow_up(member, day)

    def _today(self, member: Member) -> date:
        commune = self.services.settings.commune(str(member.commune_code))
        return self.services.clock().astimezone(commune.tz).date()

    def _past_deadline(self, member: Member, week_key: str) -> bool:
        """Whether the week's report deadline (digest day and time) has passed."""
        if member.commune_code is None:
            return False
        commune = self.services.settings.commune(member.commune_code)
        schedule = self.services.settings.schedule
        week = period_from_key(PeriodKind.WEEK, week_key, commune.tz)
        day = week.start + timedelta(days=WEEKDAYS.index(schedule.digest_day))
        hour, minute = (int(x) for x in schedule.digest_time.split(":"))
        deadline = datetime.combine(day, time(hour, minute), tzinfo=commune.tz)
        return self.services.clock() > deadline

    async def _digest(self, item: OutboxItem, member: Member) -> list[Reply]:
        province = member.role is Role.PROVINCE
        scope = "*" if province else str(member.commune_code)
        key = (item.report, item.period, scope, member.language)
        task = self._cache.get(key)
        if task is None or (task.done() and task.exception() is not None):
            task = self._cache[key] = asyncio.create_task(
                self._build(DIGESTS[item.report], None if province else [scope], item.period))
        files = await asyncio.shield(task)
        return digest_replies(files, files.text.splitlines()[0])

    async def _build(self, kind: PeriodKind, communes: list[str] | None,
                     period: str) -> DigestFiles:
        digest = await self.digests.build(kind, communes, period_key=period)
        # Drawing and the workbook take a while for a province: keep the event loop free.
        return await asyncio.to_thread(digest_files, digest)

    async def _reminder(self, member: Member) -> Reply:
        services = self.services
        week = await services.progress.member_week(member)
        schedule = services.settings.schedule
        lines = [_("Hello {name}! The weekly report closes today at {time}.").format(
            name=member.display_name, time=schedule.digest_time)]
        if week.activation_records or week.visits:
            lines.append(_("This week you logged {activations} and {visits}. Thank you!").format(
                activations=ngettext("{n} activation entry", "{n} activation entries",
                                     week.activation_records).format(
                    n=fmt_int(week.activation_records)),
                visits=ngettext("{n} guidance visit", "{n} guidance visits",
                                week.visits).format(n=fmt_int(week.visits))))
        else:
            lines.append(_("I have not seen an entry from you this week yet. Even one visit "
                           "helps, and logging it takes a minute."))
        if member.hamlet_code:
            p = await services.progress.hamlet(member.hamlet_code)
            lines.append(_("{hamlet} still needs: {households} households with someone who can "
                           "use VNeID, {level2} level-2 registrations, {activated} "
                           "activations.").format(
                hamlet=p.hamlet.name, households=fmt_int(p.measures.capable.gap),
                level2=fmt_int(p.measures.level2.gap),
                activated=fmt_int(p.measures.activation.gap)))
        return Reply("\n".join(lines), next_actions(), replace=False)

    async def _follow_up(self, member: Member, day: date) -> list[Reply]:
        hamlets = [member.hamlet_code] if member.hamlet_code else []
        due = await self.reports.waiting_follow_ups(hamlets, due_on=day, member_id=member.id)
        if not due:
            return []  # already visited again: nothing to remind
        lines = [ngettext("Today you planned to go back to {n} household:",
                          "Today you planned to go back to {n} households:",
                          len(due)).format(n=len(due))]
        for f in due:
            topics = ", ".join(_(TOPICS[t]) for t in f.topics if t in TOPICS)
            lines.append(f"• {f.head_name} ({f.household_code}): {topics}")
        return [Reply("\n".join(lines), next_actions(), replace=False)]

    def forget_cache(self) -> None:
        """Drop built digests (after a delivery run, so the next run sees fresh figures)."""
        self._cache.clear()


