"""Updates of different chats at the same time, each chat's updates in order (real HTTP stack)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.models import Role
from bot.services import Services
from tests.botapi_stub import BotApiStub
from tests.telegram_world import TelegramWorld

ANNA, BINH, PROVINCE = 6101, 6102, 6103


@pytest.fixture
async def world(settings: object, services: Services) -> AsyncIterator[TelegramWorld]:
    async with BotApiStub() as stub:
        started = await TelegramWorld.start(stub, services.settings, services)
        for user, role, hamlet in ((ANNA, Role.VOLUNTEER, "X01"), (BINH, Role.VOLUNTEER, "X02"),
                                   (PROVINCE, Role.PROVINCE, None)):
            invite = await services.members.create_invite(role, hamlet_code=hamlet)
            await started.say(user, f"/start {invite.code}")
        yield started
        await started.stop()


def texts(stub: BotApiStub, chat: int, since: int) -> list[str]:
    return [m.text or "" for m in stub.sent_to(chat)[since:]]


async def test_two_updates_of_one_chat_never_interleave(world: TelegramWorld) -> None:
    stub = world.stub
    menu = stub.sent_to(ANNA)[-1]
    [start] = [data for label, data in stub.buttons(menu) if "Ghi kích hoạt" in label]
    seen = len(stub.sent_to(ANNA))
    # A tap is acknowledged (answerCallbackQuery) before it is handled: make that slow, so
    # the text typed right after would overtake it if the chat's updates ran concurrently.
    stub.delay_next("answerCallbackQuery", 0.6)
    stub.push_callback(ANNA, str(start), message_id=menu.message_id)
    stub.push_text(ANNA, "X01-001")
    await stub.wait_for(lambda s: len(s.sent_to(ANNA)) >= seen + 2, timeout=10)
    asked, picked = texts(stub, ANNA, seen)[:2]
    assert "Nguyễn Thị Lan" not in asked and "Nguyễn Thị Lan" in picked


async def test_a_slow_chat_does_not_hold_up_another(world: TelegramWorld) -> None:
    stub = world.stub
    anna_seen, binh_seen = len(stub.sent_to(ANNA)), len(stub.sent_to(BINH))
    stub.delay_next("sendMessage", 1.5)  # Anna's answer hangs in the network
    stub.push_text(ANNA, "/help")
    await stub.wait_for(lambda s: len(s.calls_to("sendMessage")) and
                        s.calls_to("sendMessage")[-1].status is None, timeout=5)
    started = time.monotonic()
    stub.push_text(BINH, "/me")
    await stub.wait_for(lambda s: len(s.sent_to(BINH)) > binh_seen, timeout=5)
    assert time.monotonic() - started < 1.0
    assert len(stub.sent_to(ANNA)) == anna_seen  # Anna's answer is still on its way
    await stub.wait_for(lambda s: len(s.sent_to(ANNA)) > anna_seen, timeout=5)


async def test_volunteer_answered_while_a_province_digest_is_drawn(world: TelegramWorld) -> None:
    stub = world.stub
    province_seen, anna_seen = len(stub.sent_to(PROVINCE)), len(stub.sent_to(ANNA))
    update_id = stub.push_text(PROVINCE, "/digest")
    # Wait until the bot has taken the digest's update, then ask for /me.
    await stub.wait_for(lambda s: s.updates_confirmed_up_to >= update_id, timeout=5)
    asked = time.monotonic()
    stub.push_text(ANNA, "/me")
    await stub.wait_for(lambda s: len(s.sent_to(ANNA)) > anna_seen, timeout=10)
    answered = time.monotonic() - asked
    await stub.wait_for(lambda s: len(s.sent_to(PROVINCE)) >= province_seen + 3, timeout=30)
    digest = stub.sent_to(PROVINCE)[province_seen:]
    assert [m.method for m in digest] == ["sendMessage", "sendPhoto", "sendDocument"]
    assert answered < 0.5, f"/me took {answered:.2f}s during the digest"
