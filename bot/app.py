"""Composition root: settings, database, services and router are built here and nowhere else."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.reports.digest import DigestService
from bot.reports.jobs import ReportJobs
from bot.reports.outbox import Outbox, Sender
from bot.scheduler import ReportScheduler
from bot.services import Services
from handlers.router import Router
from storage.engine import open_database


@contextlib.asynccontextmanager
async def open_services(settings: Settings, *, clock: Clock = system_clock,
                        database_path: str | None = None) -> AsyncIterator[Services]:
    """Open the database (migrated), mirror the configured places, and close it afterwards."""
    db = await open_database(database_path or settings.database_path).open()
    reader = db
    try:
        reader = await db.open_reader()
        services = Services.build(settings, db, clock, reader=reader)
        await services.sync_places()
        yield services
    finally:
        if reader is not db:
            await reader.close()
        await db.close()


def build_router(services: Services) -> Router:
    """The router every channel hands its messages to."""
    return Router(services)


def setup_logging(level: int = logging.INFO) -> None:
    """Plain logs on stderr; python-telegram-bot's HTTP chatter kept at warnings."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Reporting:
    """Digests, the outbox and the scheduler, wired over the services."""

    digests: DigestService
    jobs: ReportJobs
    outbox: Outbox
    scheduler: ReportScheduler


def build_reporting(services: Services, senders: dict[str, Sender],
                    **outbox_options: Any) -> Reporting:
    """Wire the reporting side; channels hand in how they push messages (and may pace them)."""
    digests = services.report_builds
    jobs = ReportJobs(services, digests)
    outbox = Outbox(services.db, services.repos, services.clock, jobs.content, senders,
                    **outbox_options)
    jobs.outbox = outbox
    scheduler = ReportScheduler(services.settings, jobs, outbox, services.clock)
    return Reporting(digests, jobs, outbox, scheduler)
