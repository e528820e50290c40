"""End to end over HTTP: python-telegram-bot against the Bot API stand-in, real SQLite file."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import aiohttp
import pytest

from bot.channels.telegram import TelegramChannel, Webhook, split_text
from bot.channels.telegram_limiter import TelegramLimiter
from bot.config import Secrets, Settings
from bot.models import Role
from bot.runtime import Runtime
from bot.services import Services
from tests.botapi_stub import BotApiStub
from tests.conftest import FakeClock, dump_database
from tests.telegram_world import TelegramWorld

USER = 5001


async def joined(world: TelegramWorld, services: Services, user: int = USER,
                 role: Role = Role.VOLUNTEER, hamlet: str | None = "X01") -> None:
    invite = await services.members.create_invite(role, hamlet_code=hamlet)
    await world.say(user, f"/start {invite.code}")


async def test_default_command_menus_in_both_languages(world: TelegramWorld,
                                                       stub: BotApiStub) -> None:
    vi = [c["command"] for c in stub.commands({"type": "default"})]
    en = stub.commands({"type": "default"}, "en")
    assert vi == ["start", "help", "phananh", "tracuu", "lang"]
    assert en and en[1]["description"] == "What this bot does"


async def test_activation_over_telegram_in_four_taps(world: TelegramWorld, stub: BotApiStub,
                                                     services: Services) -> None:
    await joined(world, services)
    chat_menu = [c["command"] for c in stub.commands({"type": "chat", "chat_id": USER})]
    assert "activate" in chat_menu and "invite" not in chat_menu
    await world.tap(USER, "Ghi kích hoạt")
    await world.say(USER, "nguyen thi lan")
    await world.tap(USER, "1 kích hoạt")
    sent = await world.tap(USER, "Lưu")
    assert sent[-1].method == "editMessageText"  # the confirm message became the receipt
    assert "✅" in (sent[-1].text or "")
    assert await services.repos.count("activations") == 1
    # Every button press was answered, so no spinner is left on the phone.
    assert len(stub.calls_to("answerCallbackQuery")) == 3


async def test_visit_over_telegram_with_typed_topics(world: TelegramWorld,
                                                     services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/visit")
    await world.say(USER, "X01-002")
    await world.tap(USER, "Cài VNeID")
    sent = await world.tap(USER, "lừa đảo")
    assert "☑ 1." in str(sent[-1].reply_markup) and "☑ 7." in str(sent[-1].reply_markup)
    await world.tap(USER, "Xong")
    rows = await services.db.fetchall("SELECT topics, outcome FROM visits")
    assert tuple(rows[0]) == ("install,scams", "done")


async def test_sticker_and_photo_get_a_reprompt(world: TelegramWorld, stub: BotApiStub,
                                                services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/activate")
    for push in (stub.push_sticker, stub.push_photo):
        seen = len(stub.sent_to(USER))
        await world._handled(1, lambda p=push: p(USER))  # noqa: SLF001
        answer = stub.sent_to(USER)[seen:]
        assert answer and "chữ" in (answer[-1].text or "")
    state = await services.repos.conversations.conversation("telegram", str(USER))
    assert state is not None and state.step == "household"


async def test_duplicate_delivery_is_applied_once(world: TelegramWorld, stub: BotApiStub,
                                                  services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/activate")
    await world.say(USER, "X01-001")
    await world.say(USER, "1 1 c")
    confirm = stub.last_message(USER)
    data = next(d for t, d in stub.buttons(confirm.message) if d and d.endswith(":save"))
    update = {"update_id": 900, "callback_query": {
        "id": "cb-900", "from": {"id": USER, "is_bot": False, "first_name": "Lan"},
        "message": confirm.message, "chat_instance": "1", "data": data}}
    await world.push(update)
    await world.push(update)
    assert await services.repos.count("activations") == 1


async def test_flood_control_and_server_errors_are_retried_but_a_timed_out_send_is_not(
        world: TelegramWorld, stub: BotApiStub, services: Services) -> None:
    await joined(world, services)
    stub.fail_next("sendMessage", status=429, retry_after=1)
    sent = await world.say(USER, "/help")
    assert sent and "/activate" in (sent[-1].text or "")
    stub.fail_next("sendMessage", status=500, times=2)
    sent = await world.say(USER, "/me")
    assert sent and "Xóm Kim Tân" in (sent[-1].text or "")
    stub.delay_next("sendMessage", 3.0)  # longer than the client's 2 s timeout
    calls = len(stub.calls_to("sendMessage"))
    before = len(stub.sent_to(USER))
    await world.say(USER, "/help")
    # The timed-out send reached Telegram (it answers after 3 s): sending it again would show
    # the help twice, so the bot does not.
    await stub.wait_for(lambda s: len(s.sent_to(USER)) > before, timeout=5)
    assert len(stub.calls_to("sendMessage")) - calls == 1
    assert ["/activate" in (m.text or "") for m in stub.sent_to(USER)[before:]] == [True]


async def test_record_saved_once_even_when_reply_fails(world: TelegramWorld, stub: BotApiStub,
                                                       services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/activate")
    await world.say(USER, "X01-001")
    await world.say(USER, "1 1 c")
    stub.fail_next("editMessageText", status=500, times=10)
    stub.fail_next("sendMessage", status=500, times=10)
    await world.tap(USER, "Lưu")
    assert await services.repos.count("activations") == 1


async def test_restart_mid_flow_over_telegram(stub: BotApiStub, settings: Settings,
                                              services: Services) -> None:
    first = await TelegramWorld.start(stub, settings, services)
    await joined(first, services)
    await first.say(USER, "/activate")
    await first.say(USER, "X01-001")
    await first.stop()
    second = await TelegramWorld.start(stub, settings, services)
    try:
        sent = await second.say(USER, "0 1 c")
        assert "Kiểm tra" in (sent[-1].text or "") or "kiểm tra" in (sent[-1].text or "")
        await second.tap(USER, "Lưu")
    finally:
        await second.stop()
    assert await services.repos.count("activations") == 1


async def test_deep_link_invite_from_officer(world: TelegramWorld, stub: BotApiStub,
                                             services: Services) -> None:
    await joined(world, services, user=7001, role=Role.OFFICER, hamlet=None)
    menu = [c["command"] for c in stub.commands({"type": "chat", "chat_id": 7001})]
    assert "invite" in menu
    await world.say(7001, "/invite")
    await world.tap(7001, "thôn")
    sent = await world.tap(7001, "Xóm Yên Giang")
    text = sent[-1].text or ""
    username = stub.bot_user["username"]
    assert f"https://t.me/{username}?start=" in text
    code = text.split("?start=")[1].split()[0]
    await world.say(7002, f"/start {code}")
    member = await services.repos.members.member("telegram", "7002")
    assert member is not None and member.hamlet_code == "X02"
    sent = await world.say(7003, f"/start {code}")
    assert "đã được dùng" in (sent[-1].text or "")


async def test_unknown_person_gets_polite_citizen_answer(world: TelegramWorld,
                                                         services: Services) -> None:
    sent = await world.say(6001, "cho hỏi cách cài vneid")
    assert "Anh/Chị" in (sent[-1].text or "")
    assert await services.repos.count("members") == 0


def test_long_texts_are_split_on_lines() -> None:
    text = "\n".join(f"Dòng {i}: " + "x" * 90 for i in range(120))
    parts = split_text(text)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert split_text("y" * 9000) == ["y" * 4096, "y" * 4096, "y" * 808]


async def test_correct_undo_me_help_cancel_and_lang_over_telegram(
        world: TelegramWorld, stub: BotApiStub, services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/activate")
    await world.say(USER, "X01-001")
    await world.say(USER, "1 1 c")
    await world.tap(USER, "Lưu")
    await world.say(USER, "/fix")
    await world.tap(USER, "Nguyễn Thị Lan")
    await world.tap(USER, "Sửa")
    await world.say(USER, "2 2 c")
    await world.tap(USER, "Lưu")
    rows = await services.db.fetchall("SELECT level2_registered FROM activations "
                                      "WHERE voided_at IS NULL")
    assert [r[0] for r in rows] == [2]
    await world.say(USER, "/fix")
    await world.tap(USER, "Nguyễn Thị Lan")
    await world.tap(USER, "Hủy")
    sent = await world.tap(USER, "Đúng, hủy")
    assert "✅" in (sent[-1].text or "")
    assert await services.db.fetchall("SELECT * FROM activations WHERE voided_at IS NULL") == []
    sent = await world.say(USER, "/me")
    assert "Xóm Kim Tân" in (sent[-1].text or "") and "85%" in (sent[-1].text or "")
    sent = await world.say(USER, "/help")
    assert "/activate" in (sent[-1].text or "")
    await world.say(USER, "/visit")
    sent = await world.say(USER, "/cancel")
    assert "Chưa lưu" in (sent[0].text or "") or "chưa lưu" in (sent[0].text or "").lower()
    await world.say(USER, "/lang")
    await world.tap(USER, "English")
    english_menu = stub.commands({"type": "chat", "chat_id": USER})
    assert english_menu[1]["description"] == "Log a VNeID activation"
    sent = await world.say(USER, "/activate")
    assert "household head" in (sent[-1].text or "")


async def test_bad_input_at_every_step_over_telegram(world: TelegramWorld, stub: BotApiStub,
                                                     services: Services, db_path: Path) -> None:
    await joined(world, services)
    await world.say(USER, "/activate")
    for junk in ("???", "🙂"):
        sent = await world.say(USER, junk)
        assert sent and sent[-1].text
    await world.say(USER, "X01-003")  # 2 members
    for bad, reason in (("-1 1 c", "âm"), ("3 1 c", "X01-003"), ("999999 0 k", "chỉ có 2")):
        sent = await world.say(USER, bad)
        assert reason in (sent[-1].text or ""), sent[-1].text
    sent = await world.say(USER, "cccd 079 203 004 567")
    texts = " ".join(s.text or "" for s in sent)
    assert "⚠️" in texts and "004 567" not in texts and "004567" not in texts
    stale = next(d for t, d in stub.buttons(stub.last_message(USER).message)
                 if d and d.startswith("act:counts:1-"))
    await world.say(USER, "2 2 c")
    seen = len(stub.sent_to(USER))
    await world._handled(1, lambda: stub.push_callback(  # noqa: SLF001
        USER, stale, message_id=stub.last_message(USER).message_id))
    assert "câu hỏi trước" in (stub.sent_to(USER)[seen:][-1].text or "")
    await world.tap(USER, "Lưu")
    assert await services.repos.count("activations") == 1
    assert "004567" not in dump_database(db_path)


async def test_wrong_and_expired_invites_over_telegram(world: TelegramWorld,
                                                       services: Services,
                                                       clock: FakeClock) -> None:
    sent = await world.say(USER, "/start NOTACODE12")
    assert "không đúng" in (sent[-1].text or "")
    invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
    clock.advance(days=8)
    sent = await world.say(USER, f"/start {invite.code}")
    assert "hết hạn" in (sent[-1].text or "")
    assert await services.repos.members.member("telegram", str(USER)) is None


async def test_new_household_on_the_spot_over_telegram(world: TelegramWorld,
                                                       services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/visit")
    await world.say(USER, "Hoàng Văn Tư")
    await world.tap(USER, "Hoàng Văn Tư")
    sent = await world.tap(USER, "Đúng, thêm")
    assert "☐ 1." in str(sent[-1].reply_markup)
    await world.say(USER, "1")
    await world.tap(USER, "Xong")
    rows = await services.db.fetchall("SELECT h.code FROM visits v JOIN households h "
                                      "ON h.id = v.household_id")
    assert [r[0] for r in rows] == ["X01-M001"]


async def test_webhook_mode_checks_the_secret(stub: BotApiStub, settings: Settings,
                                              services: Services) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = Webhook(f"https://bot.example.vn/tg/{port}", "127.0.0.1", port, "s3cret-token")
    channel = TelegramChannel(settings, Secrets(telegram_token=stub.token,
                                                telegram_base_url=stub.base_url),
                              runtime=Runtime(services))
    await channel.start(webhook=hook)
    try:
        assert stub.webhook and stub.webhook["url"] == hook.url
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": 0, "chat": {"id": 6100, "type": "private"},
            "from": {"id": 6100, "is_bot": False, "first_name": "Hà"}, "text": "/start"}}
        local = f"http://127.0.0.1:{port}/tg/{port}"
        async with aiohttp.ClientSession() as http:
            async with http.post(local, json=update) as refused:
                assert refused.status == 403
            async with http.post(local, json=update, headers={
                    "X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}) as accepted:
                assert accepted.status == 200
        await stub.wait_for(lambda s: any("Anh/Chị" in (m.text or "") for m in s.sent_to(6100)))
    finally:
        await channel.stop()


async def test_the_flood_limiter_can_be_turned_off_for_a_server_without_limits(
        stub: BotApiStub, settings: Settings, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", stub.token)
    monkeypatch.setenv("TELEGRAM_BASE_URL", stub.base_url)
    assert isinstance(TelegramChannel(settings, Secrets.from_env(), runtime=Runtime(services))
                      .app.bot.rate_limiter, TelegramLimiter)  # on unless told otherwise
    monkeypatch.setenv("TELEGRAM_LIMITER", "off")
    channel = TelegramChannel(settings, Secrets.from_env(), runtime=Runtime(services))
    await channel.app.initialize()
    try:
        started = time.perf_counter()
        for n in range(3):  # one chat: a second apart with the limiter
            await channel.app.bot.send_message(6200, f"tin {n}")
        assert time.perf_counter() - started < 0.9
        assert [m.text for m in stub.sent_to(6200)] == ["tin 0", "tin 1", "tin 2"]
    finally:
        await channel.app.shutdown()
