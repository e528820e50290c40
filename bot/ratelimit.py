"""Rate limits as messaging platforms count them: a sliding window, and a pause per chat.

Hand-written rather than aiolimiter's AsyncLimiter on purpose: that one is a leaky bucket,
which lets a full bucket (30 messages) go at once and then keeps leaking at 30/s, so a
one-second window can see up to 60 messages; Telegram counts "30 messages in any second".
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

from storage.engine import Database
from storage.pacing import PacingRepository

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SlidingWindow:
    """At most `limit` sends in any `period` seconds *as the server counts them*, first come
    first served.

    The server counts a message when it arrives, which is somewhere between the moment we
    start sending and the moment its answer is back. So a send holds its place in the window
    from its start until `period` after its answer: then no jitter in the network or in either
    event loop can squeeze more than `limit` arrivals into one window. The price is the round
    trip: the rate is `limit / (period + round trip)` (27 a second at a 100 ms round trip).
    """

    def __init__(self, limit: int, period: float, *, clock: Monotonic = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a window needs a positive limit and period")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._ends: deque[float] = deque()
        self._paused_until = 0.0
        self._ended = asyncio.Event()
        # asyncio.Lock wakes waiters in arrival order, so nobody starves; only the head waits.
        self._lock = asyncio.Lock()

    def slot(self) -> _Slot:
        """`async with window.slot():` around one send."""
        return _Slot(self)

    async def _enter(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                while self._ends and self._ends[0] <= now - self.period:
                    self._ends.popleft()
                if self._in_flight + len(self._ends) < self.limit:
                    self._in_flight += 1
                    return
                if self._ends:  # the oldest answered send leaves the window first
                    await self._sleep(self._ends[0] + self.period - now)
                else:  # every place is taken by a send still waiting for its answer
                    self._ended.clear()
                    await self._ended.wait()

    def _exit(self) -> None:
        self._in_flight -= 1
        self._ends.append(self._clock())
        self._ended.set()

    def pause(self, seconds: float) -> None:
        """Let nothing through for `seconds` (the server asked us to back off)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)


class _Slot:
    def __init__(self, window: SlidingWindow) -> None:
        self.window = window

    async def __aenter__(self) -> None:
        await self.window._enter()

    async def __aexit__(self, *exc: object) -> None:
        self.window._exit()


class ChatPacer:
    """At least `interval` seconds from the end of one send to a chat to the start of the next.

    Timing from the *answer* of the previous send makes the spacing hold on the server whatever
    the network delay was, at no cost to throughput (other chats go meanwhile).
    """

    def __init__(self, interval: float, *, clock: Monotonic = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._free_at: dict[Hashable, float] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}

    def hold(self, chat: Hashable) -> _PacedSend:
        """`async with pacer.hold(chat):` around one send."""
        return _PacedSend(self, chat)

    async def _enter(self, chat: Hashable) -> None:
        lock = self._locks.setdefault(chat, asyncio.Lock())
        await lock.acquire()
        wait = self._free_at.get(chat, 0.0) - self._clock()
        if wait > 0:
            try:
                await self._sleep(wait)
            except BaseException:
                lock.release()
                raise

    def _exit(self, chat: Hashable) -> None:
        now = self._clock()
        self._free_at[chat] = now + self.interval
        # Forget chats whose pause is over, so the maps do not grow with every recipient.
        if len(self._free_at) > 4096:
            for key in [k for k, t in self._free_at.items() if t < now and not self._busy(k)]:
                self._free_at.pop(key, None)
                self._locks.pop(key, None)
        self._locks[chat].release()

    def _busy(self, chat: Hashable) -> bool:
        lock = self._locks.get(chat)
        return lock is not None and lock.locked()


class _PacedSend:
    def __init__(self, pacer: ChatPacer, chat: Hashable) -> None:
        self.pacer = pacer
        self.chat = chat

    async def __aenter__(self) -> None:
        await self.pacer._enter(self.chat)

    async def __aexit__(self, *exc: object) -> None:
        self.pacer._exit(self.chat)


class SharedChatPacing:
    """The spacing between sends to one chat, kept in the database so that several worker
    processes together keep it (bot/channels/telegram_limiter.py).

    Each send books its start with one atomic upsert (storage/pacing.py): the first free moment
    at least `interval` after the chat's previous booking, whichever worker made it. A booking
    counts from the *start* of a send, not its answer as ChatPacer does, so `margin` is added
    for the difference in network delay between two workers' requests. Times are the hosts'
    clocks (epoch seconds), so workers on several machines need NTP, as any server has.
    """

    def __init__(self, db: Database, channel: str, *, margin: float = 0.1,
                 clock: Monotonic = time.time, sleep: Sleep = asyncio.sleep) -> None:
        self.db = db
        self.store = PacingRepository(db)
        self.channel = channel
        self.margin = margin
        self._clock = clock
        self._sleep = sleep

    async def wait_turn(self, chat: Hashable, interval: float) -> None:
        """Book the chat's next send and wait for its moment."""
        now = self._clock()
        async with self.db.transaction():
            start = await self.store.reserve_send(self.channel, str(chat), now,
                                                  interval + self.margin)
        if start > now:
            await self._sleep(start - now)
