"""The weekly digest to 1,000 officers through a stand-in that enforces Telegram's limits.

`python -m bot run` (the real command, its own process) starts with the digest due and
catches it up: text, chart and workbook to every officer. The stand-in (its own process) adds a
network round trip, counts each message when it arrives and answers 429 `retry_after` to
anything over 30 messages in a second, one a second per chat or 20 a minute per group.
Reported: the time from the first message to the last against the ideal (messages / 30 s), the
messages lost and doubled, 429s, the most messages seen in any one second, peak RSS of the bot.

python -m benchmarks.broadcast [--recipients 1000] [--latency 0.05] [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import write
from benchmarks.procs import ROOT, StandIn
from tests.bot_process import add_officers, write_config
from tests.botapi_stub import DEFAULT_TOKEN

PARTS = ("sendMessage", "sendPhoto", "sendDocument")
WEEKLY = "Báo cáo tuần"
FIRST_OFFICER = 8000


def _settled(database: Path, rows: int) -> bool:
    with sqlite3.connect(database) as conn:
        found = conn.execute("SELECT status FROM outbox WHERE report = 'digest-week'").fetchall()
    return len(found) == rows and all(status in ("sent", "unknown", "failed")
                                      for (status,) in found)


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(recipients: int, latency: float, timeout: float = 900) -> dict[str, Any]:
    """One broadcast; figures as described in the module docstring."""
    with tempfile.TemporaryDirectory() as folder:
        config, database = write_config(Path(folder)), Path(folder) / "bot.sqlite3"
        officers = await add_officers(config, database, recipients, first=FIRST_OFFICER)
        standin = StandIn(latency=latency, flood_limits=True)
        log = (Path(folder) / "bot.log").open("wb")
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT,
            env={**os.environ, "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
                 "TELEGRAM_BASE_URL": standin.base_url,
                 "TELEGRAM_BASE_FILE_URL": standin.base_file_url, "BOT_DATABASE": str(database)},
            stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not _settled(database, recipients):
                if time.monotonic() > deadline or bot.poll() is not None:
                    raise RuntimeError("the broadcast did not finish; bot log:\n"
                                       + (Path(folder) / "bot.log").read_text(errors="replace"))
                await asyncio.sleep(0.5)
            peak = _peak_rss_mib(bot.pid)
            seen = await standin.call("/delivered", {"chats": officers})
        finally:
            bot.terminate()
            bot.wait(30)
            log.close()
            standin.close()
    counts: dict[tuple[str, str], int] = {}
    for key, n in seen["counts"].items():
        chat, method, title = key.split("|", 2)
        if title.startswith(WEEKLY):
            counts[(chat, method)] = counts.get((chat, method), 0) + n
    expected = {(str(o), method) for o in officers for method in PARTS}
    messages = len(expected)
    seconds = (seen["last"] - seen["first"]) if seen["first"] is not None else float("nan")
    ideal = messages / 30
    return {"recipients": recipients, "messages": messages, "latency_s": latency,
            "seconds": seconds, "ideal_seconds": ideal, "ratio_to_ideal": seconds / ideal,
            "lost": len(expected - set(counts)),
            "doubled": sum(n - 1 for n in counts.values() if n > 1),
            "rejected_429": seen["flood_rejections"],
            "most_in_one_second": seen["most_in_one_second"], "peak_rss_mib": peak}


def describe(f: dict[str, Any]) -> str:
    """One line per figure, for the terminal and the README."""
    return (f"{f['recipients']} recipients, {f['messages']} messages, {f['latency_s'] * 1000:.0f} "
            f"ms round trip: {f['seconds']:.1f} s (ideal {f['ideal_seconds']:.1f} s, "
            f"{f['ratio_to_ideal']:.2f}x); lost {f['lost']}, doubled {f['doubled']}, "
            f"429s {f['rejected_429']}, most in one second {f['most_in_one_second']}; "
            f"bot peak RSS {f['peak_rss_mib']:.0f} MiB")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--quick", action="store_true", help="60 recipients")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    figures = asyncio.run(run(60 if args.quick else args.recipients, args.latency))
    print(describe(figures))
    print(f"written to {write('broadcast', figures, args.out)}")
    return figures


if __name__ == "__main__":
    main()
