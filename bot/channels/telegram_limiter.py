"""python-telegram-bot's rate-limiter hook, keeping to Telegram's flood limits by sliding windows.

Replaces the library's AIORateLimiter (a leaky bucket, see bot/ratelimit.py) so that one limiter
governs every message the bot sends — replies and broadcasts alike — and the outbox does not
fight a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.ratelimit import ChatPacer, SharedChatPacing, SlidingWindow

log = logging.getLogger(__name__)

JSON = bool | dict[str, Any] | list[dict[str, Any]]


def counts_as_message(endpoint: str) -> bool:
    """Sending or editing a message counts against the flood limits; answering a button,
    setting commands or reading does not."""
    name = endpoint.lower()
    return name.startswith(("send", "edit", "copy", "forward"))


class TelegramLimiter(BaseRateLimiter[int]):
    """30 messages in any second overall, one a second per private chat, 20 a minute per group;
    a 429 pauses everything for its retry_after.

    Windows and the chat's second are counted from each message's *answer* (bot/ratelimit.py),
    so they hold as Telegram counts them whatever the network delay.

    Several workers share one token (`workers` > 1, PostgreSQL): the overall budget is divided
    among them (each keeps 30 // workers in any second, with no cost per send), and a chat's or
    group's spacing is booked in the database (`shared`: one upsert per message, 0.43 ms median
    against 0.003 ms in process, measured on a busy machine: benchmarks/shared_limits.py),
    since two workers may well answer one chat within a second. Dividing rather than sharing
    the overall budget keeps it exact without a second round trip; the price is that one
    worker alone sends at most its share.
    """

    def __init__(self, *, per_second: int = 30, chat_interval: float = 1.0,
                 group_per_minute: int = 20, max_retries: int = 3, workers: int = 1,
                 shared: SharedChatPacing | None = None) -> None:
        if workers > 1 and shared is None:
            raise ValueError("several workers need their chats' spacing in the database")
        self.overall = SlidingWindow(max(1, per_second // workers), 1.0)
        self.shared = shared
        self.chat_interval = chat_interval
        self.chats = ChatPacer(chat_interval)
        self._group_limit = group_per_minute
        self._group_period = 60.0
        self._groups: dict[int | str, SlidingWindow] = {}
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    def _group(self, chat_id: int | str) -> SlidingWindow | None:
        # Negative ids are groups and channels; a string id is a public channel's @name.
        if isinstance(chat_id, int) and chat_id >= 0:
            return None
        window = self._groups.get(chat_id)
        if window is None:
            window = self._groups[chat_id] = SlidingWindow(self._group_limit, self._group_period)
        return window

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        """Wait for room in the windows, send; on 429 pause everything and send again
        (a 429 means Telegram did not carry the call out, so this never doubles a message)."""
        chat_id = data.get("chat_id")
        if not counts_as_message(endpoint) or chat_id is None:
            return await callback(*args, **kwargs)
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        group = self._group(chat_id)
        retries = rate_limit_args if rate_limit_args is not None else self.max_retries
        for attempt in range(retries + 1):
            async with (self.chats.hold(chat_id) if group is None else group.slot(),
                        self.overall.slot()):
                if self.shared is not None:  # after the others' last send to this chat
                    await self.shared.wait_turn(chat_id, self.chat_interval if group is None
                                                else self._group_period / self._group_limit)
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as exc:
                    if attempt == retries:
                        raise
                    wait = retry_seconds(exc)
                    log.warning("Telegram asked to wait %.1fs (%s)", wait, endpoint)
                    self.overall.pause(wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait, in seconds."""
    value = exc.retry_after
    return float(value if isinstance(value, int | float) else value.total_seconds())
