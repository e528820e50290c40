"""The two programs the benchmarks compare, each run in its own process.

python -m benchmarks.bots echo|echo_aiohttp --base-url URL [--limiter]
python -m benchmarks.bots ours --base-url URL --config CFG --database DB [--limiter]
    [--sequential]
Both serve until stdin closes. `--limiter` gives either the same flood limiter
(bot.channels.telegram_limiter: 30 messages in any second, one a second per chat); the echo bot
handles updates concurrently like ours, so the baseline is python-telegram-bot at its best.
`echo_aiohttp` is the same echo bot on the HTTP client ours uses instead of
python-telegram-bot's default (bot/channels/telegram_http.py): what that client alone changes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.channels.telegram_limiter import TelegramLimiter
from tests.botapi_stub import DEFAULT_TOKEN


async def _until_stdin_closes() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def echo(base_url: str, limiter: bool, aiohttp: bool = False) -> None:
    """A bare python-telegram-bot echo bot."""
    builder = Application.builder().token(DEFAULT_TOKEN).base_url(base_url)
    builder = builder.concurrent_updates(True)
    if aiohttp:
        from bot.channels.telegram_http import AiohttpRequest

        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(pool_size=1))
    if limiter:
        builder = builder.rate_limiter(TelegramLimiter())  # type: ignore[arg-type]

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, reply))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        print("ready", flush=True)
        await _until_stdin_closes()
        await app.updater.stop()
        await app.stop()


async def ours(base_url: str, config: str, database: str, limiter: bool,
               sequential: bool) -> None:
    """Our bot as `python -m bot run` builds it, with the benchmark's limiter settings."""
    from bot.app import open_services
    from bot.channels.telegram import TelegramChannel
    from bot.config import Secrets, load_settings
    from bot.runtime import Runtime

    settings = load_settings(config)
    secrets = Secrets(telegram_token=DEFAULT_TOKEN, telegram_base_url=base_url)  # type: ignore[arg-type]
    async with open_services(settings, database_path=database) as services:
        runtime = Runtime(services)
        channel = TelegramChannel(settings, secrets, runtime=runtime, limiter=limiter,
                                  concurrent=not sequential)
        await channel.start(poll_timeout=10)
        runtime.add_channel("telegram", channel)
        await runtime.start(scheduler=False)
        print("ready", flush=True)
        await _until_stdin_closes()
        await runtime.stop()
        await channel.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("program", choices=("echo", "echo_aiohttp", "ours"))
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--limiter", action="store_true")
    parser.add_argument("--config")
    parser.add_argument("--database")
    parser.add_argument("--sequential", action="store_true")
    args = parser.parse_args()
    if args.program.startswith("echo"):
        asyncio.run(echo(args.base_url, args.limiter, aiohttp=args.program == "echo_aiohttp"))
    else:
        asyncio.run(ours(args.base_url, args.config, args.database, args.limiter,
                         args.sequential))


if __name__ == "__main__":
    main()
