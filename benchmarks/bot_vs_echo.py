"""Our bot against a bare python-telegram-bot echo bot, on the same loopback Bot API server.

Both run the real python-telegram-bot over HTTP. Closed loop: a user sends a message and waits
for the answer (latency); open loop: many users send at once (throughput).
Run: python -m benchmarks.bot_vs_echo [--users 20] [--rounds 10] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters

from benchmarks.common import measured, summary, write
from bot.app import open_services
from bot.channels.telegram import TelegramChannel
from bot.config import Secrets, load_settings
from bot.models import Role
from bot.runtime import Runtime
from tests.botapi_stub import BotApiStub

ROOT = Path(__file__).resolve().parent.parent


class EchoBot:
    """The baseline: replies with the text it got."""

    def __init__(self, stub: BotApiStub, *, limited: bool = False) -> None:
        self.handled = 0
        builder = (Application.builder().token(stub.token).base_url(stub.base_url)
                   .base_file_url(stub.base_file_url))
        if limited:  # the same flood limiter our bot runs with (about 30 messages a second)
            builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
        self.app = builder.build()
        self.app.add_handler(MessageHandler(filters.TEXT, self._echo))

    async def _echo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")
        self.handled += 1

    async def start(self) -> None:
        await self.app.initialize()
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0.0, timeout=1)

    async def stop(self) -> None:
        assert self.app.updater is not None
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()


async def _wait(counter: Any, target: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while counter() < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {counter()} of {target} updates handled")
        await asyncio.sleep(0.001)


async def _closed_loop(stub: BotApiStub, handled: Any, user: int, texts: list[str]
                       ) -> list[float]:
    latencies = []
    for text in texts:
        before = handled()
        start = time.perf_counter()
        stub.push_text(user, text)
        await _wait(handled, before + 1)
        latencies.append(time.perf_counter() - start)
    return latencies


async def _open_loop(stub: BotApiStub, handled: Any, scripts: dict[int, list[str]]) -> float:
    """Every user sends its script, one message after the other's answer; all users at once."""
    total = sum(len(s) for s in scripts.values())
    before = handled()
    start = time.perf_counter()
    rounds = max(len(s) for s in scripts.values())
    for index in range(rounds):
        for user, script in scripts.items():
            if index < len(script):
                stub.push_text(user, script[index])
    await _wait(handled, before + total)
    return total / (time.perf_counter() - start)


def _activation_script(code: str) -> list[str]:
    return ["/activate", code, "1 1 c", "luu"]


async def run(users: int, rounds: int) -> dict[str, Any]:
    settings = load_settings(ROOT / "config.toml")
    figures: dict[str, Any] = {}
    for name, limited in (("echo", False), ("echo_limited", True)):
        async with BotApiStub() as stub:
            echo = EchoBot(stub, limited=limited)
            await echo.start()
            try:
                with measured() as m:
                    lat = await _closed_loop(stub, lambda e=echo: e.handled, 1,
                                             ["xin chào"] * 100)
                    scripts = {2000 + u: ["xin chào"] * (4 * rounds) for u in range(users)}
                    rate = await _open_loop(stub, lambda e=echo: e.handled, scripts)
                figures[name] = {"closed_loop": summary(lat), "updates_per_s": rate,
                                 "peak_mib": m.peak_mib}
            finally:
                await echo.stop()

    with tempfile.TemporaryDirectory() as folder:
        async with BotApiStub() as stub, open_services(
                settings, database_path=str(Path(folder) / "bench.sqlite3")) as services:
            hamlet = settings.communes[0].hamlets[0].code
            rows = [{"code": f"{hamlet}-{n:04d}", "hamlet": hamlet,
                     "head_name": f"Nguyễn Văn Hộ {n}", "members": "6"} for n in range(2000)]
            await services.households.import_rows(rows)
            secrets = Secrets(telegram_token=stub.token, telegram_base_url=stub.base_url,
                              telegram_base_file_url=stub.base_file_url)
            channel = TelegramChannel(settings, secrets, runtime=Runtime(services))
            await channel.start(poll_timeout=1)
            try:
                for user in [1, *(3000 + u for u in range(users))]:
                    invite = await services.members.create_invite(Role.VOLUNTEER,
                                                                   hamlet_code=hamlet)
                    stub.push_text(user, f"/start {invite.code}")
                await _wait(lambda: channel.handled_count, users + 1)
                with measured() as m:
                    script = [t for n in range(25) for t in
                              _activation_script(f"{hamlet}-{n:04d}")]
                    lat = await _closed_loop(stub, lambda: channel.handled_count, 1, script)
                    scripts = {3000 + u: [t for r in range(rounds) for t in _activation_script(
                        f"{hamlet}-{100 + u * rounds + r:04d}")] for u in range(users)}
                    rate = await _open_loop(stub, lambda: channel.handled_count, scripts)
                saved = await services.repos.count("activations")
                figures["ours"] = {"closed_loop": summary(lat), "updates_per_s": rate,
                                   "peak_mib": m.peak_mib, "activations_saved": saved,
                                   "activations_expected": 25 + users * rounds}
            finally:
                await channel.stop()
    figures["setup"] = {"users": users, "rounds": rounds,
                        "note": "ours: full activation flows (4 updates each, SQLite WAL) with "
                                "the 30 msg/s flood limiter; echo: one reply per update, "
                                "echo_limited: the same with the limiter"}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    figures = asyncio.run(run(args.users, args.rounds))
    print(f"{'':14}{'p50 ms':>10}{'p95 ms':>10}{'updates/s':>12}{'peak MiB':>10}")
    for name in ("echo", "echo_limited", "ours"):
        f = figures[name]
        print(f"{name:14}{f['closed_loop']['p50_ms']:10.1f}{f['closed_loop']['p95_ms']:10.1f}"
              f"{f['updates_per_s']:12.1f}{f['peak_mib']:10.1f}")
    ours = figures["ours"]
    print(f"activations saved {ours['activations_saved']} of {ours['activations_expected']}")
    print(f"written to {write('bot_vs_echo', figures, args.out)}")


if __name__ == "__main__":
    main()
