"""Messages to people other than the sender: queued with their cause, delivered after commit.

The router writes each hand-off, relayed answer or notice as a row addressed by (channel, chat
id) in the same transaction as the change that causes it; `MessageOutbox` sends the due rows
through that channel's sender. A row is marked `sending` (committed) before the send and
`sent` after it, so a crash after the commit still delivers it, and only a crash in the instant
between a send and its mark can repeat one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.messages import Option, Reply
from bot.reports.outbox import BACKOFF, DeliveryError, DeliveryInDoubt, Sender, Undelivered
from storage.channels import ChannelRepository, QueuedMessage
from storage.engine import Database

log = logging.getLogger(__name__)


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
class MessageStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class MessageOutbox:
    """Delivers queued messages through each channel's sender, retrying with back-off."""

    def __init__(self, db: Database, clock: Clock, senders: dict[str, Sender]) -> None:
        self.db = db
        self.store = ChannelRepository(db)
        self.clock = clock
        self.senders = senders
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        # Called after each run; one that queued more messages (True) makes the run go on, so
        # e.g. an announcement's outcome reaches its officer in the same run.
        self.after_delivery: list[Callable[[], Awaitable[bool]]] = []

    def kick(self) -> None:
        """Ask the running loop to deliver now (called after a commit that queued messages)."""
        self._wake.set()

    async def run(self, poll_seconds: float = 30.0) -> None:
        """Deliver whenever kicked, and every `poll_seconds` for retries that became due."""
        while True:
            try:
                await self.deliver_due()
            except Exception:
                log.exception("message outbox run failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll_seconds)

    async def deliver_due(self) -> MessageStats:
        """Send every message due now; one delivery run at a time."""
        stats = MessageStats()
        async with self._lock:
            more = True
            while more:
                for message in await self.store.due_messages(self.clock()):
                    await self._deliver(message, stats)
                more = False
                for hook in self.after_delivery:
                    more = await hook() or more
        return stats

    async def _deliver(self, message: QueuedMessage, stats: MessageStats) -> None:
        sender = self.senders.get(message.channel)
        if sender is None:
            await self._failed(message, f"channel {message.channel} is not running", stats,
                               permanent=False)
            return
        async with self.db.transaction():
            await self.store.mark_message_sending(message.id)
        try:
            await sender.send_queued(message.chat_id, [from_payload(message.payload)])
        except DeliveryError as exc:
            await self._failed(message, str(exc), stats, permanent=exc.permanent,
                               reason=exc.reason)
            return
        except DeliveryInDoubt as exc:
            # It may have arrived: sending it again could double it (see bot/reports/outbox.py).
            await self._failed(message, f"in doubt, not sent again: {exc}", stats,
                               permanent=True, reason=Undelivered.IN_DOUBT)
            return
        except Exception as exc:  # one broken message must not stop the others
            log.exception("message %s to %s/%s failed", message.id, message.channel,
                          message.chat_id)
            await self._failed(message, repr(exc), stats, permanent=False)
            return
        async with self.db.transaction():
            await self.store.mark_message_sent(message.id, self.clock())
        stats.sent += 1

    async def _failed(self, message: QueuedMessage, error: str, stats: MessageStats, *,
                      permanent: bool, reason: Undelivered = Undelivered.FAILED) -> None:
        attempts = message.attempts + 1
        give_up = permanent or attempts > len(BACKOFF)
        wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
        async with self.db.transaction():
            await self.store.mark_message_retry(message.id, self.clock() + wait, error, give_up,
                                                reason)
        if give_up:
            stats.failed += 1
            log.error("giving up message %s to %s/%s: %s", message.id, message.channel,
                      message.chat_id, error)
        else:
            stats.retried += 1
            log.warning("message %s to %s/%s will be retried: %s", message.id, message.channel,
                        message.chat_id, error)
