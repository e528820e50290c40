"""Background handling for webhook and polling channels: each message is processed (its
transaction committed) with one chat's messages in order and different chats concurrently;
the replies are sent afterwards, still in order per chat.

A webhook waits for the commit before answering the platform, as Telegram's does: a worker that
dies before the commit has answered nothing, so the platform delivers the message again (the
router's claim on the message id makes that harmless). The sending is not waited for, so a slow
platform API does not push the answer past Zalo's 2 s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

from bot.chat_locks import ChatLocks
from bot.messages import Incoming, Reply

log = logging.getLogger(__name__)

Process = Callable[[Incoming], Awaitable[list[Reply]]]
Deliver = Callable[[Incoming, list[Reply]], Awaitable[None]]


class ChatTasks:
    """Runs `process(incoming)` then `deliver(incoming, replies)` in the background, in arrival
    order per chat (asyncio.Lock is FIFO), and counts what was handled so callers can wait."""

    def __init__(self, process: Process, deliver: Deliver) -> None:
        self._process = process
        self._deliver = deliver
        self._chats = ChatLocks()
        # Each chat's latest delivery: the next one waits for it, so replies keep their order
        # while the chat's next message is already being processed.
        self._deliveries: dict[Hashable, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.handled_count = 0

    def submit(self, incoming: Incoming) -> asyncio.Future[None]:
        """Handle one message in the background; the returned future is done once its
        transaction has committed (or failed)."""
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._run(incoming, committed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return committed

    async def idle(self) -> None:
        """Wait until everything submitted so far is handled (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, incoming: Incoming, committed: asyncio.Future[None]) -> None:
        chat = incoming.chat_id
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            async with self._chats.hold(chat):
                try:
                    replies = await self._process(incoming)
                finally:
                    _settle(committed)
                before = self._deliveries.get(chat)
                self._deliveries[chat] = delivered
            if before is not None:
                await before
            await self._deliver(incoming, replies)
        except Exception:
            log.exception("%s message %s failed", incoming.channel, incoming.update_id)
        finally:
            _settle(delivered)
            if self._deliveries.get(chat) is delivered:
                del self._deliveries[chat]
            self.handled_count += 1


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
