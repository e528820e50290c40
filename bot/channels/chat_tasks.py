"""Background handling for webhook and polling channels: answer the platform at once, then
handle each message with one chat's messages in order and different chats concurrently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.messages import Incoming

log = logging.getLogger(__name__)


class ChatTasks:
    """Runs `handle(incoming)` in the background, in arrival order per chat (asyncio.Lock is
    FIFO), and counts what was handled so callers can wait for it."""

    def __init__(self, handle: Callable[[Incoming], Awaitable[None]]) -> None:
        self._handle = handle
        self._locks: dict[str, asyncio.Lock] = {}
        self._queued: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.handled_count = 0

    def submit(self, incoming: Incoming) -> None:
        """Handle one message in the background."""
        task = asyncio.create_task(self._run(incoming))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until everything submitted so far is handled (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, incoming: Incoming) -> None:
        key = incoming.chat_id
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:
                await self._handle(incoming)
        except Exception:
            log.exception("%s message %s failed", incoming.channel, incoming.update_id)
        finally:
            self.handled_count += 1
            left = self._queued[key] - 1
            if left:
                self._queued[key] = left
            else:  # nobody of this chat waiting: forget it, so the maps stay small
                del self._queued[key]
                del self._locks[key]
