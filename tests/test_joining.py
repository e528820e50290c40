"""Joining with one-time invite codes: right, wrong, expired, reused, and guessing slowed down."""

from __future__ import annotations

from bot.channels.console import ConsoleChannel
from bot.models import Role
from bot.services import Services
from tests.conftest import FakeClock
from tests.test_flows import labels, texts


async def test_invite_joins_with_role_and_hamlet(services: Services,
                                                 console: ConsoleChannel) -> None:
    invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="x02")
    replies = await console.send("u1", f"/start {invite.code.lower()}", name="Minh")
    member = await services.repos.members.member("console", "u1")
    assert member is not None and member.role is Role.VOLUNTEER and member.hamlet_code == "X02"
    assert "Xóm Yên Giang" in texts(replies)
    assert any(r.commands for r in replies)  # the role's command menu is set
    assert "Ghi kích hoạt" in labels(replies)


async def test_reused_invite_is_refused(services: Services, console: ConsoleChannel) -> None:
    invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
    await console.send("u1", f"/start {invite.code}")
    replies = await console.send("u2", f"/start {invite.code}")
    assert await services.repos.members.member("console", "u2") is None
    assert "đã được dùng" in texts(replies)


async def test_expired_invite_is_refused(services: Services, console: ConsoleChannel,
                                         clock: FakeClock) -> None:
    invite = await services.members.create_invite(Role.OFFICER)
    clock.advance(days=7, seconds=1)
    replies = await console.send("u1", f"/start {invite.code}")
    assert await services.repos.members.member("console", "u1") is None
    assert "hết hạn" in texts(replies)


async def test_repeated_wrong_codes_are_slowed_down(services: Services,
                                                    console: ConsoleChannel,
                                                    clock: FakeClock) -> None:
    good = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
    for attempt in range(5):
        replies = await console.send("u1", f"/start WRONG{attempt}CODE")
        assert "không đúng" in texts(replies)
    replies = await console.send("u1", f"/start {good.code}")
    assert await services.repos.members.member("console", "u1") is None
    assert "15" in texts(replies)  # minutes to wait
    clock.advance(minutes=16)
    await console.send("u1", f"/start {good.code}")
    assert await services.repos.members.member("console", "u1") is not None


async def test_stranger_is_treated_as_citizen(services: Services,
                                              console: ConsoleChannel) -> None:
    replies = await console.send("c1", "xin chào")
    assert "Anh/Chị" in texts(replies)
    replies = await console.send("c1", "/activate")
    assert await services.repos.count("activations") == 0
    assert "Anh/Chị" in texts(replies)


async def test_officer_creates_invite_in_chat(services: Services,
                                              console: ConsoleChannel) -> None:
    officer = await services.members.create_invite(Role.OFFICER)
    await console.send("o1", f"/start {officer.code}", name="Cán bộ Hà")
    await console.send("o1", "/invite")
    await console.tap("o1", "thôn")  # a hamlet volunteer
    replies = await console.tap("o1", "Xóm Yên Giang")
    code = next(line.split(":")[-1].strip() for line in texts(replies).splitlines()
                if "/start" not in line and ":" in line)
    await console.send("v9", f"/start {code}", name="Tú")
    member = await services.repos.members.member("console", "v9")
    assert member is not None and member.hamlet_code == "X02"


async def test_volunteer_cannot_invite(services: Services, console: ConsoleChannel) -> None:
    invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
    await console.send("v1", f"/start {invite.code}")
    replies = await console.send("v1", "/invite")
    assert "cán bộ" in texts(replies)
    assert await services.repos.count("invites") == 1
