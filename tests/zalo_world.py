"""The bot's Zalo channels running against the Zalo stand-in, with the bot's HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from typing import Any

from bot.channels.zalo_bot import ZaloBotApi, ZaloBotChannel
from bot.channels.zalo_oa import OaSettings, ZaloOaApi, ZaloOaChannel
from bot.runtime import Runtime
from bot.services import Services
from bot.web import HttpServer, build_app
from tests.zalo_stub import (
    BOT_TOKEN,
    OA_APP_ID,
    OA_APP_SECRET,
    OA_ID,
    OA_SECRET_KEY,
    ZaloStub,
)

WEBHOOK_SECRET = "zalo-webhook-secret-123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class ZaloWorld:
    """Users who type on Zalo (Bot Platform by polling, OA by signed webhooks)."""

    def __init__(self, stub: ZaloStub, services: Services, runtime: Runtime, port: int,
                 bot: ZaloBotChannel, oa: ZaloOaChannel, server: HttpServer,
                 poller: asyncio.Task[None] | None) -> None:
        self.stub, self.services, self.runtime = stub, services, runtime
        self.port, self.bot, self.oa, self.server, self.poller = port, bot, oa, server, poller

    @classmethod
    async def start(cls, stub: ZaloStub, services: Services, *, public: bool = True,
                    poll: bool = True, runtime: Runtime | None = None) -> ZaloWorld:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        runtime = runtime or Runtime(services, public_url=base if public else None)
        bot = ZaloBotChannel(ZaloBotApi(BOT_TOKEN, stub.base_url, request_timeout=5), runtime.router,
                             runtime.downloads, webhook_secret=WEBHOOK_SECRET,
                             retry_delays=(0.01, 0.02), poll_timeout=1)
        oa_settings = OaSettings(app_id=OA_APP_ID, app_secret=OA_APP_SECRET,
                                 secret_key=OA_SECRET_KEY, oa_id=OA_ID,
                                 access_token=stub.access_token, refresh_token=stub.refresh_token,
                                 api_base_url=stub.base_url, oauth_base_url=stub.base_url)
        oa = ZaloOaChannel(ZaloOaApi(oa_settings, services.db, services.clock), runtime.router,
                           runtime.downloads)
        await oa.api.load_tokens()
        server = HttpServer(build_app(services.db, runtime.downloads,
                                      {"/zalo/bot": bot.webhook, "/zalo/oa": oa.webhook}),
                            f"127.0.0.1:{port}")
        await server.start()
        runtime.add_channel("zalo_bot", bot)
        runtime.add_channel("zalo_oa", oa)
        await runtime.start(scheduler=False)
        poller = asyncio.create_task(bot.poll_forever()) if poll else None
        return cls(stub, services, runtime, port, bot, oa, server, poller)

    async def stop(self) -> None:
        if self.poller is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller
        await self.runtime.stop()
        await self.server.stop()
        await self.bot.close()
        await self.oa.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def event(self, event: dict[str, Any]) -> None:
        """Deliver one Bot Platform event by polling and wait until it is handled."""
        before = self.bot.tasks.handled_count
        self.stub.push(event)
        await wait_until(lambda: self.bot.tasks.handled_count > before, "the Zalo bot to handle it")
        await self.runtime.messages.deliver_due()

    async def say(self, user: str, text: str, name: str = "Nguyen Van A") -> str:
        """A Zalo Bot user types; returns everything the bot sent to that chat meanwhile."""
        seen = len(self.stub.bot_sent(user))
        await self.event(self.stub.text_event(user, text, name=name))
        return "\n---\n".join(str(c.params.get("text") or c.params.get("caption") or "")
                              for c in self.stub.bot_sent(user)[seen:])
