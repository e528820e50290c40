"""Retention: the tables that would otherwise grow forever are pruned once a day.

* processed_updates — kept 7 days. They only guard against Telegram delivering an update twice,
  which happens within minutes (a webhook retried, a poll repeated); Telegram itself drops
  updates nobody fetched after 24 hours.
* conversations — an unfinished conversation untouched for 30 days is dropped; the person sees
  the main menu next time. Nothing of it was saved (a flow saves only at its last step), and
  finished conversations are deleted when they finish.
* outbox — settled rows (sent, in doubt, given up) are kept 90 days, long enough to answer
  "did the report go out?"; their key guards against a second send only within the catch-up
  window (`catch_up_hours`, a day by default).
* send_pacing, message_counts — the limits workers share (storage/pacing.py): a booking older
  or a count older than a day no longer limits anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.services import Services

log = logging.getLogger(__name__)

PROCESSED_UPDATES = timedelta(days=7)
IDLE_CONVERSATIONS = timedelta(days=30)
SETTLED_OUTBOX = timedelta(days=90)
SHARED_LIMITS = timedelta(days=1)


@dataclass(frozen=True)
class Pruned:
    processed_updates: int
    conversations: int
    outbox: int
    limits: int


async def prune(services: Services) -> Pruned:
    """Delete what is older than its retention, in one transaction."""
    now = services.clock()
    async with services.db.transaction():
        pruned = Pruned(
            await services.repos.conversations.prune_processed_updates(now - PROCESSED_UPDATES),
            await services.repos.conversations.prune_idle(now - IDLE_CONVERSATIONS),
            await services.repos.outbox.prune(now - SETTLED_OUTBOX),
            await services.repos.pacing.prune(
                (now - SHARED_LIMITS).timestamp(), int((now - SHARED_LIMITS).timestamp() // 60)))
    log.info("retention: pruned %s", pruned)
    return pruned
