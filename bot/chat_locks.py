"""One lock per chat, kept only while someone of that chat is waiting or running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class ChatLocks:
    """Serialises work per chat in arrival order (asyncio.Lock is FIFO); other chats run freely."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._queued: dict[Hashable, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for the chat's earlier work, then run the body alone for that chat."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            left = self._queued[key] - 1
            if left:
                self._queued[key] = left
            else:  # nobody of this chat waiting: forget it, so the maps stay small
                del self._queued[key]
                del self._locks[key]
