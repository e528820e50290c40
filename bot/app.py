"""Composition root: settings, database, services and router are built here and nowhere else."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from bot import redaction
from bot.clock import Clock, system_clock
from bot.config import ConfigError, Settings
from bot.reports.digest import DigestService
from bot.reports.jobs import ReportJobs
from bot.reports.outbox import Outbox, Sender
from bot.scheduler import ReportScheduler
from bot.services import Services
from handlers.router import Router
from storage.engine import open_database


class DatabaseProblem(Exception):
    """The database cannot be used (damaged, locked by another program, unwritable)."""


def describe_database_error(path: str, exc: sqlite3.Error) -> str:
    """What went wrong with the database file, and what to do, for the person starting the bot."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return (f"error: the database {path} is locked by another program (another copy of "
                "the bot?). Stop it, then start again.")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (f"error: the database {path} is damaged ({exc}). Nothing was changed. Restore "
                "the latest copy made with `python -m bot backup`, or move the file away to "
                "start empty.")
    if "full" in text:
        return f"error: the disk holding {path} is full. Free some space, then start again."
    return f"error: cannot use the database {path}: {exc}"


async def check_database(settings: Settings, database_path: str | None = None) -> str | None:
    """Open, check and migrate the database once; a message saying what is wrong, or None."""
    path = database_path or settings.database_path
    try:
        async with open_services(settings, database_path=path) as services:
            if services.db.engine == "sqlite":  # PostgreSQL checks its pages itself
                row = await services.db.fetchone("PRAGMA quick_check")
                if row is None or row[0] != "ok":
                    return describe_database_error(path, sqlite3.DatabaseError(
                        f"database disk image is malformed: {row[0] if row else '?'}"))
    except DatabaseProblem as exc:
        return str(exc)
    except sqlite3.Error as exc:
        return describe_database_error(path, exc)
    except OSError as exc:
        return f"error: cannot open the database {path}: {exc.strerror}"
    except Exception as exc:
        # psycopg is imported only for a PostgreSQL database (start-up on SQLite skips it).
        psycopg = sys.modules.get("psycopg")
        if psycopg is None or not isinstance(exc, psycopg.Error):
            raise
        # The URL is not repeated: it may hold a password.
        return f"error: cannot use the PostgreSQL database: {exc}"
    return None


@contextlib.asynccontextmanager
async def open_services(settings: Settings, *, clock: Clock = system_clock,
                        database_path: str | None = None) -> AsyncIterator[Services]:
    """Open the database (migrated), mirror the configured places, and close it afterwards."""
    path = database_path or settings.database_path
    db = open_database(path)
    try:
        await db.open()
    except sqlite3.Error as exc:
        await db.close()
        raise DatabaseProblem(describe_database_error(path, exc)) from exc
    reader = db
    try:
        reader = await db.open_reader()
        services = Services.build(settings, db, clock, reader=reader)
        await services.sync_places()
        # Communes imported from the list of units join the configured ones (and are read
        # again whenever an import moves their version).
        await services.follow_places()
        if not services.settings.communes:
            raise ConfigError("error: no commune to serve: list one under [[communes]] in the "
                              "configuration, or import the country's list of units with "
                              "`python -m bot places import FILE.csv`.")
        yield services
    finally:
        if reader is not db:
            await reader.close()
        await db.close()


def build_router(services: Services) -> Router:
    """The router every channel hands its messages to."""
    return Router(services)


def setup_logging(level: int = logging.INFO, secrets: Iterable[str | None] = ()) -> None:
    """Plain logs on stderr, with secrets and citizen ID numbers redacted."""
    redaction.install(secrets)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


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
    scheduler = ReportScheduler(jobs, outbox, services.clock)
    return Reporting(digests, jobs, outbox, scheduler)
