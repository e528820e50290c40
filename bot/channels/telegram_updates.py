"""Updates handled concurrently, one chat at a time: python-telegram-bot's update-processor hook."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Different chats proceed at the same time; two updates of one chat never interleave and
    run in the order Telegram sent them.

    The library's SimpleUpdateProcessor would run a user's quick double tap concurrently, and
    the second could read the conversation before the first saved it.
    """

    def __init__(self, max_concurrent_updates: int = 512) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's earlier updates (arrival order: asyncio.Lock is FIFO), then run."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        key = chat.id
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            left = self._queued[key] - 1
            if left:
                self._queued[key] = left
            else:  # nobody of this chat waiting: forget it, so the maps stay small
                del self._queued[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
