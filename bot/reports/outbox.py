"""The outbox: every scheduled message is a row keyed by (report, period, recipient).

Enqueueing twice is a no-op, so a restart or a catch-up never sends a report twice; delivery
marks a row `sending` (committed) before the send and `sent` after it, and a failed send is
retried later with back-off. A crash in the instant between a send and its `sent` mark is the
one case that repeats a message, never one that loses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.clock import Clock
from bot.i18n import use_language
from bot.messages import Reply
from bot.models import Member
from storage.repositories import OutboxItem, ReportRepository, Repositories

log = logging.getLogger(__name__)

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
           timedelta(hours=1), timedelta(hours=3))


class DeliveryError(Exception):
    """A send failed; `permanent` when retrying cannot help (the user blocked the bot)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    """A channel's way to push replies to a member who did not write first."""

    async def push(self, member: Member, replies: list[Reply]) -> None: ...


ContentBuilder = Callable[[OutboxItem, Member], Awaitable[list[Reply]]]


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class Outbox:
    """Enqueues report messages and delivers the due ones through each member's channel."""

    def __init__(self, repos: Repositories, clock: Clock, content: ContentBuilder,
                 senders: dict[str, Sender]) -> None:
        self.repos = repos
        self.reports = ReportRepository(repos.db)
        self.clock = clock
        self.content = content
        self.senders = senders
        self._lock = asyncio.Lock()

    async def enqueue(self, report: str, period: str, members: list[Member]) -> int:
        """Queue one message per member; already queued ones are left alone."""
        async with self.repos.db.transaction():
            return await self.reports.enqueue(report, period, [m.id for m in members],
                                              self.clock())

    async def deliver_due(self) -> DeliveryStats:
        """Send every message that is due now; one delivery run at a time."""
        stats = DeliveryStats()
        async with self._lock:
            for item in await self.reports.due(self.clock()):
                await self._deliver(item, stats)
        return stats

    async def _deliver(self, item: OutboxItem, stats: DeliveryStats) -> None:
        member = await self.repos.member_by_id(item.member_id)
        sender = self.senders.get(member.channel) if member else None
        if member is None or sender is None:
            await self._failed(item, "no channel to reach this member", stats, permanent=True)
            return
        async with self.repos.db.transaction():
            await self.reports.mark_sending(item.id)
        try:
            with use_language(member.language):
                replies = await self.content(item, member)
            if replies:
                await sender.push(member, replies)
        except DeliveryError as exc:
            await self._failed(item, str(exc), stats, permanent=exc.permanent)
            return
        except Exception as exc:  # a bug in building one report must not stop the others
            log.exception("building %s/%s for member %s failed", item.report, item.period,
                          item.member_id)
            await self._failed(item, repr(exc), stats, permanent=False)
            return
        async with self.repos.db.transaction():
            await self.reports.mark_sent(item.id, self.clock())
        stats.sent += 1

    async def _failed(self, item: OutboxItem, error: str, stats: DeliveryStats, *,
                      permanent: bool) -> None:
        attempts = item.attempts + 1
        give_up = permanent or attempts > len(BACKOFF)
        wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
        async with self.repos.db.transaction():
            await self.reports.mark_retry(item.id, self.clock() + wait, error, give_up)
        if give_up:
            stats.failed += 1
            log.error("giving up %s/%s for member %s: %s", item.report, item.period,
                      item.member_id, error)
        else:
            stats.retried += 1
            log.warning("retrying %s/%s for member %s at %s: %s", item.report, item.period,
                        item.member_id, self.clock() + wait, error)

