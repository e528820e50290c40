"""Updates handled concurrently, one chat at a time: python-telegram-bot's update-processor hook."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.chat_locks import ChatLocks


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Different chats proceed at the same time; two updates of one chat never interleave and
    run in the order Telegram sent them.

    The library's SimpleUpdateProcessor would run a user's quick double tap concurrently, and
    the second could read the conversation before the first saved it.
    """

    def __init__(self, max_concurrent_updates: int = 512) -> None:
        super().__init__(max_concurrent_updates)
        self._chats = ChatLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's earlier updates (arrival order: asyncio.Lock is FIFO), then run."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        async with self._chats.hold(chat.id):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
