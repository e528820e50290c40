"""Inbound: our bot against a bare python-telegram-bot echo bot, every program in its own process.

The Bot API stand-in and its simulated users run in one process (benchmarks.standin), each bot
in another (benchmarks.bots), this driver in a third; nothing is traced inside timed blocks.
Closed-loop users: each sends, waits for the bot's answer, sends again. Our users run the
activation flow (open, pick a household, numbers, save: four updates, one record written);
the echo bot's users get their text back. Runs with no limiter on either side and with the same
flood limiter on both; then with a 100 ms round trip added by the stand-in, concurrent against
one update at a time. The programs of a setting run in turns, a few seconds each, so that
both meet the same machine.

python -m benchmarks.bot_vs_echo [--quick] [--seconds 8] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sqlite3
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import percentile, write
from benchmarks.procs import ROOT, Process, StandIn
from bot.app import open_services
from bot.config import load_settings
from bot.models import Role

CONFIG = ROOT / "config.toml"
ECHO_USERS, OUR_USERS = 20_000, 30_000
HOUSEHOLDS_PER_USER = 12
WARM_UP = 1.0  # seconds of each turn not measured


# Names have no digits (the import refuses them): each digit of the code becomes a word. The
# size of a household is left blank, so its records never reach a cap however long a run is.
_NAME_WORDS = ("An", "Bình", "Cúc", "Dung", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nga")


def household(user_index: int, step: int) -> str:
    return f"BX{user_index:04d}{step % HOUSEHOLDS_PER_USER:02d}"


def head_name(code: str) -> str:
    return "Hộ " + " ".join(_NAME_WORDS[int(digit)] for digit in code[2:])


def activation_script(user_index: int, rounds: int) -> list[str]:
    return [text for r in range(rounds) for text in
            ("/activate", household(user_index, r), "1 1 c", "luu")]


async def prepare(database: Path, users: int) -> None:
    """Volunteers and their households, written before any bot starts (not timed)."""
    settings = load_settings(CONFIG)
    hamlet = settings.communes[0].hamlets[0].code
    async with open_services(settings, database_path=str(database)) as services:
        codes = [household(u, s) for u in range(users) for s in range(HOUSEHOLDS_PER_USER)]
        report = await services.households.import_rows(
            {"code": code, "hamlet": hamlet, "head_name": head_name(code)}
            for code in codes)
        if report.rejected or report.added + report.unchanged != len(codes):
            raise RuntimeError(f"households not imported: {report.rejected[:3]}")
        async with services.db.transaction():
            for u in range(users):
                await services.repos.members.upsert_member(
                    channel="telegram", external_id=str(OUR_USERS + u),
                    display_name=f"Tình nguyện viên {u}", role=Role.VOLUNTEER,
                    commune_code=settings.communes[0].code, hamlet_code=hamlet,
                    language="vi", at=services.clock())


def saved_records(database: Path | None) -> int:
    """Activation records in the database, read from this process between runs (untimed)."""
    if database is None:
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM activations").fetchone()[0])


def _summary(result: dict[str, Any], cpu: float, rss: float) -> dict[str, Any]:
    latencies = result["latencies"]
    updates = result["updates"]
    return {"updates": updates, "updates_per_s": updates / result["seconds"],
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000,
            "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
            "cpu_ms_per_update": cpu / updates * 1000 if updates else float("nan"),
            "peak_rss_mib": rss}


@dataclass
class _Bot:
    """One program under test: its stand-in, its process, its database, its answers per step."""

    program: str
    standin: StandIn
    process: Process
    database: Path | None
    answers: list[int]


async def _start(stack: contextlib.ExitStack, program: str, *, limiter: bool, latency: float,
                 sequential: bool, database: Path | None, calibrate_user: int) -> _Bot:
    standin = stack.enter_context(contextlib.closing(StandIn(latency=latency)))
    args = ["-m", "benchmarks.bots", program, "--base-url", standin.base_url]
    if limiter:
        args.append("--limiter")
    if program == "ours":
        assert database is not None
        args += ["--config", str(CONFIG), "--database", str(database)]
        if sequential:
            args.append("--sequential")
    process = stack.enter_context(contextlib.closing(Process(*args)))
    await standin.wait_polling(0)
    answers = [1]
    if program == "ours":
        # How many messages each step of the flow answers with (read once, untimed). With
        # the limiter a chat's answers are a second apart: wait longer to count them.
        answers = await standin.call("/calibrate", {
            "user": calibrate_user, "texts": activation_script(calibrate_user - OUR_USERS, 1),
            "settle": 1.6 if limiter else 0.6})
        if 0 in answers:
            raise RuntimeError(f"a step of the flow got no answer: {answers}")
    return _Bot(program, standin, process, database, answers)


async def _slice(bot: _Bot, users: int, seconds: float) -> dict[str, Any]:
    """One stretch of closed-loop users on one bot; each user goes on where it stopped."""
    first = OUR_USERS if bot.program == "ours" else ECHO_USERS
    rounds = max(12, 4000 // users)  # read round and round: its length does not matter
    script = ([activation_script(u, rounds) for u in range(users)] if bot.program == "ours"
              else [["xin chào"] * (4 * rounds) for _ in range(users)])
    run = {"users": [first + u for u in range(users)], "script": script,
           "answers": bot.answers, "resume": True}
    # Untimed: the users' first messages, the bot's connections to the stand-in opened again.
    await bot.standin.call("/run", {**run, "seconds": WARM_UP})
    records = saved_records(bot.database)
    cpu = bot.process.cpu_seconds()
    result = await bot.standin.call("/run", {**run, "seconds": seconds})
    result["cpu"] = bot.process.cpu_seconds() - cpu
    result["records"] = saved_records(bot.database) - records
    return result


async def _side_by_side(programs: dict[str, tuple[str, bool]], user_counts: list[int],
                        seconds: float, slices: int, *, limiter: bool, latency: float = 0.0,
                        database: Path) -> dict[str, Any]:
    """Every program started at once, each in its own process with its own stand-in (and
    copy of the database), then run in turns: slices of `seconds / slices`, the order
    reversed every slice. A machine whose speed drifts from minute to minute (a shared
    virtual machine) then slows every program alike instead of whichever ran last."""
    figures: dict[str, Any] = {name: {} for name in programs}
    with contextlib.ExitStack() as stack:
        bots: dict[str, _Bot] = {}
        for name, (program, sequential) in programs.items():
            copy = None
            if program == "ours":
                copy = database.with_name(f"{name}-{database.name}")
                shutil.copyfile(database, copy)
            bots[name] = await _start(stack, program, limiter=limiter, latency=latency,
                                      sequential=sequential, database=copy,
                                      calibrate_user=OUR_USERS + max(user_counts))
        for users in user_counts:
            totals: dict[str, dict[str, Any]] = {
                name: {"updates": 0, "seconds": 0.0, "latencies": [], "cpu": 0.0, "records": 0}
                for name in programs}
            order = list(programs)
            for _ in range(slices):
                for name in order:
                    result = await _slice(bots[name], users, seconds / slices)
                    for key, total in totals[name].items():
                        totals[name][key] = total + result[key]
                order.reverse()
            for name, total in totals.items():
                figures[name][str(users)] = _summary(total, total["cpu"],
                                                     bots[name].process.peak_rss_mib())
                if bots[name].program == "ours":
                    # Each record is the last of its four steps: a run that saved none
                    # measured something else than the activation flow.
                    figures[name][str(users)]["records_saved"] = total["records"]
    return figures


async def run(user_counts: list[int], seconds: float, *, rtt_users: int | None,
              rtt: float = 0.1, limiter_modes: tuple[bool, ...] = (False, True),
              slices: int = 2) -> dict[str, Any]:
    """Every run of the comparison; figures keyed by setting, program and users."""
    figures: dict[str, Any] = {"setup": {
        "user_counts": user_counts, "seconds_per_run": seconds, "rtt_s": rtt,
        "slices_per_run": slices,
        "ours": "activation flow: 4 updates per record, SQLite WAL file",
        "echo": "python-telegram-bot Application, concurrent updates, reply_text",
        "echo_aiohttp": "the same echo bot on our HTTP client instead of httpx"}}
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.sqlite3"
        await prepare(database, max(user_counts) + 1)
        both = {"echo": ("echo", False), "ours": ("ours", False)}
        for limiter in limiter_modes:
            setting = "limiter" if limiter else "no_limiter"
            # With no limiter, also the echo bot on our HTTP client: what the client alone
            # is worth, apart from everything else ours does.
            programs = both if limiter else {**both, "echo_aiohttp": ("echo_aiohttp", False)}
            figures[setting] = await _side_by_side(programs, user_counts, seconds, slices,
                                                   limiter=limiter, database=database)
        if rtt_users:
            figures["rtt"] = await _side_by_side(
                {**both, "ours_one_at_a_time": ("ours", True)}, [rtt_users], seconds, slices,
                limiter=False, latency=rtt, database=database)
    return figures


def table(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table, ours beside the echo bot."""
    lines = ["| setting | users | echo upd/s | ours upd/s | ratio | echo p95 ms | ours p95 ms "
             "| ratio | echo CPU ms/upd | ours CPU ms/upd | ours peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for setting in ("no_limiter", "limiter", "rtt"):
        if setting not in figures:
            continue
        echo, ours = figures[setting]["echo"], figures[setting]["ours"]
        for users in ours:
            e, o = echo[users], ours[users]
            lines.append(
                f"| {setting.replace('_', ' ')} | {users} | {e['updates_per_s']:.0f} "
                f"| {o['updates_per_s']:.0f} | {o['updates_per_s'] / e['updates_per_s']:.2f} "
                f"| {e['p95_ms']:.0f} | {o['p95_ms']:.0f} | {o['p95_ms'] / e['p95_ms']:.2f} "
                f"| {e['cpu_ms_per_update']:.2f} | {o['cpu_ms_per_update']:.2f} "
                f"| {o['peak_rss_mib']:.0f} |")
    other = figures.get("no_limiter", {}).get("echo_aiohttp")
    if other:
        lines.append("\nThe echo bot on our HTTP client (aiohttp), no limiter: " + "; ".join(
            f"{users} users {f['updates_per_s']:.0f} updates/s, p95 {f['p95_ms']:.0f} ms, "
            f"{f['cpu_ms_per_update']:.2f} ms CPU per update" for users, f in other.items())
            + ".")
    if "rtt" in figures:
        rtt = figures["rtt"]
        users = next(iter(rtt["ours"]))
        together = rtt["ours"][users]["updates_per_s"]
        alone = rtt["ours_one_at_a_time"][users]["updates_per_s"]
        lines.append(f"\nWith a {figures['setup']['rtt_s'] * 1000:.0f} ms round trip and {users} "
                     f"users: {together:.0f} updates/s concurrently, {alone:.0f} one at a time "
                     f"({together / alone:.1f}x).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1 and 5 users")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        figures = asyncio.run(run([1, 5], 1.5, rtt_users=5))
    else:
        figures = asyncio.run(run([1, 50, 500], args.seconds, rtt_users=50))
    print(table(figures))
    print(f"written to {write('bot_vs_echo', figures, args.out)}")
    return figures


if __name__ == "__main__":
    main()
