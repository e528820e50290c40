"""Tables that would grow forever are pruned daily with a stated retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import build_reporting
from bot.channels.console import ConsoleChannel
from bot.maintenance import IDLE_CONVERSATIONS, PROCESSED_UPDATES, prune
from bot.models import Role
from bot.services import Services
from tests.conftest import ON_BOTH_ENGINES, FakeClock, join
from tests.test_reports import RecordingSender


@ON_BOTH_ENGINES
async def test_retention_job_prunes_old_update_ids_and_abandoned_conversations(
        services: Services, console: ConsoleChannel, clock: FakeClock) -> None:
    await join(services, console, "old")
    await console.send("old", "/activate")  # abandoned half-way
    await join(services, console, "recent")
    clock.advance(days=20)
    await console.send("recent", "/visit")  # still in progress
    repos = services.repos
    assert await repos.count("processed_updates") == 4
    clock.advance(days=11)  # "old" idle 31 days, "recent" 11 days

    reporting = build_reporting(services, {})
    scheduler = reporting.scheduler.start()
    try:
        job = scheduler.get_job("retention")
        assert job is not None
        vn_time = job.next_run_time.astimezone(services.settings.communes[0].tz)
        assert (vn_time.hour, vn_time.minute) == (2, 30)
        pruned = await job.func(*job.args)  # what the trigger runs at night
    finally:
        reporting.scheduler.shutdown()
    assert (pruned.processed_updates, pruned.conversations) == (4, 1)
    assert await repos.conversations.conversation("console", "old") is None
    assert await repos.conversations.conversation("console", "recent") is not None
    assert await repos.count("processed_updates") == 0  # the newest was 11 days old
    assert PROCESSED_UPDATES < timedelta(days=11) < IDLE_CONVERSATIONS
    # The bot still answers "old" as a member, at the main menu.
    replies = await console.send("old", "xin chào")
    assert replies and replies[0].options


@ON_BOTH_ENGINES
async def test_settled_outbox_rows_are_kept_ninety_days(services: Services,
                                                       console: ConsoleChannel,
                                                       clock: FakeClock) -> None:
    await join(services, console, "o1", role=Role.OFFICER, hamlet=None)
    reporting = build_reporting(services, {"console": RecordingSender()})
    clock.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    await reporting.scheduler.run("digest-week", "HD")
    assert len(await reporting.outbox.store.rows()) == 1
    clock.advance(days=89)
    assert (await prune(services)).outbox == 0
    clock.advance(days=2)
    assert (await prune(services)).outbox == 1
