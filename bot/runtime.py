"""Composition root of the running bot: channels, senders, outboxes, reporting and the HTTP
server are built here, for every channel whose credentials are in the environment."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from datetime import timedelta

from bot.app import Reporting, build_reporting, open_services
from bot.channels.downloads import Downloads
from bot.clock import Clock, system_clock
from bot.config import Secrets, Settings
from bot.reports.outbox import Sender
from bot.services import Services
from bot.web import Handler, HttpServer, build_app
from handlers.router import Router

log = logging.getLogger(__name__)
OA_WINDOW = timedelta(days=7)


class Runtime:
    """The router and the outbox over one set of services; channels register as senders."""

    def __init__(self, services: Services, *, public_url: str | None = None) -> None:
        self.services = services
        self.router = Router(services, reply_windows={"zalo_oa": OA_WINDOW})
        self.downloads = Downloads(services.db, services.clock, public_url)
        self.senders: dict[str, Sender] = {}
        # Reports are addressed to each member's preferred account when queued (/kenh).
        self.reporting: Reporting = build_reporting(services, self.senders)
        # One outbox, one sender per channel: reports and messages for other people alike.
        self.messages = self.reporting.outbox
        self.router.after_commit.append(self.messages.kick)
        # An announcement's officer is told the outcome once every message is settled.
        self.messages.after_delivery.append(services.announcements.report_finished)
        self._tasks: list[asyncio.Task[None]] = []

    def add_channel(self, name: str, sender: Sender) -> None:
        """Make a running channel reachable by the outbox."""
        self.senders[name] = sender
        self.messages.kick()

    async def start(self, *, scheduler: bool = True) -> None:
        """Deliver queued messages from now on; catch up and start the scheduler if asked."""
        # What start-up made (catalogs, the help desk's index, the libraries' classes) lives
        # as long as the process: frozen out of the cyclic collector, whose full passes
        # would otherwise scan it all again every few thousand updates.
        gc.freeze()
        self._tasks.append(asyncio.create_task(self.messages.run()))
        if scheduler:
            self.reporting.scheduler.start()
            # A catch-up may be a broadcast of minutes: it runs beside the updates, so people
            # are answered at once after a restart.
            self._tasks.append(asyncio.create_task(self._catch_up()))

    async def _catch_up(self) -> None:
        try:
            await self.reporting.scheduler.catch_up()
        except Exception:
            log.exception("catching up on reports failed; the next delivery run retries")

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.reporting.scheduler.shutdown()
        # Messages on their way are finished and held rows handed back before the tasks end.
        try:
            await asyncio.wait_for(self.reporting.outbox.stop(), timeout=15)
        except TimeoutError:
            log.warning("outbox still sending at shutdown; the rest resumes later")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


async def serve(settings: Settings, secrets: Secrets, *, clock: Clock = system_clock,
                stop: asyncio.Event | None = None, scheduler: bool = True) -> int:
    """Serve every configured channel in this process until `stop` is set (or a signal)."""
    from bot.channels.telegram import TelegramChannel
    from bot.channels.zalo_bot import ZaloBotApi, ZaloBotChannel
    from bot.channels.zalo_oa import OaSettings, ZaloOaApi, ZaloOaChannel

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    public = secrets.public_url.rstrip("/") if secrets.public_url else None
    async with open_services(settings, clock=clock) as services, \
            contextlib.AsyncExitStack() as stack:
        runtime = Runtime(services, public_url=public)
        webhooks: dict[str, Handler] = {}
        pollers: list[asyncio.Task[None]] = []
        if secrets.telegram_token is not None:
            telegram = TelegramChannel(settings, secrets, runtime=runtime)
            hooked = bool(public and secrets.telegram_webhook_secret)
            if hooked:
                webhooks["/telegram"] = telegram.webhook
            await telegram.start(shared_webhook=f"{public}/telegram" if hooked else None)
            stack.push_async_callback(telegram.stop)
            runtime.add_channel("telegram", telegram)
        if secrets.zalo_bot_token is not None:
            secret = secrets.zalo_webhook_secret
            zalo = ZaloBotChannel(
                ZaloBotApi(secrets.zalo_bot_token.get_secret_value(), secrets.zalo_base_url),
                runtime.router, runtime.downloads,
                webhook_secret=secret.get_secret_value() if secret else None)
            stack.push_async_callback(zalo.close)
            if public and secret:
                webhooks["/zalo/bot"] = zalo.webhook
                await zalo.set_webhook(f"{public}/zalo/bot")
            else:
                await zalo.prepare_polling()
                pollers.append(asyncio.create_task(zalo.poll_forever()))
            runtime.add_channel("zalo_bot", zalo)
        if secrets.zalo_oa_ready:
            oa = ZaloOaChannel(ZaloOaApi(OaSettings.from_secrets(secrets), services.db, clock),
                               runtime.router, runtime.downloads)
            await oa.api.load_tokens()
            stack.push_async_callback(oa.close)
            webhooks["/zalo/oa"] = oa.webhook
            runtime.add_channel("zalo_oa", oa)
        if not runtime.senders:
            log.error("No channel has credentials: set TELEGRAM_BOT_TOKEN, ZALO_BOT_TOKEN or "
                      "the ZALO_OA_* variables.")
            return 2
        if webhooks or secrets.http_listen or public:
            server = HttpServer(build_app(services.db, runtime.downloads, webhooks),
                                secrets.http_listen or "0.0.0.0:8080")
            await server.start()
            stack.push_async_callback(server.stop)
        await runtime.start(scheduler=scheduler)
        stack.push_async_callback(runtime.stop)
        log.info("serving: %s", ", ".join(runtime.senders))
        await stop.wait()
        for task in pollers:
            task.cancel()
    return 0
