"""The outbox: every message to someone who did not just write goes through one row — a report
keyed by (report, period, channel, chat), or a message for another person (a hand-off, a relayed
answer, a notice, an announcement) queued in the same transaction as the change that causes it,
with the message itself in the row. One sender delivers both, with the guarantees below.

Delivered **once** means, precisely:

* Enqueueing twice is a no-op, so a restart, a catch-up or a second bot process never queues a
  report twice for one chat.
* A row is delivered by one process at a time: a process claims it atomically (one SQLite write
  transaction) with a lease that it renews while it works; another process skips it until the
  lease runs out (a minute after its owner died; at once when the owner is a dead process on
  the same machine, as after a crash and restart).
* A row holds one or more messages (a digest: text, chart, workbook). Before each message is
  handed to the channel, the row records "message i on its way" (committed); after the answer,
  "message i settled". Messages already settled are never sent again.
* A message whose fate is unknown — the request may have reached the platform but no answer
  came back (a read timeout, a connection dropped after the request was written, or the process
  killed while the request was on its way) — is recorded **in doubt** and is **not sent again**:
  Telegram has no idempotency key, so a blind retry is exactly how messages get doubled. The
  row ends `unknown` with the message's index in `unknown_parts`; the row's other messages are
  still delivered. An officer missing a digest in doubt can ask for it with /digest.
* A message that surely did not go out (429 Too Many Requests, a 5xx answer, a connection that
  could not be opened) is retried: after its `retry_after` for a 429, with back-off otherwise.

So every message is delivered at most once, and exactly once unless its row lists it as in doubt.
Sends run concurrently across chats under the channel's flood limiter, with at least
`chat_interval` seconds between the messages of one chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.clock import Clock
from bot.i18n import use_language
from bot.messages import Option, Reply
from bot.models import Member
from bot.ratelimit import ChatPacer, Monotonic, Sleep
from storage.engine import Database
from storage.outbox import OutboxItem, OutboxRepository, Recipient
from storage.repositories import Repositories

log = logging.getLogger(__name__)

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
           timedelta(hours=1), timedelta(hours=3))


class Undelivered(StrEnum):
    """Why a message did not reach someone, as data a sender reports (announcements count
    them for the officer)."""

    BLOCKED = "blocked"  # the person blocked the bot (Telegram 403)
    OUTSIDE_WINDOW = "outside_window"  # Zalo OA: they have not written for more than 7 days
    IN_DOUBT = "in_doubt"  # sent, but the platform's answer was lost: not sent again
    FAILED = "failed"  # anything else, after the retries


class DeliveryError(Exception):
    """A send surely did not go out; `permanent` when retrying cannot help (bot blocked),
    `retry_after` (seconds) when the platform said when to try again."""

    def __init__(self, message: str, *, permanent: bool = False,
                 retry_after: float | None = None,
                 reason: Undelivered = Undelivered.FAILED) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.reason = reason


class DeliveryInDoubt(Exception):
    """A send may or may not have reached the platform (its answer was lost)."""


class Sender(Protocol):
    """A channel's way to send messages to a chat that did not just write (the outbox hands
    it one message at a time).

    Raises DeliveryError when the message surely did not go out, DeliveryInDoubt when that is
    not known.
    """

    async def send_queued(self, chat_id: str, replies: Sequence[Reply]) -> None: ...


ContentBuilder = Callable[[OutboxItem, Member], Awaitable[list[Reply]]]


def to_payload(reply: Reply) -> dict[str, Any]:
    """What is stored for a queued message: its text, option rows and a photo's id."""
    payload: dict[str, Any] = {
        "text": reply.text, "options": [[[o.label, o.value] for o in row] for row in reply.options]}
    if reply.photo_id:
        payload["photo_id"] = reply.photo_id
    return payload


def from_payload(payload: dict[str, Any]) -> Reply:
    """A queued message back as a reply."""
    return Reply(str(payload.get("text", "")),
                 [[Option(label, value) for label, value in row]
                  for row in payload.get("options", [])],
                 photo_id=payload.get("photo_id"), replace=False)


@dataclass
class DeliveryStats:
    sent: int = 0
    in_doubt: int = 0
    retried: int = 0
    failed: int = 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class Outbox:
    """Queues messages and delivers the due ones concurrently through each chat's channel.

    `messages_only` leaves the reports to another sender (the offline console delivers only
    messages between its own users)."""

    def __init__(self, db: Database, repos: Repositories, clock: Clock,
                 content: ContentBuilder, senders: dict[str, Sender], *, workers: int = 64,
                 chat_interval: float = 1.0, lease: timedelta = timedelta(minutes=1),
                 monotonic: Monotonic = time.monotonic, sleep: Sleep = asyncio.sleep,
                 messages_only: bool = False) -> None:
        self.db = db
        self.repos = repos
        self.store = OutboxRepository(db)
        self.clock = clock
        self.content = content
        self.senders = senders
        # Each row's messages are a second apart per chat, so a row takes ~2 s for a digest:
        # 64 rows in progress keep 30 messages a second flowing.
        self.workers = workers
        self.pacer = ChatPacer(chat_interval, clock=monotonic, sleep=sleep)
        self.lease = lease
        self.host = socket.gethostname()
        self.owner = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.messages_only = messages_only
        self._run = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        # Called after each run; one that queued more messages (True) makes the run go on, so
        # e.g. an announcement's outcome reaches its officer in the same run.
        self.after_delivery: list[Callable[[], Awaitable[bool]]] = []

    def kick(self) -> None:
        """Ask the running loop to deliver now (called after a commit that queued messages)."""
        self._wake.set()

    async def run(self, poll_seconds: float = 30.0) -> None:
        """Deliver whenever kicked, and every `poll_seconds` for retries that became due."""
        while not self._stopping:
            try:
                await self.deliver_due()
            except Exception:
                log.exception("outbox run failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll_seconds)

    async def enqueue(self, report: str, period: str, to: Iterable[Recipient]) -> int:
        """Queue one row per recipient; rows already queued are left alone. Returns new rows."""
        async with self.db.transaction():
            return await self.store.enqueue(report, period, list(to), self.clock())

    async def deliver_due(self) -> DeliveryStats:
        """Send everything due now, many chats at once; one run per process at a time."""
        stats = DeliveryStats()
        async with self._run:
            await self._release_dead_owners()
            more = True
            while more and not self._stopping:
                due = await self.store.count_due(self.clock(),
                                                 messages_only=self.messages_only)
                if due:
                    heartbeat = asyncio.create_task(self._renew_leases())
                    try:
                        await asyncio.gather(
                            *(self._work(stats) for _ in range(min(due, self.workers))))
                    finally:
                        heartbeat.cancel()
                more = False
                for hook in self.after_delivery:
                    more = await hook() or more
            if self._stopping:
                async with self.db.transaction():
                    await self.store.release(self.owner)
        return stats

    async def stop(self) -> None:
        """Finish the messages on their way, take no more, and hand held rows back."""
        self._stopping = True
        async with self._run:
            pass

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                async with self.db.transaction():
                    await self.store.renew(self.owner, self.clock() + self.lease)
            except Exception:  # the next beat tries again; the lease has time left
                log.exception("could not renew the outbox leases")

    async def _release_dead_owners(self) -> None:
        """Leases of a process on this machine that no longer runs (killed, crashed)."""
        for owner in await self.store.lease_owners(self.clock()):
            host, pid, _token = (owner.rsplit(":", 2) + ["", ""])[:3]
            if host != self.host or not pid.isdigit() or int(pid) == os.getpid():
                continue
            if not _alive(int(pid)):
                log.warning("taking over outbox rows of %s, which no longer runs", owner)
                async with self.db.transaction():
                    await self.store.release(owner, all_rows=True)

    async def _work(self, stats: DeliveryStats) -> None:
        while not self._stopping:
            try:
                async with self.db.transaction():
                    now = self.clock()
                    item = await self.store.claim(self.owner, now, now + self.lease,
                                                  messages_only=self.messages_only)
            except Exception:  # e.g. the database stayed locked: the next run tries again
                log.exception("could not take an outbox row")
                return
            if item is None:
                return
            try:
                await self._deliver(item, stats)
            except Exception as exc:  # a bug in one report must not stop the others
                log.exception("delivering outbox row %s failed", item.id)
                try:
                    await self._postpone(item, item.next_part, repr(exc), stats)
                except Exception:
                    # The row keeps its lease and state: once the lease runs out, a message
                    # left on its way is settled as in doubt, the rest is sent.
                    log.exception("could not record the failure of outbox row %s", item.id)

    async def _deliver(self, item: OutboxItem, stats: DeliveryStats) -> None:
        sender = self.senders.get(item.channel)
        if sender is None:  # e.g. its channel has not started yet
            await self._postpone(item, item.next_part, f"channel {item.channel} is not running",
                                 stats)
            return
        if item.payload is not None:
            messages = [from_payload(item.payload)]
        else:
            member = await self.repos.members.member_by_id(item.member_id) if item.member_id else None
            if member is None:
                await self._postpone(item, item.next_part, "no member to write for", stats,
                                     permanent=True)
                return
            with use_language(member.language):
                messages = await self.content(item, member)
        for part in range(item.next_part, len(messages)):
            if self._stopping:
                return  # the lease is handed back; the rest goes in the next run
            async with self.pacer.hold((item.channel, item.chat_id)):
                async with self.db.transaction():
                    await self.store.mark_sending(item.id, part, self.clock() + self.lease)
                try:
                    await sender.send_queued(item.chat_id, [messages[part]])
                except DeliveryInDoubt as exc:
                    log.warning("outbox row %s message %d in doubt, not sent again: %s",
                                item.id, part, exc)
                    stats.in_doubt += 1
                    in_doubt = True
                except DeliveryError as exc:
                    await self._postpone(item, part, str(exc), stats, permanent=exc.permanent,
                                         retry_after=exc.retry_after, reason=exc.reason)
                    return
                else:
                    in_doubt = False
                async with self.db.transaction():
                    await self.store.mark_settled(item.id, part, in_doubt=in_doubt)
        async with self.db.transaction():
            status = await self.store.finish(item.id, self.clock())
        if status == "sent":
            stats.sent += 1

    async def _postpone(self, item: OutboxItem, part: int, error: str, stats: DeliveryStats,
                        *, permanent: bool = False, retry_after: float | None = None,
                        reason: Undelivered = Undelivered.FAILED) -> None:
        attempts = item.attempts + 1
        if retry_after is not None and not permanent:
            give_up, wait = False, timedelta(seconds=retry_after)
        else:
            give_up = permanent or attempts > len(BACKOFF)
            wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
        async with self.db.transaction():
            await self.store.postpone(item.id, part, self.clock() + wait, error, give_up=give_up,
                                      reason=reason)
        if give_up:
            stats.failed += 1
            log.error("giving up %s/%s for %s chat %s: %s", item.report, item.period,
                      item.channel, item.chat_id, error)
        else:
            stats.retried += 1
            log.warning("retrying %s/%s for %s chat %s at %s: %s", item.report, item.period,
                        item.channel, item.chat_id, self.clock() + wait, error)
