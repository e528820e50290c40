"""Several bot processes on one PostgreSQL database: the scheduler's leader and the outbox's
claims. Each "process" is its own connection pool on the same schema, as a worker is."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.app import build_reporting, build_router, open_services
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.helpdesk.service import FLOOD_LIMIT
from bot.messages import Incoming, Kind
from bot.services import Services
from tests.conftest import FakeClock, join
from tests.postgres_server import fresh_schema
from tests.test_reports import RecordingSender

FRIDAY_0800 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # the volunteers' reminder


@pytest.fixture
async def three_workers(postgres_url: str, settings: Settings,
                        clock: FakeClock) -> AsyncIterator[list[Services]]:
    with fresh_schema(postgres_url) as url:
        async with contextlib.AsyncExitStack() as stack:
            yield [await stack.enter_async_context(open_services(settings, clock=clock,
                                                                  database_path=url))
                   for _ in range(3)]


async def test_three_schedulers_firing_the_same_minute_send_once(
        three_workers: list[Services], clock: FakeClock) -> None:
    first = three_workers[0]
    console = ConsoleChannel(build_router(first))
    for user in ("v1", "v2", "v3", "v4"):
        await join(first, console, user)
    senders = [RecordingSender() for _ in three_workers]
    reportings = [build_reporting(services, {"console": sender}, chat_interval=0.0)
                  for services, sender in zip(three_workers, senders, strict=True)]
    clock.now = FRIDAY_0800
    await asyncio.gather(*(r.scheduler.run("reminder", "HD") for r in reportings))
    await asyncio.gather(*(r.outbox.deliver_due() for r in reportings))
    chats = Counter(chat for sender in senders for chat, _reply in sender.pushed)
    assert chats == {"v1": 1, "v2": 1, "v3": 1, "v4": 1}
    # One worker led: the others fired nothing and sent nothing.
    assert sum(1 for sender in senders if sender.pushed) == 1
    leaders = [await services.db.try_lead("scheduler") for services in three_workers]
    assert leaders.count(True) == 1


async def test_leadership_passes_on_when_the_leader_stops(three_workers: list[Services]) -> None:
    first, second, _third = three_workers
    assert await first.db.try_lead("scheduler")
    assert not await second.db.try_lead("scheduler")
    await first.db.close()  # the leader's process ends (its session, and lock, with it)
    assert await second.db.try_lead("scheduler")
    await first.db.open()


async def test_a_citizens_flood_is_counted_across_workers(three_workers: list[Services],
                                                          clock: FakeClock) -> None:
    """A citizen's messages land on three workers in turn: the help desk's limit of 30 a
    minute holds for all of them together, and the next minute they are answered again."""
    routers = [build_router(services) for services in three_workers]

    async def says(turn: int) -> str:
        replies = await routers[turn % 3].handle(Incoming(
            channel="console", user_id="citizen-9", chat_id="citizen-9",
            update_id=str(turn), kind=Kind.TEXT, text=f"xin chào lần {turn}"))
        return "\n".join(reply.text for reply in replies)

    answers = [await says(turn) for turn in range(FLOOD_LIMIT + 1)]
    slowed = "đang gửi tin nhắn hơi nhanh"
    assert not any(slowed in answer for answer in answers[:FLOOD_LIMIT])
    assert slowed in answers[FLOOD_LIMIT]
    clock.advance(minutes=1)
    assert slowed not in await says(FLOOD_LIMIT + 1)


async def test_messages_for_other_people_go_out_once_from_three_workers(
        three_workers: list[Services], clock: FakeClock) -> None:
    """Hand-offs and notices share the reports' outbox: three workers delivering at the same
    moment claim each message once, and a message a killed worker left on its way is kept as
    in doubt, not sent again."""
    first = three_workers[0]
    async with first.db.transaction():
        for chat in ("v1", "v2", "v3", "v4", "v5"):
            await first.repos.outbox.queue_message("console", chat, {"text": f"Hỏi {chat}"},
                                                   clock())
        left = await first.repos.outbox.queue_message("console", "v6", {"text": "Hỏi v6"},
                                                      clock())
        await first.db.execute("UPDATE outbox SET status = 'sending' WHERE id = ?", (left,))
    senders = [RecordingSender() for _ in three_workers]
    outboxes = [build_reporting(services, {"console": sender}, chat_interval=0.0).outbox
                for services, sender in zip(three_workers, senders, strict=True)]
    await asyncio.gather(*(outbox.deliver_due() for outbox in outboxes))
    chats = Counter(chat for sender in senders for chat, _reply in sender.pushed)
    assert chats == {"v1": 1, "v2": 1, "v3": 1, "v4": 1, "v5": 1}
    outcome = {row["chat_id"]: row["status"] for row in await first.repos.outbox.messages()}
    assert outcome == {"v1": "sent", "v2": "sent", "v3": "sent", "v4": "sent", "v5": "sent",
                       "v6": "unknown"}
