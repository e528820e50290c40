"""Officers' announcements over Telegram (and Zalo OA): audience, count, delivery through the
outbox, and the officer told how many were reached and why the others were not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.config import Settings
from bot.models import Role
from bot.runtime import Runtime
from bot.services import Services
from tests.botapi_stub import BotApiStub, FloodLimits
from tests.conftest import FakeClock
from tests.telegram_world import TelegramWorld, labels, texts
from tests.test_outbox import most_in_any_window
from tests.zalo_stub import ZaloStub
from tests.zalo_world import ZaloWorld

OFFICER, KIM_TAN_1, KIM_TAN_2, YEN_GIANG = 7101, 7102, 7103, 7104
CITIZEN_KIM_TAN, CITIZEN_YEN_GIANG, CITIZEN_UNPLACED = 9101, 9102, 9103
MEETING = "Thứ Bảy 8h họp thôn tại nhà văn hóa, mời bà con đến dự."
HEADER = "📢 Thông báo của Xã Hưng Đông:"


async def people(world: TelegramWorld, services: Services) -> None:
    """An officer, three volunteers, and three citizens who wrote to the bot (two of them said
    where they live)."""
    for user, role, hamlet in ((OFFICER, Role.OFFICER, None), (KIM_TAN_1, Role.VOLUNTEER, "X01"),
                               (KIM_TAN_2, Role.VOLUNTEER, "X01"),
                               (YEN_GIANG, Role.VOLUNTEER, "X02")):
        invite = await services.members.create_invite(role, hamlet_code=hamlet)
        await world.say(user, f"/start {invite.code}")
    for citizen, hamlet in ((CITIZEN_KIM_TAN, "X01"), (CITIZEN_YEN_GIANG, "X02"),
                            (CITIZEN_UNPLACED, None)):
        await world.say(citizen, "xin chào")
        if hamlet is not None:
            await services.helpdesk.set_home("telegram", str(citizen), hamlet)


@pytest.fixture
async def world(settings: Settings, services: Services) -> AsyncIterator[TelegramWorld]:
    async with BotApiStub() as stub:
        started = await TelegramWorld.start(stub, settings, services)
        await people(started, services)
        yield started
        await started.stop()


async def announce(world: TelegramWorld, audience: str, text: str,
                   hamlet: str | None = None) -> None:
    await world.say(OFFICER, "/announce")
    await world.tap(OFFICER, audience)
    if hamlet is not None:
        await world.tap(OFFICER, hamlet)
    await world.say(OFFICER, text)


async def test_audiences_are_counted_before_sending(world: TelegramWorld) -> None:
    sent = await world.say(OFFICER, "/announce")
    assert texts(sent) == "Gửi thông báo cho ai?"
    assert labels(sent)[:3] == ["Người dân đã nhắn tin với bot (3)",
                                "Tình nguyện viên của xã (3)", "Một thôn/xóm"]
    await world.tap(OFFICER, "Một thôn/xóm")
    await world.tap(OFFICER, "Xóm Kim Tân")
    sent = await world.say(OFFICER, MEETING)
    assert texts(sent).startswith("Gửi tới: Xóm Kim Tân: tình nguyện viên và người dân: 3 người.")
    assert "Gửi cho 3 người" in labels(sent)


async def test_hamlet_announcement_reaches_that_hamlet_once_and_reports_who_blocked(
        world: TelegramWorld, services: Services) -> None:
    stub = world.stub
    stub.block_user(KIM_TAN_2)  # this volunteer blocked the bot: the stand-in answers 403
    before = {user: len(stub.sent_to(user)) for user in (
        KIM_TAN_1, KIM_TAN_2, YEN_GIANG, CITIZEN_KIM_TAN, CITIZEN_YEN_GIANG, CITIZEN_UNPLACED)}
    await announce(world, "Một thôn/xóm", MEETING, hamlet="Xóm Kim Tân")
    sent = await world.tap(OFFICER, "Gửi cho 3 người")
    assert "✅ Thông báo số 1 đang được gửi tới 3 người." in texts(sent)
    # Exactly the hamlet's volunteer and citizen got it, once; nobody else got anything.
    for user in (KIM_TAN_1, CITIZEN_KIM_TAN):
        got = stub.sent_to(user)[before[user]:]
        assert [m.text for m in got] == [f"{HEADER}\n{MEETING}"]
    for user in (KIM_TAN_2, YEN_GIANG, CITIZEN_YEN_GIANG, CITIZEN_UNPLACED):
        assert stub.sent_to(user)[before[user]:] == []
    # The officer is told how many it reached and why the other one was not.
    report = stub.sent_to(OFFICER)[-1].text
    assert report == ("Thông báo số 1 đã tới 2 trên 3 người.\nChưa tới được:\n"
                      "• 1 người đã chặn bot")
    # Another delivery run sends nothing again, and no second report.
    calls = len(stub.calls_to("sendMessage"))
    await world.runtime.messages.deliver_due()
    assert len(stub.calls_to("sendMessage")) == calls
    rows = [r for r in await services.repos.outbox.messages()
            if r["topic"] == "announcement:1"]
    assert sorted((r["chat_id"], r["status"], r["reason"]) for r in rows) == [
        (str(KIM_TAN_1), "sent", None), (str(KIM_TAN_2), "failed", "blocked"),
        (str(CITIZEN_KIM_TAN), "sent", None)]
    audit = await services.db.fetchone(
        "SELECT action, details FROM audit_log WHERE entity = 'announcement'")
    assert audit is not None and audit["action"] == "announce"


async def test_volunteers_get_the_picture_by_its_file_id(world: TelegramWorld) -> None:
    stub = world.stub
    await world.say(OFFICER, "/announce")
    await world.tap(OFFICER, "Tình nguyện viên của xã")
    sent = await world.send_photo(OFFICER, caption="Lịch trực hỗ trợ VNeID tuần này")
    assert "Kèm 1 ảnh." in texts(sent) and "Gửi tới: tình nguyện viên của xã: 3 người." \
        in texts(sent)
    await world.tap(OFFICER, "Gửi cho 3 người")
    photos = [c for c in stub.calls_to("sendPhoto") if c.params["chat_id"] != OFFICER]
    officer_photo = max((f for f in stub.files.values() if f.kind == "photo"),
                        key=lambda f: f.file_size)
    assert sorted(c.params["chat_id"] for c in photos) == [KIM_TAN_1, KIM_TAN_2, YEN_GIANG]
    assert {c.params["photo"] for c in photos} == {officer_photo.file_id}
    assert {c.params["caption"] for c in photos} == {f"{HEADER}\nLịch trực hỗ trợ VNeID tuần này"}
    assert stub.sent_to(OFFICER)[-1].text == "Thông báo số 1 đã tới 3 trên 3 người."


async def test_only_officers_announce_and_bad_input_gets_a_next_step(
        world: TelegramWorld) -> None:
    sent = await world.say(KIM_TAN_1, "/announce")
    assert texts(sent) == "Chỉ cán bộ xã mới gửi được thông báo."
    sent = await world.say(CITIZEN_KIM_TAN, "/announce")
    assert "Gửi tới" not in texts(sent)
    await world.say(OFFICER, "/announce")
    sent = await world.say(OFFICER, "mọi người")
    assert texts(sent).startswith("Bạn chọn một lựa chọn nhé.\n\nGửi thông báo cho ai?")
    await world.tap(OFFICER, "Tình nguyện viên của xã")
    sent = await world.say(OFFICER, "x" * 1200)
    assert "dưới 1000 ký tự; bản này có 1200 ký tự" in texts(sent)
    await world.say(OFFICER, MEETING)
    sent = await world.say(OFFICER, "không")
    assert texts(sent).startswith("Chưa gửi gì cả.")
    await world.say(OFFICER, "/cancel")
    assert not any(HEADER in (m.text or "") for m in world.stub.sent_to(KIM_TAN_1))


async def test_zalo_oa_citizens_outside_the_window_are_counted_not_sent(
        settings: Settings, services: Services, clock: FakeClock) -> None:
    """A Zalo OA citizen who wrote 8 days ago is not attempted; one whose window Zalo says has
    closed (-230) is counted the same; one who wrote yesterday gets it."""
    async with BotApiStub() as stub, ZaloStub() as zalo:
        runtime = Runtime(services)
        telegram = await TelegramWorld.start(stub, settings, services, runtime=runtime)
        oa = await ZaloWorld.start(zalo, services, runtime=runtime, poll=False)
        try:
            await people(telegram, services)
            channels = services.repos.channels
            async with services.db.transaction():
                await channels.touch_contact("zalo_oa", "oa-old", clock() - timedelta(days=8))
                await channels.touch_contact("zalo_oa", "oa-recent", clock() - timedelta(days=1))
                await channels.touch_contact("zalo_oa", "oa-closed", clock() - timedelta(days=2))
            zalo.last_interaction["oa-recent"] = zalo.now() - 24 * 3600
            zalo.last_interaction["oa-closed"] = zalo.now() - 9 * 24 * 3600  # Zalo's own view
            await announce(telegram, "Người dân đã nhắn tin với bot", MEETING)
            sent = await telegram.tap(OFFICER, "Gửi cho 6 người")
            assert "✅ Thông báo số 1 đang được gửi tới 6 người." in texts(sent)
            delivered = [m for m in zalo.oa_sent if m["recipient"]["user_id"] == "oa-recent"]
            assert [m["message"]["text"] for m in delivered] == [f"{HEADER}\n{MEETING}"]
            assert not [c for c in zalo.calls if c.params.get("recipient", {}).get("user_id")
                        == "oa-old"]
            assert stub.sent_to(OFFICER)[-1].text == (
                "Thông báo số 1 đã tới 4 trên 6 người.\nChưa tới được:\n"
                "• 2 người dùng Zalo đã hơn 7 ngày không nhắn cho xã, nên Zalo không cho bot "
                "nhắn trước")
        finally:
            await oa.stop()
            await telegram.stop()


async def test_a_large_announcement_keeps_to_telegrams_flood_limits(
        settings: Settings, services: Services) -> None:
    """45 citizens: each gets it once, never more than 30 messages in any second, no 429.
    (The stand-in checks the overall limit only: the test's bot answers its officer without
    the one-second pause per chat, which each recipient here needs no more than once.)"""
    crowd = list(range(9300, 9345))
    async with BotApiStub(flood_limits=FloodLimits(chat_interval=None),
                          latency=0.005) as stub:
        world = await TelegramWorld.start(stub, settings, services)
        try:
            await people(world, services)
            for citizen in crowd:
                await world.say(citizen, "chào")
            await announce(world, "Người dân đã nhắn tin với bot", MEETING)
            stub.message_times.clear()
            await world.tap(OFFICER, "Gửi cho 48 người")
            for citizen in crowd:
                assert [m.text for m in stub.sent_to(citizen)
                        if HEADER in (m.text or "")] == [f"{HEADER}\n{MEETING}"]
            assert stub.flood_rejections == 0
            assert most_in_any_window(stub.message_times, 1.0) <= 30
            assert stub.sent_to(OFFICER)[-1].text == "Thông báo số 1 đã tới 48 trên 48 người."
        finally:
            await world.stop()
