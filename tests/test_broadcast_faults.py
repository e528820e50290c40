"""Fault injection on real bot processes: SIGKILL mid-broadcast, two processes on one database.

"Delivered once" (bot/reports/outbox.py): no message reaches a chat twice; every message is
delivered, except one whose request may have reached Telegram when its answer was lost — that
one is recorded in its row's `unknown_parts` and is not sent again (delivered 0 or 1 times).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from storage.engine import is_postgres
from tests.bot_process import BotProcess, add_officers, write_config
from tests.botapi_stub import BotApiStub, FloodLimits
from tests.conftest import ON_BOTH_ENGINES
from tests.test_outbox import most_in_any_window

PARTS = {"sendMessage": 0, "sendPhoto": 1, "sendDocument": 2}
WEEKLY = ("Báo cáo tuần",)


def outbox(database: str) -> list[dict[str, Any]]:
    """The weekly digest's outbox rows, read beside the bot (SQLite file or PostgreSQL URL)."""
    sql = "SELECT * FROM outbox WHERE report = 'digest-week'"
    if is_postgres(database):
        with psycopg.connect(database, row_factory=dict_row) as pg:
            return pg.execute(sql).fetchall()
    with sqlite3.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql)]


def weekly_messages(stub: BotApiStub, officers: list[int]) -> Counter[tuple[int, int]]:
    """How many times each (chat, part of the weekly digest) reached the chat."""
    counts: Counter[tuple[int, int]] = Counter()
    for chat in officers:
        for sent in stub.sent_to(chat):
            if (sent.text or "").startswith(WEEKLY):
                counts[(chat, PARTS[sent.method])] += 1
    return counts


async def settled(database: str, rows: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = outbox(database)
        if len(found) == rows and all(r["status"] in ("sent", "unknown") for r in found):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"outbox not settled: {outbox(database)}")


@ON_BOTH_ENGINES
async def test_sigkill_mid_broadcast_then_restart_delivers_each_message_at_most_once(
        tmp_path: Path, database_target: str) -> None:
    config, database = write_config(tmp_path), database_target
    officers = await add_officers(config, database, 40)
    async with BotApiStub(flood_limits=FloodLimits(), latency=0.02) as stub:
        # Three charts hang in the network when the process dies: they reach the chats,
        # the dead process never learns it.
        stub.delay_next("sendPhoto", 2.5, times=3)
        first = BotProcess(stub, config, database, "first")
        try:
            await stub.wait_for(lambda s: len(s.message_times) >= 30 and sum(
                c.status is None for c in s.calls_to("sendPhoto")) >= 2, timeout=60)
        finally:
            first.kill()
        # Requests the stand-in had read in full but not yet answered when the process died.
        on_the_way = [(int(c.params["chat_id"]), PARTS[c.method]) for c in stub.calls
                      if c.method in PARTS and c.status is None and "chat_id" in c.params]
        await asyncio.sleep(3)  # the held charts arrive

        restarted_at = len(stub.calls)
        second = BotProcess(stub, config, database, "second")
        try:
            await stub.wait_for(lambda s: any(c.method == "getUpdates"
                                              for c in s.calls[restarted_at:]), timeout=60)
            asked = time.monotonic()
            stub.push_text(officers[-1], "/help")
            await stub.wait_for(lambda s: any("/digest" in (m.text or "")
                                              for m in s.sent_to(officers[-1])), timeout=10)
            answered = time.monotonic() - asked
            still_sending = sum(r["status"] not in ("sent", "unknown") for r in outbox(database))
            await settled(database, 40, timeout=90)
        finally:
            assert second.stop() == 0, second.log()

    # The restarted bot answered at once, while the broadcast was still going on.
    assert answered < 2.0 and still_sending > 0
    counts = weekly_messages(stub, officers)
    assert max(counts.values()) == 1, "a message reached a chat twice"
    in_doubt = {(int(r["chat_id"]), int(p)) for r in outbox(database)
                for p in r["unknown_parts"].split(",") if p}
    every = {(chat, part) for chat in officers for part in PARTS.values()}
    assert every - in_doubt <= set(counts)  # everything not in doubt was delivered
    assert set(on_the_way) <= in_doubt  # what was on its way at the kill is in doubt...
    assert set(on_the_way) <= set(counts)  # ...although it arrived: so it was not sent again
    assert stub.flood_rejections == 0 and most_in_any_window(stub.message_times, 1.0) <= 30


@ON_BOTH_ENGINES
async def test_two_bot_processes_on_one_database_send_the_digest_once(
        tmp_path: Path, database_target: str) -> None:
    config, database = write_config(tmp_path), database_target
    officers = await add_officers(config, database, 24)
    async with BotApiStub(flood_limits=FloodLimits(), latency=0.02) as stub:
        bots = [BotProcess(stub, config, database, name) for name in ("one", "two")]
        try:
            await settled(database, 24, timeout=90)
        finally:
            codes = [bot.stop() for bot in bots]
    assert codes == [0, 0], [bot.log() for bot in bots]
    counts = weekly_messages(stub, officers)
    assert len(counts) == 24 * 3 and set(counts.values()) == {1}
    assert {r["status"] for r in outbox(database)} == {"sent"}
