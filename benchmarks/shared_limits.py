"""What keeping Telegram's limits across workers costs per message: the in-process limiter
alone (one worker) against the same limiter with each chat's spacing booked in PostgreSQL
(bot/ratelimit.py SharedChatPacing, as every worker does when BOT_WORKERS > 1). Every send goes
to a new chat, so nothing waits: the figures are the limiter's own cost. Each setting runs in
its own process, on the same number of sends.

    python -m benchmarks.shared_limits postgresql://user@127.0.0.1:5432/db [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.common import child_figures
from bot.channels.telegram_limiter import TelegramLimiter
from bot.ratelimit import SharedChatPacing
from storage.engine import open_database

RESULTS = Path(__file__).parent / "results" / "shared_limits.json"


async def _sends(url: str, n: int, shared: bool) -> dict[str, float]:
    db = await open_database(url).open()
    try:
        limiter = TelegramLimiter(per_second=1_000_000, workers=2 if shared else 1,
                                  shared=SharedChatPacing(db, "bench") if shared else None)

        async def send(*_args: Any, **_kwargs: Any) -> bool:
            return True

        costs = []
        base = time.time_ns()  # new chats on every run: nothing waits for an earlier booking
        for i in range(n):
            started = time.perf_counter()
            await limiter.process_request(send, (), {}, "sendMessage",
                                          {"chat_id": base + i}, None)
            costs.append(time.perf_counter() - started)
    finally:
        await db.close()
    return {"median_ms": statistics.median(costs) * 1000,
            "p95_ms": statistics.quantiles(costs, n=20)[18] * 1000}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--setting", choices=("in_process", "shared"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    n = 300 if args.quick else 3000
    if args.setting:  # the child process: one setting, figures on stdout
        print(json.dumps(asyncio.run(_sends(args.url, n, args.setting == "shared"))))
        return
    results = {}
    for setting in ("in_process", "shared"):
        results[setting] = figures = child_figures(
            "benchmarks.shared_limits", args.url, "--setting", setting,
            *(["--quick"] if args.quick else []))
        print(f"{setting:10} per message: median {figures['median_ms']:.3f} ms, "
              f"p95 {figures['p95_ms']:.3f} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"sends": n, "settings": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
