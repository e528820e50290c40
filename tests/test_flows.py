"""Volunteer flows through the console channel: the same router every channel uses."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.channels.console import ConsoleChannel
from bot.messages import Reply
from bot.services import Services
from tests.conftest import FakeClock, dump_database, join


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def labels(replies: list[Reply]) -> list[str]:
    return [o.label for r in replies for row in r.options for o in row]


async def rows(services: Services, sql: str) -> list[aiosqlite.Row]:
    return await services.db.fetchall(sql)


async def test_activation_in_four_steps_after_opening(services: Services,
                                                      console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.tap("v1", "Ghi kích hoạt")                      # 1
    replies = await console.send("v1", "lan nguyen thi")          # 2 (no diacritics)
    assert "Nguyễn Thị Lan" in texts(replies)
    await console.tap("v1", "1 kích hoạt")                         # 3 (a common case)
    replies = await console.tap("v1", "Lưu")                       # 4
    assert "✅" in texts(replies)
    saved = await rows(services, "SELECT * FROM activations")
    assert len(saved) == 1
    assert (saved[0]["level2_registered"], saved[0]["activated"],
            saved[0]["household_capable"]) == (0, 1, 1)
    # The answer carries the hamlet's updated progress: 1 of 100 households, 81 activated.
    assert "1/100" in texts(replies) and "81/100" in texts(replies)


async def test_custom_counts_step_by_step_and_words(services: Services,
                                                    console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/activate")
    await console.send("v1", "X01-004")
    await console.tap("v1", "Số khác")
    await console.send("v1", "hai")                 # numbers as words
    await console.tap("v1", "1")
    await console.send("v1", "co")                  # "có" typed without diacritics
    await console.tap("v1", "Lưu")
    saved = await rows(services, "SELECT level2_registered, activated, household_capable "
                                 "FROM activations")
    assert tuple(saved[0]) == (2, 1, 1)


async def test_impossible_numbers_are_refused_with_reason(services: Services,
                                                          console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/activate")
    await console.send("v1", "X01-003")             # a household of 2 members
    negative = await console.send("v1", "-1 1 c")
    too_many = await console.send("v1", "3 1 c")
    absurd = await console.send("v1", "999999 0 k")
    assert "âm" in texts(negative)
    assert "2" in texts(too_many) and "X01-003" in texts(too_many)
    assert texts(absurd)
    assert await rows(services, "SELECT * FROM activations") == []
    # The flow is still at the counts step: a valid answer goes through.
    await console.send("v1", "2 2 c")
    await console.tap("v1", "Lưu")
    assert len(await rows(services, "SELECT * FROM activations")) == 1
    # Cumulative: the household's two members are now all recorded.
    await console.send("v1", "/activate")
    await console.send("v1", "X01-003")
    replies = await console.send("v1", "1 0 k")
    assert "X01-003" in texts(replies)
    assert len(await rows(services, "SELECT * FROM activations")) == 1


async def test_visit_with_several_topics_and_follow_up(services: Services,
                                                       console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.tap("v1", "Ghi lượt hướng dẫn")
    await console.send("v1", "Tran Van Lam")
    await console.tap("v1", "Cài VNeID")
    await console.send("v1", "4 7")
    await console.tap("v1", "Hẹn quay lại")
    past = await console.send("v1", "01/01/2026")
    assert "sau hôm nay" in texts(past)
    replies = await console.send("v1", "25/11")
    assert "✅" in texts(replies) and "25/11/2026" in texts(replies)
    saved = await rows(services, "SELECT topics, outcome, follow_up_on FROM visits")
    assert tuple(saved[0]) == ("install,portal,scams", "follow_up", "2026-11-25")


async def test_visit_needs_a_topic(services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/visit")
    await console.send("v1", "X01-001")
    replies = await console.tap("v1", "Xong")
    assert "ít nhất một" in texts(replies)
    assert await rows(services, "SELECT * FROM visits") == []


async def test_unknown_household_added_on_the_spot_with_duplicate_flag(
        services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/visit")
    replies = await console.send("v1", "hoang van tu")
    assert "Không" in texts(replies) or "không" in texts(replies)
    await console.tap("v1", "Hoang Van Tu")
    assert await rows(services, "SELECT * FROM households WHERE source = 'chat'") == []
    await console.tap("v1", "Đúng, thêm")
    added = await rows(services, "SELECT code, head_name, source FROM households "
                                 "WHERE source = 'chat'")
    assert tuple(added[0]) == ("X01-M001", "Hoang Van Tu", "chat")
    await console.send("v1", "1")
    await console.tap("v1", "Xong")  # a visit uses it now: it stays
    # Adding a name already on the list is flagged as a likely duplicate.
    await console.send("v1", "/visit")
    await console.send("v1", "Nguyen Thi Lam")  # close to no one: new
    await console.send("v1", "/cancel")
    await console.send("v1", "/visit")
    replies = await console.send("v1", "Nguyễn Thị Lann")
    await console.tap("v1", "Nguyễn Thị Lann")
    flagged = console.last["v1"]
    assert any("Nguyễn Thị Lan · X01-001" in label for label in labels(flagged))
    assert len(await rows(services, "SELECT * FROM households WHERE source = 'chat'")) == 1


async def test_volunteer_sees_only_own_hamlet(services: Services,
                                              console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/visit")
    replies = await console.send("v1", "Phạm Thị Hoa")          # lives in X02
    assert "X02-001" not in "".join(labels(replies)) + texts(replies)


async def test_correct_and_undo_own_entry_with_audit(services: Services,
                                                     console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/activate")
    await console.send("v1", "X01-001")
    await console.send("v1", "1 1 c")
    await console.tap("v1", "Lưu")
    await console.send("v1", "/fix")
    await console.tap("v1", "Nguyễn Thị Lan")
    await console.tap("v1", "Sửa")
    await console.send("v1", "2 2 c")
    await console.tap("v1", "Lưu")
    live = await rows(services, "SELECT level2_registered FROM activations "
                                "WHERE voided_at IS NULL")
    assert [r[0] for r in live] == [2]
    await console.send("v1", "/fix")
    await console.tap("v1", "Nguyễn Thị Lan")
    await console.tap("v1", "Hủy")
    assert len(await rows(services, "SELECT * FROM activations WHERE voided_at IS NULL")) == 1
    await console.tap("v1", "Đúng, hủy")
    assert await rows(services, "SELECT * FROM activations WHERE voided_at IS NULL") == []
    actions = [r["action"] for r in await rows(
        services, "SELECT action FROM audit_log WHERE entity = 'activation' ORDER BY id")]
    assert actions == ["create", "correct", "undo"]


async def test_me_shows_week_and_hamlet_targets(services: Services, console: ConsoleChannel,
                                                clock: FakeClock) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/visit")
    await console.send("v1", "X01-002")
    await console.send("v1", "1")
    await console.tap("v1", "Xong")
    replies = await console.send("v1", "/me")
    text = texts(replies)
    assert "1 lượt hướng dẫn" in text and "Xóm Kim Tân" in text and "85%" in text
    clock.advance(days=7)  # next week: the week's count starts again
    assert "0 lượt hướng dẫn" in texts(await console.send("v1", "/me"))


async def test_cancel_at_any_step_saves_nothing(services: Services,
                                                console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/activate")
    await console.send("v1", "X01-001")
    await console.send("v1", "1 1 c")
    replies = await console.send("v1", "/cancel")
    assert "Chưa lưu" in texts(replies) or "chưa lưu" in texts(replies)
    assert await rows(services, "SELECT * FROM activations") == []
    assert await rows(services, "SELECT * FROM conversations") == []


async def test_any_input_at_any_step_gets_a_reprompt(services: Services,
                                                     console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    steps = [("/activate", None), ("X01-001", None), ("Số khác", "tap"), ("2", None),
             ("1", "tap"), ("Có", "tap")]
    junk = ["???", "", "🙂", "/nonsense"]
    for text, how in steps:
        for bad in junk:
            replies = await console.send("v1", bad, other=bad == "")
            assert texts(replies).strip(), f"no answer to {bad!r}"
        replies = await (console.tap("v1", text) if how else console.send("v1", text))
        assert texts(replies)
    await console.tap("v1", "Lưu")
    assert len(await rows(services, "SELECT * FROM activations")) == 1


async def test_stale_button_is_explained(services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/activate")
    await console.send("v1", "X01-001")
    old = console.last["v1"]
    await console.send("v1", "1 1 c")                      # now at confirm
    preset = next(o.value for r in old for row in r.options for o in row
                  if o.value.startswith("act:counts:"))
    replies = await console.send("v1", option=preset)
    assert "câu hỏi trước" in texts(replies)
    assert await rows(services, "SELECT * FROM activations") == []


async def test_citizen_id_is_neither_echoed_nor_stored(services: Services,
                                                       console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/visit")
    replies = await console.send("v1", "001 203 004 567")
    assert "⚠️" in texts(replies)
    assert "001 203 004 567" not in texts(replies) and "001203004567" not in texts(replies)
    dump = dump_database(Path(services.db.path))
    assert "004567" not in dump and "004 567" not in dump


async def test_language_switch_and_english_flow(services: Services,
                                                console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    replies = await console.send("v1", "/lang")
    await console.tap("v1", "English")
    replies = await console.send("v1", "/activate")
    assert "Type part of the household head's name" in texts(replies)
    await console.send("v1", "X01-001")
    await console.send("v1", "1 1 yes")
    replies = await console.tap("v1", "Save")
    assert "Saved" in texts(replies) and "1/100 (1%)" in texts(replies)


async def test_typed_menu_words_without_diacritics(services: Services,
                                                   console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    replies = await console.send("v1", "kich hoat")
    assert "tên chủ hộ" in texts(replies)
    await console.send("v1", "/cancel")
    replies = await console.send("v1", "hỏi về huyện")  # "huyện" is not "hủy"
    assert "Bạn muốn làm gì?" in texts(replies)
