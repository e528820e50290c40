"""One person, two apps: a Zalo account linked to a Telegram membership with a one-time code,
and reminders sent to the app the member prefers."""

from __future__ import annotations

import re

from bot.models import Role
from bot.services import Services
from tests.botapi_stub import BotApiStub
from tests.telegram_world import TelegramWorld
from tests.zalo_stub import ZaloStub
from tests.zalo_world import ZaloWorld

VOLUNTEER = 800


async def test_link_then_reminders_on_the_preferred_app(services: Services) -> None:
    async with ZaloStub() as zalo, BotApiStub() as telegram_stub:
        world = await ZaloWorld.start(zalo, services)
        tg = await TelegramWorld.start(telegram_stub, services.settings, services,
                                       runtime=world.runtime)
        try:
            invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
            await tg.say(VOLUNTEER, f"/start {invite.code}")
            refused = await world.say("z9", "/link ABCD2345")
            assert "không đúng" in refused
            said = await tg.say(VOLUNTEER, "/link")
            code = re.search(r"/link (\w+)", said[-1].text or "")
            assert code is not None
            linked = await world.say("z9", f"/link {code.group(1)}")
            assert "✅ Đã liên kết" in linked and "1. Ghi kích hoạt" in linked
            again = await world.say("z8", f"/link {code.group(1)}")  # a code works once
            assert "không đúng" in again
            on_zalo = await services.repos.members.member("zalo_bot", "z9")
            on_telegram = await services.repos.members.member("telegram", str(VOLUNTEER))
            assert on_zalo is not None and on_telegram is not None
            assert on_zalo.id == on_telegram.id

            # Logged on Zalo, counted for the same member.
            await world.say("z9", "/activate")
            await world.say("z9", "lan")
            await world.say("z9", "1")
            await world.say("z9", "1")
            await world.say("z9", "luu")
            rows = await services.db.fetchall("SELECT member_id FROM activations")
            assert [r[0] for r in rows] == [on_telegram.id]

            choice = await world.say("z9", "/kenh")
            assert "1. Telegram" in choice and "2. Zalo" in choice
            chosen = await world.say("z9", "zalo")
            assert "✅" in chosen and "Zalo" in chosen
            before_tg = len(telegram_stub.sent_to(VOLUNTEER))
            before_zalo = len(zalo.bot_sent("z9"))
            await world.runtime.reporting.scheduler.run("reminder", "HD")
            assert len(telegram_stub.sent_to(VOLUNTEER)) == before_tg
            reminder = zalo.bot_sent("z9")[before_zalo:]
            assert reminder and "15:00" in str(reminder[0].params["text"])
        finally:
            await tg.stop()
            await world.stop()
