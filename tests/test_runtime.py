"""`python -m bot run` with several channels in one process, the shared HTTP server, and the
outbox retrying Zalo errors with back-off."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from bot.channels.telegram import TelegramChannel
from bot.config import Secrets
from bot.models import Role
from bot.runtime import Runtime
from bot.services import Services
from bot.web import HttpServer, build_app
from tests.botapi_stub import BotApiStub
from tests.conftest import FakeClock
from tests.test_cli import ROOT, bot
from tests.zalo_stub import (
    BOT_TOKEN,
    OA_APP_ID,
    OA_APP_SECRET,
    OA_ID,
    OA_SECRET_KEY,
    ZaloStub,
    post_oa,
)
from tests.zalo_world import ZaloWorld, free_port, wait_until


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items()
              if not k.startswith(("TELEGRAM_", "ZALO_", "BOT_"))}
    values["BOT_DATABASE"] = str(tmp_path / "run.sqlite3")
    return values


async def test_run_serves_telegram_zalo_bot_and_oa_in_one_process(env: dict[str, str]) -> None:
    port = free_port()
    async with ZaloStub() as zalo, BotApiStub() as telegram:
        code = bot("invite", "--role", "volunteer", "--hamlet", "X01", env=env
                   ).stdout.strip().splitlines()[-1]
        env = {**env, "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_BASE_URL": telegram.base_url,
               "TELEGRAM_BASE_FILE_URL": telegram.base_file_url,
               "ZALO_BOT_TOKEN": BOT_TOKEN, "ZALO_BASE_URL": zalo.base_url,
               "ZALO_OA_APP_ID": OA_APP_ID, "ZALO_OA_APP_SECRET": OA_APP_SECRET,
               "ZALO_OA_SECRET_KEY": OA_SECRET_KEY, "ZALO_OA_ID": OA_ID,
               "ZALO_OA_ACCESS_TOKEN": zalo.access_token,
               "ZALO_OA_REFRESH_TOKEN": zalo.refresh_token,
               "ZALO_OA_API_BASE_URL": zalo.base_url, "ZALO_OA_OAUTH_BASE_URL": zalo.base_url,
               "BOT_HTTP_LISTEN": f"127.0.0.1:{port}"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            zalo.push(zalo.text_event("z1", f"/start {code}"))
            await wait_until(lambda: any("Chào mừng" in str(c.params.get("text"))
                                         for c in zalo.bot_sent("z1")), "the Zalo welcome", 40)
            telegram.push_text(42, "/help")
            await telegram.wait_for(lambda s: bool(s.sent_to(42)), timeout=20)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                    assert health.status == 200
                response = await post_oa(http, f"http://127.0.0.1:{port}/zalo/oa",
                                         zalo.oa_event("c1", "xin chao"))
                assert response.status == 200
            await wait_until(lambda: bool(zalo.oa_texts("c1")), "the OA answer", 20)
        finally:
            process.terminate()
            output = (await asyncio.wait_for(process.communicate(), timeout=30))[0].decode()
    assert "serving: telegram, zalo_bot, zalo_oa" in output


@pytest.fixture
async def world(services: Services) -> AsyncIterator[ZaloWorld]:
    async with ZaloStub() as stub:
        started = await ZaloWorld.start(stub, services, poll=False)
        yield started
        await started.stop()


async def test_zalo_errors_are_retried_from_the_outbox_with_back_off(
        world: ZaloWorld, services: Services, clock: FakeClock) -> None:
    member = await services.members.join(channel="zalo_bot", external_id="v1",
                                         display_name="Lan", typed_code=(
                                             await services.members.create_invite(
                                                 Role.VOLUNTEER, hamlet_code="X01")).code)
    assert member.member is not None
    for _ in range(3):  # more failures than the channel's own quick retries
        world.stub.fail_next("sendMessage", 500, "Internal error")
    async with aiohttp.ClientSession() as http:
        await post_oa(http, world.url + "/zalo/oa",
                      world.stub.oa_event("c1", "xe rac may gio qua xom minh"))
        await world.oa.tasks.idle()
        await post_oa(http, world.url + "/zalo/oa", world.stub.oa_event("c1", "kim tan"))
        await world.oa.tasks.idle()
    await world.runtime.messages.deliver_due()  # the first try (if the kick did not run it)
    [row] = await services.repos.outbox.messages()
    assert row["status"] == "pending" and "500" in row["last_error"]
    assert (await world.runtime.messages.deliver_due()).sent == 0  # not due before its back-off
    clock.advance(minutes=1)
    assert (await world.runtime.messages.deliver_due()).sent == 1
    assert any("xe rac" in str(c.params.get("text")) for c in world.stub.bot_sent("v1"))


async def test_officer_on_the_oa_gets_the_digest_as_uploads(world: ZaloWorld,
                                                           services: Services) -> None:
    invite = await services.members.create_invite(Role.OFFICER)
    async with aiohttp.ClientSession() as http:
        for text in (f"/start {invite.code}", "/digest"):
            await post_oa(http, world.url + "/zalo/oa", world.stub.oa_event("o9", text))
            await world.oa.tasks.idle()
    kinds = [(kind, name.rsplit(".", 1)[-1]) for kind, name, _data in world.stub.uploads]
    assert kinds == [("image", "png"), ("file", "xlsx")]
    sent = [b["message"] for b in world.stub.oa_sent if b["recipient"]["user_id"] == "o9"]
    assert any(m.get("attachment", {}).get("type") == "file" for m in sent)
    assert any(m.get("attachment", {}).get("payload", {}).get("template_type") == "media"
               for m in sent)


async def test_telegram_webhook_on_the_shared_server(services: Services) -> None:
    port = free_port()
    async with BotApiStub() as stub:
        runtime = Runtime(services)
        secrets = Secrets(telegram_token=stub.token, telegram_base_url=stub.base_url,
                          telegram_webhook_secret=SecretStr("tg-secret-123"))
        channel = TelegramChannel(services.settings, secrets, runtime=runtime)
        server = HttpServer(build_app(services.db, runtime.downloads,
                                      {"/telegram": channel.webhook}), f"127.0.0.1:{port}")
        await server.start()
        await channel.start(shared_webhook="https://bot.example.vn/telegram")
        try:
            assert stub.webhook and stub.webhook["url"] == "https://bot.example.vn/telegram"
            update = {"update_id": 1, "message": {
                "message_id": 1, "date": 0, "chat": {"id": 6100, "type": "private"},
                "from": {"id": 6100, "is_bot": False, "first_name": "Hà"}, "text": "/start"}}
            url = f"http://127.0.0.1:{port}/telegram"
            async with aiohttp.ClientSession() as http:
                async with http.post(url, json=update) as refused:
                    assert refused.status == 403
                async with http.post(url, data=b"{oops", headers={
                        "X-Telegram-Bot-Api-Secret-Token": "tg-secret-123"}) as malformed:
                    assert malformed.status == 400
                async with http.post(url, json=update, headers={
                        "X-Telegram-Bot-Api-Secret-Token": "tg-secret-123"}) as accepted:
                    assert accepted.status == 200
            await stub.wait_for(lambda s: any("Anh/Chị" in (m.text or "")
                                              for m in s.sent_to(6100)))
        finally:
            await channel.stop()
            await server.stop()
