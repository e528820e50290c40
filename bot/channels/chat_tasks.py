"""Background handling for webhook and polling channels: answer the platform at once, then
handle each message with one chat's messages in order and different chats concurrently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.chat_locks import ChatLocks
from bot.messages import Incoming

log = logging.getLogger(__name__)


class ChatTasks:
    """Runs `handle(incoming)` in the background, in arrival order per chat (asyncio.Lock is
    FIFO), and counts what was handled so callers can wait for it."""

    def __init__(self, handle: Callable[[Incoming], Awaitable[None]]) -> None:
        self._handle = handle
        self._chats = ChatLocks()
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
        try:
            async with self._chats.hold(incoming.chat_id):
                await self._handle(incoming)
        except Exception:
            log.exception("%s message %s failed", incoming.channel, incoming.update_id)
        finally:
            self.handled_count += 1
