"""APScheduler cron triggers in each commune's time zone, and catch-up after downtime."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock
from bot.config import Commune, Schedule, Settings
from bot.maintenance import prune
from bot.reports.jobs import FOLLOW_UP, REMINDER, ReportJobs
from bot.reports.outbox import Outbox
from bot.services.places import IMPORTED_TIMEZONE

log = logging.getLogger(__name__)


def _hm(text: str) -> tuple[int, int]:
    hour, minute = text.split(":")
    return int(hour), int(minute)


def cron_fields(report: str, schedule: Schedule) -> dict[str, object]:
    """CronTrigger fields for a report (weekly digest Friday 15:00 by default)."""
    if report == "digest-week":
        hour, minute = _hm(schedule.digest_time)
        return {"day_of_week": schedule.digest_day, "hour": hour, "minute": minute}
    if report == REMINDER:
        hour, minute = _hm(schedule.reminder_time)
        return {"day_of_week": schedule.reminder_day, "hour": hour, "minute": minute}
    if report == FOLLOW_UP:
        hour, minute = _hm(schedule.follow_up_time)
        return {"hour": hour, "minute": minute}
    if report == "digest-month":
        hour, minute = _hm(schedule.monthly_time)
        return {"day": 1, "hour": hour, "minute": minute}
    if report == "digest-quarter":
        hour, minute = _hm(schedule.quarterly_time)
        return {"month": "1,4,7,10", "day": 1, "hour": hour, "minute": minute}
    raise KeyError(report)


@dataclass(frozen=True)
class Planned:
    """One trigger: a report for every commune of one time zone."""

    report: str
    zone: str
    communes: tuple[Commune, ...]
    trigger: CronTrigger

    @property
    def job_id(self) -> str:
        return f"{self.report}:{self.zone}"


def plan(settings: Settings, *, zone: str | None = None) -> list[Planned]:
    """Every report with its trigger, once per time zone of the communes (or for one zone
    only): the schedule is the deployment's, so a country of thousands of communes (one
    zone) has five report triggers, not five each."""
    reports = ("digest-week", REMINDER, FOLLOW_UP, "digest-month", "digest-quarter")
    zones: dict[str, list[Commune]] = {} if zone is None else {zone: []}
    for commune in settings.communes:
        if zone is None or commune.timezone == zone:
            zones.setdefault(commune.timezone, []).append(commune)
    return [Planned(report, name, tuple(communes),
                    CronTrigger(timezone=ZoneInfo(name), **cron_fields(report, settings.schedule)))
            for name, communes in zones.items() for report in reports]


def last_fire_time(trigger: CronTrigger, now: datetime, window: timedelta) -> datetime | None:
    """The latest time the trigger fired in (now - window, now], if any."""
    last = None
    moment = trigger.get_next_fire_time(None, now - window)
    while moment is not None and moment <= now:
        last = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return last


class ReportScheduler:
    """Runs report triggers and a delivery loop; catches up on reports missed while down."""

    def __init__(self, jobs: ReportJobs, outbox: Outbox, clock: Clock,
                 *, deliver_every: timedelta = timedelta(seconds=30)) -> None:
        self.services = jobs.services
        self.jobs = jobs
        self.outbox = outbox
        self.clock = clock
        self.deliver_every = deliver_every
        self.scheduler: AsyncIOScheduler | None = None

    @property
    def settings(self) -> Settings:
        """The deployment's settings with the places as this worker last read them."""
        return self.services.settings

    async def catch_up(self) -> int:
        """Queue reports whose time came while the bot was down (within the grace window)."""
        await self.services.follow_places()
        now = self.clock()
        window = timedelta(hours=self.settings.schedule.catch_up_hours)
        queued = 0
        for planned in plan(self.settings):
            fired = last_fire_time(planned.trigger, now, window)
            if fired is not None:
                for commune in planned.communes:
                    queued += await self.jobs.fire(planned.report, commune, fired)
        if queued:
            log.info("catch-up: %d report messages queued", queued)
        await self.deliver()
        return queued

    async def run(self, report: str, *commune_codes: str, zone: str | None = None) -> None:
        """A trigger fired: queue the report for these communes, or for every commune of a
        time zone as the places are now, and deliver it. Every worker runs the triggers; only
        the leader fires them (a second fire would find the outbox rows queued already)."""
        if not await self.services.db.try_lead("scheduler"):
            return
        await self.services.follow_places()
        settings, now = self.settings, self.clock()
        communes = ([c for c in settings.communes if c.timezone == zone] if zone is not None
                    else [settings.commune(code) for code in commune_codes])
        for commune in communes:
            await self.jobs.fire(report, commune, now)
        await self.deliver()

    async def deliver(self) -> None:
        """Send what is due (digests drawn with the current places), then drop cached digests
        so the next run is fresh."""
        try:
            await self.services.follow_places()
            await self.outbox.deliver_due()
        finally:
            self.jobs.forget_cache()

    def start(self) -> AsyncIOScheduler:
        """Start the triggers on the running event loop."""
        grace = int(self.settings.schedule.catch_up_hours * 3600) or None
        # Each trigger carries its commune's zone; UTC here keeps the host's zone out of it.
        scheduler = AsyncIOScheduler(timezone=UTC)
        planned = plan(self.settings)
        # The zone of the imported list too, though no commune of it is served yet: a later
        # import finds its triggers running. Each fire looks its communes up then.
        if all(p.zone != IMPORTED_TIMEZONE for p in planned):
            planned += plan(self.settings, zone=IMPORTED_TIMEZONE)
        for one in planned:
            scheduler.add_job(self.run, one.trigger, args=[one.report],
                              kwargs={"zone": one.zone}, id=one.job_id,
                              misfire_grace_time=grace, coalesce=True, max_instances=1)
        scheduler.add_job(self.deliver, IntervalTrigger(seconds=self.deliver_every.seconds),
                          id="outbox", coalesce=True, max_instances=1)
        # Retention (bot/maintenance.py), at night in the first commune's zone.
        scheduler.add_job(prune, CronTrigger(hour=2, minute=30,
                                             timezone=self.settings.communes[0].tz),
                          args=[self.services], id="retention", coalesce=True,
                          max_instances=1, misfire_grace_time=3600)
        scheduler.start()
        self.scheduler = scheduler
        return scheduler

    def shutdown(self) -> None:
        """Stop the triggers."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
