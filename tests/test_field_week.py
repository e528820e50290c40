"""A volunteer's and an officer's first week, over Telegram: what they typed, what the bot did."""

from __future__ import annotations

from bot.demo import _MEN, _WOMEN, demo_households
from bot.models import Role
from bot.services import Services
from tests.botapi_stub import BotApiStub
from tests.conftest import small_settings
from tests.telegram_world import TelegramWorld
from tests.test_telegram import USER, joined

CITIZEN = 9100


def text_of(sent: list) -> str:
    return "\n".join(s.text or "" for s in sent)


async def test_an_invite_sent_by_a_member_is_not_used_up(world: TelegramWorld,
                                                         services: Services) -> None:
    await joined(world, services)
    spare = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
    sent = await world.say(USER, f"/start {spare.code}")
    assert "đã là thành viên" in text_of(sent) and "Xóm Kim Tân" in text_of(sent)
    assert "vẫn dùng được" in text_of(sent)
    sent = await world.say(5002, f"/start {spare.code}")
    assert "Chào mừng" in text_of(sent)
    newcomer = await services.repos.member("telegram", "5002")
    assert newcomer is not None and newcomer.hamlet_code == "X01"


async def test_id_number_warning_calls_a_volunteer_ban(world: TelegramWorld,
                                                       services: Services) -> None:
    await joined(world, services)
    sent = await world.say(USER, "cccd 079203004567")
    assert "⚠️" in text_of(sent) and "Anh/Chị" not in text_of(sent)
    assert "bạn" in text_of(sent)
    sent = await world.say(CITIZEN, "cccd 079203004567")
    assert "Anh/Chị" in text_of(sent)


async def test_a_forwarded_question_names_the_hamlet(world: TelegramWorld, stub: BotApiStub,
                                                     services: Services) -> None:
    await joined(world, services)
    await world.say(CITIZEN, "xe rac may gio qua xom minh")
    await world.tap(CITIZEN, "Xóm Kim Tân")
    forwarded = stub.last_message(USER).text or ""
    assert "(Xóm Kim Tân)" in forwarded and "X01" not in forwarded


async def test_an_elderly_citizens_short_pieces_are_all_answered(world: TelegramWorld) -> None:
    pieces = ["cho", "bac", "hoi", "cai", "vneid", "tren", "dien", "thoai", "the", "nao",
              "a", "bac", "cam", "on", "nhieu"]
    for piece in pieces:
        sent = await world.say(CITIZEN, piece)
        assert sent and "nhanh" not in text_of(sent), piece
    for _ in range(30):
        sent = await world.say(CITIZEN, "alo")
    assert "nhanh" in text_of(sent)


def test_demo_names_never_pair_thi_with_a_mans_name() -> None:
    rows = demo_households(small_settings())
    men = set(_MEN[1]) - set(_WOMEN[1])
    assert rows and all(not (r["head_name"].split()[1] == "Thị"
                             and r["head_name"].split()[2] in men) for r in rows)
    assert any(r["head_name"].split()[1] == "Thị" for r in rows)
