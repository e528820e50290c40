"""Broadcasts at Telegram's limits: sliding windows, 429 retry_after, messages in doubt, leases."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest

from bot.app import build_reporting
from bot.messages import Reply
from bot.models import Role
from bot.ratelimit import ChatPacer, SlidingWindow
from bot.services import Services
from storage.engine import open_database
from storage.outbox import OutboxRepository
from tests.botapi_stub import BotApiStub, FloodLimits
from tests.conftest import ON_BOTH_ENGINES, FakeClock
from tests.telegram_world import TelegramWorld

FRIDAY_1500 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # 15:00 in Vietnam: digest time
DIGEST = ("sendMessage", "sendPhoto", "sendDocument")


class FakeTime:
    """A monotonic clock whose sleeps only move it forward (no real waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def most_in_any_window(times: list[float], period: float) -> int:
    """The largest number of events inside any window [t, t + period)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= period:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_sliding_window_never_lets_more_than_the_limit_arrive_in_any_second() -> None:
    fake = FakeTime()
    window = SlidingWindow(30, 1.0, clock=fake, sleep=fake.sleep)
    starts: list[float] = []
    answers: list[float] = []

    async def sender(n: int) -> None:
        for _ in range(n):
            async with window.slot():
                starts.append(fake())
                await fake.sleep(0.01)  # the round trip: it arrives somewhere in between
                answers.append(fake())

    await asyncio.gather(*(sender(20) for _ in range(50)))  # 1,000 messages, 50 at once
    assert len(starts) == 1000
    # Wherever in its round trip each message arrived, no second holds more than 30: when a
    # message starts, at most 29 others started before it and were answered less than 1 s ago.
    sends = sorted(zip(starts, answers, strict=True))
    for n, (start, _answer) in enumerate(sends):
        assert sum(1 for s, a in sends[:n] if a > start - 1.0) <= 29
    # ...and it keeps close to the limit: 1,000 messages in about 1,000/30 s.
    assert max(starts) - min(starts) < 1000 / 30 * 1.1


async def test_chat_pacer_spaces_one_chat_from_the_end_of_the_previous_send() -> None:
    fake = FakeTime()
    pacer = ChatPacer(1.0, clock=fake, sleep=fake.sleep)
    starts: dict[str, list[float]] = {"a": [], "b": []}

    async def send(chat: str) -> None:
        async with pacer.hold(chat):
            starts[chat].append(fake())
            await fake.sleep(0.3)  # the round trip

    await asyncio.gather(*(send(chat) for chat in "abab"))
    for chat_starts in starts.values():
        assert chat_starts[1] - chat_starts[0] >= 1.3 - 1e-9


async def add_officers(services: Services, count: int, first: int = 7000) -> list[int]:
    async with services.db.transaction():
        for n in range(count):
            await services.repos.members.upsert_member(
                channel="telegram", external_id=str(first + n), display_name=f"Cán bộ {n}",
                role=Role.OFFICER, commune_code="HD", hamlet_code=None, language="vi",
                at=services.clock())
    return [first + n for n in range(count)]


def delivered(stub: BotApiStub, chats: list[int]) -> Counter[tuple[int, str]]:
    """How many times each (chat, digest message) reached the chat."""
    return Counter((int(m.chat_id), m.method) for chat in chats for m in stub.sent_to(chat))


@pytest.fixture
async def limited_stub() -> AsyncIterator[BotApiStub]:
    async with BotApiStub(flood_limits=FloodLimits()) as stub:
        yield stub


async def test_broadcast_to_40_officers_keeps_every_limit_and_sends_each_message_once(
        limited_stub: BotApiStub, services: Services, clock: FakeClock) -> None:
    stub = limited_stub
    officers = await add_officers(services, 40)
    world = await TelegramWorld.start(stub, services.settings, services, chat_interval=1.0)
    try:
        clock.now = FRIDAY_1500
        assert world.channel.reporting is not None
        await world.channel.reporting.scheduler.run("digest-week", "HD")
        rows = await world.channel.reporting.outbox.store.rows("digest-week")
    finally:
        await world.stop()
    assert stub.flood_rejections == 0
    assert most_in_any_window(stub.message_times, 1.0) <= 30
    counts = delivered(stub, officers)
    assert set(counts.values()) == {1} and len(counts) == 40 * 3
    assert {r["status"] for r in rows} == {"sent"} and len(rows) == 40
    for officer in officers:  # one message a second in each chat, in order
        calls = [c for c in stub.calls if c.ok and c.method in DIGEST
                 and c.params.get("chat_id") == officer]
        assert [c.method for c in calls] == list(DIGEST)
        assert all(b.time - a.time >= 0.99 for a, b in zip(calls, calls[1:], strict=False))


async def test_429_waits_its_retry_after_and_nothing_is_sent_twice(
        services: Services, clock: FakeClock) -> None:
    officers = await add_officers(services, 12)
    # A server stricter than Telegram (8 a second): the bot's own limiter lets too much
    # through, so the server answers 429 and the bot must wait and resend only what was refused.
    async with BotApiStub(flood_limits=FloodLimits(per_second=8, chat_interval=None)) as stub:
        world = await TelegramWorld.start(stub, services.settings, services, chat_interval=0.0)
        try:
            clock.now = FRIDAY_1500
            reporting = world.channel.reporting
            assert reporting is not None
            await reporting.scheduler.run("digest-week", "HD")
            for _ in range(20):  # rows postponed by a 429 come back after their retry_after
                rows = await reporting.outbox.store.rows("digest-week")
                if {r["status"] for r in rows} == {"sent"}:
                    break
                clock.advance(seconds=5)
                await reporting.scheduler.deliver()
        finally:
            await world.stop()
    assert stub.flood_rejections > 0
    counts = delivered(stub, officers)
    assert set(counts.values()) == {1} and len(counts) == 12 * 3
    assert {r["status"] for r in rows} == {"sent"}


async def test_a_send_whose_answer_is_lost_is_in_doubt_and_never_repeated(
        services: Services, clock: FakeClock) -> None:
    [officer] = await add_officers(services, 1)
    async with BotApiStub() as stub:
        world = await TelegramWorld.start(stub, services.settings, services, chat_interval=0.0)
        try:
            clock.now = FRIDAY_1500
            reporting = world.channel.reporting
            assert reporting is not None
            stub.delay_next("sendPhoto", 3.0)  # reaches Telegram, answers after the 2 s timeout
            await reporting.scheduler.run("digest-week", "HD")
            await stub.wait_for(lambda s: len(s.sent_to(officer)) == 3, timeout=5)
            clock.advance(hours=2)
            await reporting.scheduler.run("digest-week", "HD")  # later runs leave it alone
            await reporting.scheduler.deliver()
            [row] = await reporting.outbox.store.rows("digest-week")
        finally:
            await world.stop()
    # The chart reached the chat once: the bot did not send it again although it never saw
    # the answer, and it still sent the workbook (which overtook the slow chart).
    assert sorted(m.method for m in stub.sent_to(officer)) == sorted(DIGEST)
    assert len(stub.calls_to("sendPhoto")) == 1
    assert (row["status"], row["unknown_parts"], row["next_part"]) == ("unknown", "1", 3)


class SlowRecorder:
    """A channel that takes a while per message and records who sent what."""

    def __init__(self, log: list[tuple[str, str, str]], name: str) -> None:
        self.log = log
        self.name = name

    async def send_queued(self, chat_id: str, replies: Sequence[Reply]) -> None:
        await asyncio.sleep(0.03)
        self.log.extend((self.name, chat_id, reply.text) for reply in replies)


@ON_BOTH_ENGINES
async def test_two_processes_on_one_database_never_both_send_a_row(
        services: Services, clock: FakeClock) -> None:
    officers = await add_officers(services, 30)
    clock.now = FRIDAY_1500
    sent: list[tuple[str, str, str]] = []

    async def content(item: object, member: object) -> list[Reply]:
        return [Reply("one"), Reply("two")]

    # A second connection (SQLite) or pool (PostgreSQL) stands for a second bot process.
    other_db = await open_database(services.db.target).open()
    try:
        first = build_reporting(services, {"telegram": SlowRecorder(sent, "first")},
                                chat_interval=0.0)
        other = build_reporting(services, {"telegram": SlowRecorder(sent, "other")},
                                chat_interval=0.0)
        other.outbox.db = other_db
        other.outbox.store = OutboxRepository(other_db)
        for outbox in (first.outbox, other.outbox):
            outbox.content = content  # type: ignore[assignment]
            outbox.workers = 6
        await first.jobs.fire("digest-week", services.settings.communes[0], clock())
        await other.jobs.fire("digest-week", services.settings.communes[0], clock())
        for _round in range(6):
            await asyncio.gather(first.outbox.deliver_due(), other.outbox.deliver_due())
            if len({(chat, text) for _name, chat, text in sent}) >= 30 * 2:
                break
            # Under load SQLite may answer "database is locked" past the busy timeout: the
            # row is left for a later run, as the running bot's next tick would take it.
            clock.advance(seconds=180)
    finally:
        await other_db.close()
    per_message = Counter((chat, text) for _name, chat, text in sent)
    assert len(per_message) == 30 * 2 and set(per_message.values()) == {1}
    assert {chat for chat, _t in per_message} == {str(o) for o in officers}


@ON_BOTH_ENGINES
async def test_a_row_left_on_its_way_by_a_crash_resumes_after_the_message_in_doubt(
        services: Services, clock: FakeClock) -> None:
    [officer] = await add_officers(services, 1)
    clock.now = FRIDAY_1500
    sent: list[tuple[str, str, str]] = []
    reporting = build_reporting(services, {"telegram": SlowRecorder(sent, "bot")},
                                chat_interval=0.0)

    async def content(item: object, member: object) -> list[Reply]:
        return [Reply("text"), Reply("chart"), Reply("workbook")]

    reporting.outbox.content = content  # type: ignore[assignment]
    await reporting.jobs.fire("digest-week", services.settings.communes[0], clock())
    store = reporting.outbox.store
    async with services.db.transaction():  # a process took the row and died sending the chart
        item = await store.claim("dead-process", clock(), clock())
        assert item is not None
        await store.mark_settled(item.id, 0, in_doubt=False)
        await store.mark_sending(item.id, 1, clock())
    clock.advance(seconds=1)  # its lease ran out
    await reporting.outbox.deliver_due()
    assert sent == [("bot", str(officer), "workbook")]
    [row] = await store.rows()
    assert (row["status"], row["unknown_parts"]) == ("unknown", "1")
