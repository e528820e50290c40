"""Shared fixtures: a small commune, an injectable clock, a real SQLite file per test."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import redaction
from bot.app import build_router, open_services
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.models import Role
from bot.services import Services
from bot.textnorm import contains_citizen_id
from storage.engine import Database
from tests.botapi_stub import DEFAULT_TOKEN, BotApiStub
from tests.postgres_server import fresh_schema, postgres_server
from tests.telegram_world import TelegramWorld

# Friday 20 November 2026, 10:00 in Vietnam.
FRIDAY_MORNING = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


WEBHOOK_SECRET = "webhook-secret-for-tests-9f2c"
# Telegram tokens look like "<digits>:<35 letters, digits, - or _>"; none belongs in a log.
_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")


@pytest.fixture(autouse=True)
def logs_hold_no_secret_or_id(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    """Every test's logs (INFO and up) are checked: no token, no webhook secret, no ID number."""
    redaction.install([DEFAULT_TOKEN, WEBHOOK_SECRET])
    caplog.set_level(logging.INFO)
    yield
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        line = record.getMessage() + "\n" + (record.exc_text or "")
        assert DEFAULT_TOKEN.split(":", 1)[1] not in line, f"token in a log: {line[:300]}"
        assert WEBHOOK_SECRET not in line, f"webhook secret in a log: {line[:300]}"
        assert not _TOKEN_SHAPE.search(line), f"token-shaped text in a log: {line[:300]}"
        assert not contains_citizen_id(line), f"ID-like number in a log: {line[:300]}"


class FakeClock:
    """A clock the test moves by hand; never the real time."""

    def __init__(self, start: datetime = FRIDAY_MORNING) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def small_settings(**bot: object) -> Settings:
    """One commune with two hamlets and realistic figures."""
    return Settings.model_validate({
        "bot": bot,
        "communes": [{
            "code": "HD", "name": "Xã Hưng Đông",
            "targets": {"weekly_visits_per_hamlet": 5},
            "hamlets": [
                {"code": "X01", "name": "Xóm Kim Tân", "households": 100,
                 "eligible_citizens": 250, "level2_baseline": 100, "activated_baseline": 80},
                {"code": "X02", "name": "Xóm Yên Giang", "households": 80,
                 "eligible_citizens": 200},
            ],
        }],
    })


HOUSEHOLDS = [
    {"code": "X01-001", "hamlet": "X01", "head_name": "Nguyễn Thị Lan", "members": "4"},
    {"code": "X01-002", "hamlet": "X01", "head_name": "Trần Văn Lâm", "members": "3"},
    {"code": "X01-003", "hamlet": "X01", "head_name": "Lê Văn Đức", "members": "2"},
    {"code": "X01-004", "hamlet": "X01", "head_name": "Nguyễn Văn Lành", "members": "5"},
    {"code": "X02-001", "hamlet": "X02", "head_name": "Phạm Thị Hoa", "members": "3"},
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    return small_settings()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a command-line run: its own SQLite file, no token."""
    values = dict(os.environ)
    values["BOT_DATABASE"] = str(tmp_path / "cli.sqlite3")
    values.pop("TELEGRAM_BOT_TOKEN", None)
    return values


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The test session's PostgreSQL server (started only when a test asks for it)."""
    with postgres_server() as url:
        yield url


# Runs a test once on a SQLite file and once on an empty PostgreSQL schema (through the
# `database_target` fixture, which the `services` fixture opens).
ON_BOTH_ENGINES = pytest.mark.parametrize("database_target", ["sqlite", "postgresql"],
                                          indirect=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran on each database engine."""
    counts = {engine: 0 for engine in ("sqlite", "postgresql")}
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        if report.when != "call":
            continue
        for engine in counts:
            if f"[{engine}" in report.nodeid:
                counts[engine] += 1
    if any(counts.values()):
        terminalreporter.write_line(
            f"tests run on each database engine: {counts['sqlite']} on SQLite, "
            f"{counts['postgresql']} on PostgreSQL")


async def dump_tables(db: Database) -> str:
    """Everything stored, table by table, as text (to prove what is not kept), on either engine."""
    if db.engine == "sqlite":
        tables = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        tables = await db.fetchall("SELECT table_name FROM information_schema.tables"
                                   " WHERE table_schema = current_schema()")
    lines = []
    for (name,) in [tuple(t) for t in tables]:
        for row in await db.fetchall(f"SELECT * FROM {name}"):
            lines.append(f"{name}: {tuple(row)!r}")
    return "\n".join(lines)


@pytest.fixture
def database_target(request: pytest.FixtureRequest, db_path: Path) -> Iterator[str]:
    """Where the services' database lives: a SQLite file, unless a test asks for PostgreSQL
    (ON_BOTH_ENGINES): then a fresh schema on the test session's server."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield str(db_path)
        return
    with fresh_schema(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture
async def services(settings: Settings, clock: FakeClock, database_target: str
                   ) -> AsyncIterator[Services]:
    async with open_services(settings, clock=clock, database_path=database_target) as opened:
        report = await opened.households.import_rows(HOUSEHOLDS)
        assert report.added == len(HOUSEHOLDS)
        yield opened


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    """The Bot API stand-in on 127.0.0.1."""
    async with BotApiStub() as running:
        yield running


@pytest.fixture
async def world(stub: BotApiStub, settings: Settings,
                services: Services) -> AsyncIterator[TelegramWorld]:
    """The real bot on python-telegram-bot, polling the stand-in."""
    started = await TelegramWorld.start(stub, settings, services)
    yield started
    await started.stop()


@pytest.fixture
def console(services: Services) -> ConsoleChannel:
    return ConsoleChannel(build_router(services))


def dump_database(path: Path) -> str:
    """Everything stored in the SQLite file, as SQL text (to prove what is not kept)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        return "\n".join(conn.iterdump())


async def join(services: Services, console: ConsoleChannel, user: str, *,
               role: Role = Role.VOLUNTEER, hamlet: str | None = "X01",
               name: str = "Hoa") -> None:
    """Make `user` a member through the real /start flow."""
    invite = await services.members.create_invite(role, hamlet_code=hamlet)
    replies = await console.send(user, f"/start {invite.code}", name=name)
    assert replies and replies[0].options, replies
