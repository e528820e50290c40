"""Issue 7's leaks, each reproduced first: forged buttons, forged ratings, ID numbers typed in
every way, digits that are not plain digits, and guessing invites from many accounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.console import ConsoleChannel
from bot.models import Role
from bot.services import Services
from bot.textnorm import contains_citizen_id, parse_int, redact_citizen_ids
from tests.conftest import FakeClock, dump_database, join
from tests.test_flows import texts

ID_FORMATS = ["001203004567", "001 203 004 567", "001  203  004  567", "001/203/004/567",
              "001,203,004,567", "001_203_004_567", "001203 - 004567", "0012 0300 4567",
              "001.203.004.567", "0\u200b01\u200b203\u200b004\u200b567", "0012-0300-4567",
              "\uff10\uff10\uff11\uff12\uff10\uff13\uff10\uff10\uff14\uff15\uff16\uff17",
              "001\u00a0203\u00a0004\u00a0567", "cccd001203004567"]
NOT_IDS = ["000.00.21.H40-250918-0012", "0912345678", "0912 345 678", "+84 912 345 678",
           "12/05/2024", "12/05/2024 - 15/06/2024", "2024-05-12", "0912345678, 0987654321",
           "hồ sơ 000.00.21.H40-250918-0012 đến đâu rồi", "1234567890123"]


@pytest.mark.parametrize("number", ID_FORMATS)
def test_id_numbers_are_found_however_they_are_typed(number: str) -> None:
    text = f"số căn cước của tôi là {number} nhé"
    assert contains_citizen_id(text)
    redacted, found = redact_citizen_ids(text)
    assert found and redacted == "số căn cước của tôi là [***] nhé".replace(
        "[***]", "cccd[***]" if number.startswith("cccd") else "[***]")


@pytest.mark.parametrize("text", NOT_IDS)
def test_codes_phones_and_dates_are_not_id_numbers(text: str) -> None:
    assert not contains_citizen_id(text)
    assert redact_citizen_ids(text) == (text, False)


@pytest.mark.parametrize(("typed", "value"), [("3", 3), ("²", 2), ("①", 1), ("３", 3), ("٣", 3),
                                              ("-2", -2), ("", None), ("1½", None),
                                              ("12345678901", None)])
def test_numbers_are_read_from_any_digits(typed: str, value: int | None) -> None:
    assert parse_int(typed) == value


@pytest.mark.parametrize("typed", ["²", "①", "² ①", "⁴", "½"])
async def test_odd_digits_at_the_topics_step_get_a_next_step(
        services: Services, console: ConsoleChannel, typed: str) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/visit")
    await console.send("v1", "X01-001")
    replies = await console.send("v1", typed)
    assert "không lưu được" not in texts(replies).lower() and "xảy ra lỗi" not in texts(replies)
    assert replies and replies[-1].options  # the topics are asked again (or ticked)


@pytest.mark.parametrize("number", ID_FORMATS)
async def test_id_numbers_are_never_stored_or_echoed(
        services: Services, console: ConsoleChannel, number: str) -> None:
    await join(services, console, "v1", name=f"Hoa {number}")
    await console.send("v1", "/visit")
    replies = await console.send("v1", f"Nguyễn Văn {number}")  # as a new household's name
    replies += await console.send("c1", f"tôi cần hỏi về căn cước {number} bị khoá")
    digits = "".join(ch for ch in number if ch.isdigit())
    shown = texts(replies)
    assert "⚠️" in shown and number not in shown and "004567" not in shown
    dump = dump_database(Path(services.db.path))
    assert not contains_citizen_id(dump) and digits[-6:] not in dump


async def test_a_volunteer_cannot_open_another_hamlets_question(
        services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "v1", hamlet="X01")
    await join(services, console, "v2", hamlet="X02")
    await console.send("c1", "nhà tôi bị ngập nước thì báo ai")
    replies = await console.tap("c1", "Xóm Yên Giang")
    question = next(r for r in replies if r.to == ("console", "v2"))
    value = question.options[0][0].value
    # Forged: v1 sends the button data of v2's question.
    replies = await console.send("v1", option=value)
    assert "ngập nước" not in texts(replies)
    assert "ngập nước" not in texts(await console.send("v1", "/questions"))
    # Even past the button check, the service refuses before showing anything.
    v1 = await services.repos.members.member("console", "v1")
    assert v1 is not None
    assert await services.helpdesk.question_for(v1, int(value.rsplit(":", 1)[1])) is None
    replies = await console.send("v1", "Gọi trưởng xóm nhé")
    assert not any(r.to for r in replies)
    assert (await services.db.fetchone(
        "SELECT status FROM citizen_questions"))["status"] == "open"  # type: ignore[index]


async def test_forged_ratings_do_not_count(services: Services, console: ConsoleChannel) -> None:
    await console.send("c1", "quên mật khẩu vneid")
    for n in range(5):
        await console.send("c1", option=f"cit:rate:kb:forged-{n}:0")
        await console.send("c1", option=f"cit:rate:q:{n + 1}:0")
    assert await services.repos.db.fetchall("SELECT * FROM ratings") == []
    # Past the button check too: the service accepts only help this citizen was given.
    from bot.helpdesk.service import RatingResult
    result = await services.helpdesk.rate(channel="console", external_id="c1",
                                          subject="q:1", helpful=False)
    assert result is RatingResult.INVALID


async def test_a_citizen_rates_the_same_answer_once(services: Services,
                                                    console: ConsoleChannel) -> None:
    answer = await console.send("c1", "quên mật khẩu vneid")
    helpful, not_helpful = (o.value for o in answer[0].options[0])
    await console.send("c1", option=not_helpful)
    replies = await console.send("c1", option=helpful)
    assert "đã đánh giá" in texts(replies)
    rows = await services.repos.db.fetchall("SELECT helpful FROM ratings")
    assert [r[0] for r in rows] == [0]


async def test_invite_guessing_is_limited_across_accounts(
        services: Services, console: ConsoleChannel, clock: FakeClock) -> None:
    limit = services.settings.bot.max_invite_failures_global
    for n in range(limit):
        await console.send(f"g{n}", "/start WRONGCODE1")  # one try per account
    invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
    replies = await console.send("fresh", f"/start {invite.code}")
    assert await services.repos.members.member("console", "fresh") is None
    assert "phút" in texts(replies)
    clock.advance(minutes=services.settings.bot.invite_failure_window_minutes + 1)
    await console.send("fresh", f"/start {invite.code}")
    assert await services.repos.members.member("console", "fresh") is not None
