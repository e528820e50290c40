"""Zalo Official Account: the citizen desk over signed webhooks, tokens that rotate, the 7-day
window, and a citizen's question answered by a volunteer on another app."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.models import Role
from bot.services import Services
from tests.botapi_stub import BotApiStub
from tests.conftest import FakeClock
from tests.telegram_world import TelegramWorld
from tests.zalo_stub import ZaloStub, oa_signature, post_oa
from tests.zalo_world import ZaloWorld, wait_until

CITIZEN = "8101234567890123456"


@pytest.fixture
async def world(services: Services) -> AsyncIterator[ZaloWorld]:
    async with ZaloStub() as stub:
        started = await ZaloWorld.start(stub, services, poll=False)
        yield started
        await started.stop()


async def citizen_says(world: ZaloWorld, text: str | None, *, user: str = CITIZEN,
                       event_name: str = "user_send_text", deliver: bool = True) -> list[str]:
    """The citizen writes to the OA; returns the OA's messages to them meanwhile."""
    seen = len(world.stub.oa_texts(user))
    async with aiohttp.ClientSession() as http:
        response = await post_oa(http, world.url + "/zalo/oa",
                                 world.stub.oa_event(user, text, event_name=event_name))
        assert response.status == 200
    await world.oa.tasks.idle()
    if deliver:
        await world.runtime.messages.deliver_due()
    return world.stub.oa_texts(user)[seen:]


async def test_follow_greets_and_the_desk_answers_by_typing(world: ZaloWorld) -> None:
    [greeting] = await citizen_says(world, None, event_name="follow")
    assert "Anh/Chị" in greeting and "1. " in greeting
    answer = await citizen_says(world, "kich hoat vneid nhu the nao")
    assert "1." in answer[0] and "Trả lời" in answer[0]
    rated = await citizen_says(world, "huu ich")              # "Hữu ích" typed plainly
    assert rated and "cảm ơn" in rated[0].lower()
    rows = await world.services.db.fetchall("SELECT helpful FROM ratings")
    assert [r[0] for r in rows] == [1]


async def test_signature_and_bad_bodies_are_refused(world: ZaloWorld) -> None:
    url = world.url + "/zalo/oa"
    body = world.stub.oa_event(CITIZEN, "xin chao")
    async with aiohttp.ClientSession() as http:
        missing = await post_oa(http, url, body, signature="")
        wrong = await post_oa(http, url, body, signature="mac=" + "0" * 64)
        other_key = await post_oa(http, url, body, signature=oa_signature(
            b"{}", body["timestamp"], key="not-our-key"))
        async with http.post(url, data=b"{oops", headers={
                "Content-Type": "application/json", "X-ZEvent-Signature": "mac=00"}) as bad:
            malformed = bad.status
        async with http.post(url, data=b"{" + b" " * 100_000 + b"}", headers={
                "Content-Type": "application/json", "X-ZEvent-Signature": "mac=00"}) as big:
            oversized = big.status
    assert [missing.status, wrong.status, other_key.status, malformed, oversized] == [
        403, 403, 403, 400, 413]
    await world.oa.tasks.idle()
    assert world.stub.oa_sent == []


async def test_repeated_delivery_is_answered_once(world: ZaloWorld) -> None:
    body = world.stub.oa_event(CITIZEN, "xin chao")
    async with aiohttp.ClientSession() as http:
        for _ in range(3):  # Zalo retries a delivery it thinks failed
            assert (await post_oa(http, world.url + "/zalo/oa", body)).status == 200
    await world.oa.tasks.idle()
    assert len(world.stub.oa_texts(CITIZEN)) == 1


async def test_webhook_answers_after_the_commit_and_a_redelivery_changes_nothing(
        world: ZaloWorld) -> None:
    """The 200 means the message is stored: a worker that dies before it has answered nothing,
    so Zalo delivers again, and the delivery it repeats anyway is applied once."""
    body = world.stub.oa_event(CITIZEN, "xin chao")
    claimed = "SELECT COUNT(*) FROM processed_updates WHERE channel = 'zalo_oa'"
    async with aiohttp.ClientSession() as http:
        assert (await post_oa(http, world.url + "/zalo/oa", body)).status == 200
        [(stored,)] = [tuple(r) for r in await world.services.db.fetchall(claimed)]
        assert stored == 1  # committed before the answer, not after
        assert (await post_oa(http, world.url + "/zalo/oa", body)).status == 200
    await world.oa.tasks.idle()
    [(stored,)] = [tuple(r) for r in await world.services.db.fetchall(claimed)]
    assert stored == 1 and len(world.stub.oa_texts(CITIZEN)) == 1


async def test_webhook_does_not_wait_for_the_sending(world: ZaloWorld) -> None:
    world.stub.oa_delay = 2.5  # a slow OA API: the webhook must not wait for it
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        response = await post_oa(http, world.url + "/zalo/oa",
                                 world.stub.oa_event(CITIZEN, "xin chao"))
    answered = time.monotonic() - started
    assert response.status == 200 and answered < 2.0
    assert world.stub.oa_sent == []
    await world.oa.tasks.idle()
    assert len(world.stub.oa_texts(CITIZEN)) == 1


async def test_refused_token_is_refreshed_and_the_new_refresh_token_stored(
        world: ZaloWorld) -> None:
    world.stub.expired_tokens.add(world.stub.access_token)  # Zalo says -220 from now on
    answer = await citizen_says(world, "xin chao")
    assert answer and world.stub.refreshes == 1
    stored = await world.services.repos.channels.oa_tokens(world.oa.api.key)
    assert stored is not None and stored.refresh_token == world.stub.refresh_token == "oa-refresh-2"
    # A restart reads the rotated token from the database, not the spent one in the environment.
    again = await world.services.repos.channels.oa_tokens(world.oa.api.key)
    assert again == stored


async def test_token_is_refreshed_before_it_expires(world: ZaloWorld, clock: FakeClock) -> None:
    clock.advance(hours=23, minutes=45)  # the first token was taken as valid for 24 h
    await citizen_says(world, "xin chao")
    assert world.stub.refreshes == 1
    assert [c.ok for c in world.stub.calls if c.method == "oa.cs"] == [True]  # no refusal first


async def test_zalo_citizen_to_telegram_volunteer_and_back(services: Services,
                                                            clock: FakeClock) -> None:
    async with ZaloStub() as zalo, BotApiStub() as telegram_stub:
        world = await ZaloWorld.start(zalo, services, poll=False)
        tg = await TelegramWorld.start(telegram_stub, services.settings, services,
                                       runtime=world.runtime)
        try:
            invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
            await tg.say(800, f"/start {invite.code}")
            await citizen_says(world, "xe rac may gio qua xom minh")
            asked = await citizen_says(world, "kim tan")  # the hamlet, typed
            assert asked and "số" in asked[0]
            forwarded = telegram_stub.last_message(800)
            assert forwarded is not None and "xe rac" in (forwarded.text or "")
            await tg.tap(800, "Trả lời")
            await tg.say(800, "Thứ 3 và thứ 6 hằng tuần, khoảng 7 giờ sáng.")
            relayed = zalo.oa_texts(CITIZEN)[-1]
            assert "7 giờ sáng" in relayed and "1. Hữu ích" in relayed
            # Eight days later the OA may no longer write to the citizen: the volunteer is told.
            await citizen_says(world, "cho hoi lich hop to dan pho")
            clock.advance(days=8)
            before = len(zalo.oa_sent)
            await tg.say(800, "/questions")
            await tg.tap(800, "#")
            said = await tg.say(800, "Tối thứ 7 này, ở nhà văn hóa.")
            assert "hơn 7 ngày" in " ".join(s.text or "" for s in said)
            assert len(zalo.oa_sent) == before
            assert not [c for c in zalo.calls if c.method == "oa.cs" and not c.ok]
        finally:
            await tg.stop()
            await world.stop()


async def test_crash_after_commit_still_delivers_once(services: Services) -> None:
    async with ZaloStub() as zalo:
        world = await ZaloWorld.start(zalo, services)
        invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
        await world.say("v1", f"/start {invite.code}")
        # From here the process "dies" right after each commit: no delivery happens.
        await world.runtime.stop()
        world.runtime.router.after_commit.clear()
        await citizen_says(world, "xe rac may gio qua xom minh", deliver=False)
        await citizen_says(world, "kim tan", deliver=False)
        await world.stop()
        queued = await services.repos.outbox.messages()
        assert [(m["channel"], m["chat_id"], m["status"]) for m in queued] == [
            ("zalo_bot", "v1", "pending")]
        assert not any("xe rac" in str(c.params.get("text")) for c in zalo.bot_sent("v1"))

        restarted = await ZaloWorld.start(zalo, services)  # the next start delivers it
        try:
            await wait_until(lambda: any("xe rac" in str(c.params.get("text"))
                                         for c in zalo.bot_sent("v1")), "the hand-off")
            await restarted.runtime.messages.deliver_due()  # another run sends nothing more
            assert sum("xe rac" in str(c.params.get("text"))
                       for c in zalo.bot_sent("v1")) == 1
            assert [m["status"] for m in await services.repos.outbox.messages()] == ["sent"]
        finally:
            await restarted.stop()


async def test_window_is_seven_days(world: ZaloWorld) -> None:
    assert world.runtime.router.reply_windows == {"zalo_oa": timedelta(days=7)}


async def test_zalo_volunteer_answers_by_typing_the_number(services: Services) -> None:
    async with ZaloStub() as zalo:
        world = await ZaloWorld.start(zalo, services)
        try:
            invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
            await world.say("v1", f"/start {invite.code}")
            await citizen_says(world, "xe rac may gio qua xom minh")
            await citizen_says(world, "kim tan")
            forwarded = str(zalo.bot_sent("v1")[-1].params["text"])
            assert "xe rac" in forwarded and "1. Trả lời" in forwarded
            await world.say("v1", "1")                       # "Trả lời", by its number
            await world.say("v1", "Sáng thứ 3 và thứ 6 ạ.")
            await world.runtime.messages.deliver_due()
            assert "Sáng thứ 3 và thứ 6" in zalo.oa_texts(CITIZEN)[-1]
        finally:
            await world.stop()
