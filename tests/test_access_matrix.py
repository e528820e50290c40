"""Access matrix: every command and every button value, sent by six kinds of people.

Nobody reads or changes what is not theirs, whatever the button data says: a value that was
not offered to the sender (another person's button, or a forged one) changes nothing and shows
nothing of another hamlet, commune or citizen.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_router, open_services
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.models import Role
from bot.services import Services
from tests.conftest import FakeClock, join
from tests.test_flows import texts

# What each area holds that others must never see.
SECRETS = {"X01": ["Nguyễn Thị Lan", "nước ngập ở Kim Tân"],
           "X02": ["Phạm Thị Hoa", "đèn đường Yên Giang hỏng"],
           "Y01": ["Đỗ Văn Quý", "cầu tre Yên Cư gãy"]}
ACTORS = {  # who: (role, hamlet, commune) and the areas they may see
    "citizen": (None, None, {"own-question"}),
    "vol_A": (Role.VOLUNTEER, "X01", {"X01"}),
    "vol_B": (Role.VOLUNTEER, "X02", {"X02"}),
    "off_X": (Role.OFFICER, "HD", {"X01", "X02"}),
    "off_Y": (Role.OFFICER, "YC", {"Y01"}),
    "province": (Role.PROVINCE, None, set()),
}
BUSINESS_TABLES = ("households", "activations", "visits", "citizen_questions", "ratings",
                   "office_figures", "members", "invites", "petitions", "outbox")
COMMANDS = ["/start", "/menu", "/help", "/activate", "/visit", "/fix", "/undo", "/me",
            "/questions", "/digest", "/office", "/invite", "/lang", "/cancel", "/phananh",
            "/tracuu", "/xoadulieu", "/erase", "/announce", "/thongbao", "/link", "/kenh",
            "/nosuchcommand", "/start WRONGCODE1"]


def two_communes() -> Settings:
    return Settings.model_validate({"communes": [
        {"code": "HD", "name": "Xã Hưng Đông", "hamlets": [
            {"code": "X01", "name": "Xóm Kim Tân", "households": 100, "eligible_citizens": 250},
            {"code": "X02", "name": "Xóm Yên Giang", "households": 80,
             "eligible_citizens": 200}]},
        {"code": "YC", "name": "Xã Yên Cư", "hamlets": [
            {"code": "Y01", "name": "Thôn Yên Cư", "households": 60,
             "eligible_citizens": 150}]}]})


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Services,
                                                                         ConsoleChannel]]:
    async with open_services(two_communes(), clock=clock,
                             database_path=str(tmp_path / "m.sqlite3")) as services:
        await services.households.import_rows([
            {"code": "X01-001", "hamlet": "X01", "head_name": SECRETS["X01"][0],
             "members": "4"},
            {"code": "X02-001", "hamlet": "X02", "head_name": SECRETS["X02"][0],
             "members": "3"},
            {"code": "Y01-001", "hamlet": "Y01", "head_name": SECRETS["Y01"][0],
             "members": "5"}])
        console = ConsoleChannel(build_router(services))
        for user, (role, place, _areas) in ACTORS.items():
            if role is Role.VOLUNTEER:
                await join(services, console, user, hamlet=place)
            elif role is not None:
                invite = await services.members.create_invite(
                    role, commune_code=place if role is Role.OFFICER else None)
                assert (await console.send(user, f"/start {invite.code}"))[0].options
        yield services, console


async def _offer_everything(services: Services, console: ConsoleChannel) -> set[str]:
    """Walk every flow once so that real button values of every kind exist, for everyone."""
    offered: set[str] = set()

    async def send(user: str, text: str = "", option: str = "") -> None:
        replies = await console.send(user, text, option=option)
        offered.update(v for r in replies for v in r.option_values())

    for user, hamlet in (("vol_A", "X01"), ("vol_B", "X02")):
        for flow in ("/activate", "/visit"):
            await send(user, flow)
            await send(user, f"{hamlet}-001")
            await send(user, "/cancel")
        await send(user, "/activate")
        await send(user, f"{hamlet}-001")
        await send(user, "1 1 c")
        await console.tap(user, "Lưu")
        await send(user, "/fix")
    for citizen, commune, hamlet_name, question in (
            ("citizen", "Hưng Đông", "Xóm Kim Tân", SECRETS["X01"][1]),
            ("citizen2", "Yên Cư", "Thôn Yên Cư", SECRETS["Y01"][1]),
            ("citizen3", "Hưng Đông", "Xóm Yên Giang", SECRETS["X02"][1])):
        await send(citizen, f"cho tôi gặp cán bộ: {question}")
        await console.tap(citizen, commune)
        replies = await console.tap(citizen, hamlet_name)
        offered.update(v for r in replies for v in r.option_values())
    for user in ("off_X", "off_Y"):
        for command in ("/questions", "/office", "/invite"):
            await send(user, command)
            await send(user, "/cancel")
    await send("citizen", "quên mật khẩu vneid")
    return offered


async def _snapshot(services: Services) -> str:
    digest = hashlib.sha256()
    for table in BUSINESS_TABLES:
        for row in await services.db.fetchall(f"SELECT * FROM {table} ORDER BY rowid"):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _forbidden(user: str) -> list[str]:
    areas = ACTORS[user][2]
    return [text for area, items in SECRETS.items() if area not in areas for text in items]


async def test_nobody_reads_or_changes_what_is_not_theirs(
        world: tuple[Services, ConsoleChannel]) -> None:
    services, console = world
    offered = await _offer_everything(services, console)
    forged = {f"{flow}:{step}:{n}" for n in range(0, 12)
              for flow, step in (("ans", "pick"), ("act", "household"), ("vis", "household"),
                                 ("fix", "pick"), ("pa", "open"), ("off", "pick"))}
    forged |= {f"fix:pick:a{n}" for n in range(1, 6)} | {f"fix:pick:v{n}" for n in range(1, 6)}
    forged |= {f"cit:rate:q:{n}:0" for n in range(1, 6)} | {"cit:rate:kb:nope:0",
                                                             "inv:hamlet:Y01", "inv:role:officer",
                                                             "off:pick:on_time", "del:confirm:yes"}
    values = sorted(offered | forged)
    cells = refused = 0
    for user in ACTORS:
        for value in [*values, *COMMANDS]:
            is_command = value.startswith("/")
            mine = not is_command and await services.repos.conversations.was_offered("console", user, value)
            if mine and value.startswith("del:"):
                continue  # erasing oneself is covered in test_privacy
            before = await _snapshot(services)
            replies = await (console.send(user, value) if is_command
                             else console.send(user, option=value))
            shown = texts(replies) + " ".join(o.label for r in replies for row in r.options
                                              for o in row)
            cells += 1
            assert replies, f"{user} got no answer to {value!r}"
            for secret in _forbidden(user):
                assert secret not in shown, f"{user} saw {secret!r} through {value!r}"
            for reply in replies:
                assert reply.to is None or reply.to[1] in ACTORS or reply.to[1].startswith(
                    "citizen"), reply
            if not mine and not value.startswith("nav:") and not is_command:
                refused += 1
                assert await _snapshot(services) == before, f"{user} changed data via {value!r}"
            await console.send(user, "/cancel")
    print(f"access matrix: {cells} cells, {refused} forged or foreign values refused")
    assert cells >= 6 * (len(values) + len(COMMANDS)) - 20 and refused > 300
