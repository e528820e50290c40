"""Zalo Bot Platform: every volunteer and officer flow by typing alone, polling, webhooks,
files by link, errors; the bot runs against the loopback stand-in written from the docs."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator

import aiohttp
import openpyxl
import pytest

from bot.channels.plain import split_text
from bot.channels.zalo_bot import ZaloBotApi, ZaloBotChannel
from bot.models import Role
from bot.services import Services
from tests.conftest import FakeClock
from tests.zalo_stub import ZaloStub
from tests.zalo_world import WEBHOOK_SECRET, ZaloWorld


@pytest.fixture
async def world(services: Services) -> AsyncIterator[ZaloWorld]:
    async with ZaloStub() as stub:
        started = await ZaloWorld.start(stub, services)
        yield started
        await started.stop()


async def joined(world: ZaloWorld, user: str, role: Role = Role.VOLUNTEER,
                 hamlet: str | None = "X01") -> str:
    invite = await world.services.members.create_invite(role, hamlet_code=hamlet)
    return await world.say(user, f"/start {invite.code}")


async def rows(services: Services, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await services.db.fetchall(sql)]


async def test_activation_by_typing_numbers_and_words(world: ZaloWorld) -> None:
    menu = await joined(world, "z1")
    assert "1. Ghi kích hoạt" in menu and "Trả lời" in menu
    await world.say("z1", "1")                                   # 1: the menu's first option
    found = await world.say("z1", "lan")                         # 2: part of the name
    assert "1. Nguyễn Thị Lan · X01-001" in found
    await world.say("z1", "nguyen thi lan")                     # 3: the option's words, folded
    saved = await world.say("z1", "2")                          # 4: a common case by number
    assert "Lưu" in saved
    saved = await world.say("z1", "luu")
    assert "✅" in saved
    assert await rows(world.services, "SELECT level2_registered, activated, household_capable"
                                      " FROM activations") == [(0, 1, 1)]
    every_text = " ".join(str(c.params.get("text")) for c in world.stub.bot_sent("z1"))
    assert "act:" not in every_text and "nav:" not in every_text  # option values never shown


async def test_where_options_are_numbers_the_number_is_the_value(world: ZaloWorld) -> None:
    await joined(world, "z1")
    await world.say("z1", "kich hoat")
    await world.say("z1", "X01-004")
    asked = await world.say("z1", "nhap so khac")               # "Nhập số khác" without marks
    assert "0, 1, 2, 3, 4, 5" in asked and "1. 0" not in asked
    await world.say("z1", "2")                                    # the value 2, not option 2
    await world.say("z1", "mot")                                  # a number as a word
    await world.say("z1", "co")                                   # "có"
    await world.say("z1", "Lưu")
    assert await rows(world.services, "SELECT level2_registered, activated, household_capable"
                                      " FROM activations") == [(2, 1, 1)]


async def test_visit_follow_up_and_undo_by_typing(world: ZaloWorld) -> None:
    await joined(world, "z1")
    await world.say("z1", "ghi luot huong dan")
    await world.say("z1", "lan")
    await world.say("z1", "1")
    await world.say("z1", "1 3")                                  # topics by their numbers
    dates = await world.say("z1", "hen quay lai")
    assert "Ngày mai" in dates
    saved = await world.say("z1", "1 tuan nua")                   # "1 tuần nữa" folded
    assert "✅" in saved and "27/11/2026" in saved
    assert await rows(world.services, "SELECT topics, follow_up_on FROM visits") == [
        ("install,level2", "2026-11-27")]
    listed = await world.say("z1", "/fix")
    assert "1. 1." not in listed  # an entry's own number is not numbered again
    await world.say("z1", "1")
    await world.say("z1", "huy muc nay")
    await world.say("z1", "1")          # "Đúng, hủy bản ghi"
    assert await rows(world.services, "SELECT COUNT(*) FROM visits WHERE voided_at IS NULL") \
        == [(0,)]


async def test_new_household_by_typing(world: ZaloWorld) -> None:
    await joined(world, "z1")
    await world.say("z1", "/activate")
    offer = await world.say("z1", "Hoàng Văn Tư")
    assert "1. Thêm hộ mới: Hoàng Văn Tư" in offer
    await world.say("z1", "them ho moi")
    await world.say("z1", "1")          # "Đúng, thêm …"
    await world.say("z1", "1")          # the first common case
    await world.say("z1", "luu")
    assert await rows(world.services, "SELECT h.head_name FROM activations a JOIN households h"
                                      " ON h.id = a.household_id") == [("Hoàng Văn Tư",)]


async def test_officer_flows_by_typing(world: ZaloWorld) -> None:
    await joined(world, "o1", Role.OFFICER, None)
    listed = await world.say("o1", "/office")
    assert "1. " in listed
    await world.say("o1", "1")
    saved = await world.say("o1", "45/60")
    assert "✅" in saved
    await world.say("o1", "/huy")
    await world.say("o1", "/invite")
    await world.say("o1", "tinh nguyen vien")  # "Tình nguyện viên thôn/xóm" by its first words
    code = await world.say("o1", "kim tan")     # the hamlet's name without diacritics
    assert "/start" in code
    assert await rows(world.services, "SELECT role, hamlet_code FROM invites"
                                      " WHERE created_by IS NOT NULL") == [("volunteer", "X01")]


async def test_polling_handles_each_message_once_and_ignores_echoes(world: ZaloWorld) -> None:
    await joined(world, "z1")
    event = world.stub.text_event("z1", "/me")
    before = len(world.stub.bot_sent("z1"))
    await world.event(event)
    once = len(world.stub.bot_sent("z1"))
    world.stub.push(event)                                         # delivered again
    world.stub.push(world.stub.text_event("z1", "/me", is_bot=True))  # the bot's own echo
    await world.event(world.stub.text_event("z1", "/help"))
    after = world.stub.bot_sent("z1")
    assert once > before
    assert len(after) == once + 1 and "/activate" in str(after[-1].params["text"])
    assert await rows(world.services, "SELECT COUNT(*) FROM processed_updates"
                                      f" WHERE update_id = '{event['message']['message_id']}'"
                      ) == [(1,)]


async def test_stickers_voice_and_captions(world: ZaloWorld) -> None:
    await joined(world, "z1")
    await world.say("z1", "/activate")
    before = len(world.stub.bot_sent("z1"))
    await world.event(world.stub.media_event("z1", "sticker", sticker="abc", url="https://x/s"))
    kind = str(world.stub.bot_sent("z1")[before].params["text"])
    assert kind.startswith("Mình chỉ đọc được tin nhắn chữ")
    await world.event(world.stub.media_event("z1", "voice", voice_url="https://x/v.aac"))
    await world.event(world.stub.media_event("z1", "unsupported"))
    before = len(world.stub.bot_sent("z1"))
    await world.event(world.stub.media_event("z1", "image", photo_url="https://x/p.jpg",
                                             caption="lan"))
    assert "Nguyễn Thị Lan" in str(world.stub.bot_sent("z1")[before].params["text"])


async def test_long_texts_are_split_at_line_breaks() -> None:
    text = "\n\n".join(f"Đoạn {n}: " + "chữ " * 120 for n in range(8))
    parts = split_text(text, 1950)
    assert len(parts) > 1 and all(len(p) <= 1950 for p in parts)
    assert all(p.startswith("Đoạn") for p in parts)
    assert " ".join(parts).split() == text.split()  # nothing lost or cut mid-word


async def test_digest_with_chart_and_workbook_links(world: ZaloWorld, clock: FakeClock) -> None:
    await joined(world, "o1", Role.OFFICER, None)
    await world.say("o1", "/digest")
    sent = world.stub.bot_sent("o1")
    photos = [c for c in sent if c.method == "sendPhoto"]
    assert len(photos) == 1 and photos[0].params["photo"].startswith(world.url + "/files/")
    link = next(word for c in sent for word in str(c.params.get("text")).split()
                if word.endswith(".xlsx"))
    async with aiohttp.ClientSession() as http:
        async with http.get(photos[0].params["photo"]) as chart:
            assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
        async with http.get(link) as workbook:
            book = openpyxl.load_workbook(io.BytesIO(await workbook.read()))
            assert "Xóm Kim Tân" in [c.value for r in book.worksheets[1].iter_rows() for c in r]
        async with http.get(link.replace(link.split("/")[-2], "guessed-token")) as guessed:
            assert guessed.status == 404
        clock.advance(days=8)
        async with http.get(link) as expired:
            assert expired.status == 404
        async with http.get(world.url + "/healthz") as health:
            assert health.status == 200


async def test_digest_without_public_url_says_how_to_get_files(services: Services) -> None:
    async with ZaloStub() as stub:
        world = await ZaloWorld.start(stub, services, public=False)
        try:
            await joined(world, "o1", Role.OFFICER, None)
            said = await world.say("o1", "/digest")
        finally:
            await world.stop()
    assert "Báo cáo tuần" in said and "địa chỉ web" in said
    assert not [c for c in stub.bot_sent("o1") if c.method == "sendPhoto"]


async def test_busy_and_failing_server_is_retried(world: ZaloWorld) -> None:
    world.stub.fail_next("sendMessage", 429, "Quota exceeded")
    world.stub.fail_next("sendMessage", 500)
    said = await world.say("z1", "/help")
    assert "VNeID" in said


async def test_refused_token_stops_only_this_channel(services: Services,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    async with ZaloStub() as stub:
        channel = ZaloBotChannel(ZaloBotApi("123:wrong", stub.base_url), None,  # type: ignore[arg-type]
                                 None, poll_timeout=1)  # type: ignore[arg-type]
        with caplog.at_level(logging.ERROR):
            await channel.poll_forever()  # returns instead of looping
        await channel.close()
    assert channel.stopped_reason and "401" in channel.stopped_reason
    assert "ZALO_BOT_TOKEN" in caplog.text


async def test_webhook_checks_secret_and_refuses_bad_bodies(services: Services) -> None:
    async with ZaloStub() as stub:
        world = await ZaloWorld.start(stub, services, poll=False)
        url = world.url + "/zalo/bot"
        good = {"X-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
        try:
            async with aiohttp.ClientSession() as http:
                event = stub.text_event("w1", "/help")
                statuses = []
                for headers, body in (
                        ({"Content-Type": "application/json"}, event),
                        ({**good, "X-Bot-Api-Secret-Token": "wrong-secret"}, event)):
                    async with http.post(url, json=body, headers=headers) as response:
                        statuses.append(response.status)
                async with http.post(url, data=b"", headers=good) as response:
                    statuses.append(response.status)          # the probe: 200
                async with http.post(url, data=b"{not json", headers=good) as response:
                    statuses.append(response.status)
                async with http.post(url, data=b"a=1", headers={
                        **good, "Content-Type": "application/x-www-form-urlencoded"}) as response:
                    statuses.append(response.status)
                async with http.post(url, data=b"{" + b" " * 200_000 + b"}",
                                     headers=good) as response:
                    statuses.append(response.status)
                assert statuses == [403, 403, 200, 400, 415, 413]
                async with http.post(url, json=event, headers=good) as response:      # flat
                    assert response.status == 200
                # Answered after the commit: the event is recorded before the 200.
                assert len(await world.services.db.fetchall(
                    "SELECT update_id FROM processed_updates WHERE channel = 'zalo_bot'")) == 1
                async with http.post(url, json=event, headers=good) as response:      # again
                    assert response.status == 200
                wrapped = {"ok": True, "result": stub.text_event("w2", "/help")}
                async with http.post(url, json=wrapped, headers=good) as response:
                    assert response.status == 200
            await world.bot.tasks.idle()
            assert len(stub.bot_sent("w1")) == 1 and len(stub.bot_sent("w2")) == 1
        finally:
            await world.stop()

