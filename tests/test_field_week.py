"""A volunteer's and an officer's first week, over Telegram: what they typed, what the bot did."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo import _MEN, _WOMEN, demo_households, python_command, run_demo
from bot.models import Role
from bot.services import Services
from tests.botapi_stub import BotApiStub
from tests.conftest import small_settings
from tests.telegram_world import TelegramWorld
from tests.test_telegram import USER, joined

CITIZEN = 9100


def text_of(sent: list) -> str:
    return "\n".join(s.text or "" for s in sent)


def buttons_of(sent: list) -> list[str]:
    return [b["text"] for s in sent for row in (s.reply_markup or {}).get("inline_keyboard", [])
            for b in row]


async def household_names(services: Services) -> list[str]:
    rows = await services.db.fetchall("SELECT head_name FROM households ORDER BY id")
    return [r[0] for r in rows]


async def add_households(services: Services, *names: str, first: int = 100) -> None:
    rows = [{"code": f"X01-{i}", "hamlet": "X01", "head_name": name, "members": "3"}
            for i, name in enumerate(names, start=first)]
    report = await services.households.import_rows(rows)
    assert report.added == len(names)


async def log_activation(world: TelegramWorld, code: str, counts: str) -> list:
    await world.say(USER, "/activate")
    await world.say(USER, code)
    await world.say(USER, counts)
    return await world.tap(USER, "Lưu")


async def test_an_invite_sent_by_a_member_is_not_used_up(world: TelegramWorld,
                                                         services: Services) -> None:
    await joined(world, services)
    spare = await services.members.create_invite(Role.VOLUNTEER, hamlet_code="X01")
    sent = await world.say(USER, f"/start {spare.code}")
    assert "đã là thành viên" in text_of(sent) and "Xóm Kim Tân" in text_of(sent)
    assert "vẫn dùng được" in text_of(sent)
    sent = await world.say(5002, f"/start {spare.code}")
    assert "Chào mừng" in text_of(sent)
    newcomer = await services.repos.members.member("telegram", "5002")
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


async def test_a_new_household_needs_a_yes_and_cancel_takes_it_back(
        world: TelegramWorld, services: Services) -> None:
    await joined(world, services)
    before = await household_names(services)
    await world.say(USER, "/activate")
    sent = await world.say(USER, "Hoàng Văn Tư")
    assert "Thêm hộ mới: Hoàng Văn Tư" in buttons_of(sent)
    sent = await world.tap(USER, "Thêm hộ mới")
    assert text_of(sent) == "Thêm hộ mới vào Xóm Kim Tân, chủ hộ là “Hoàng Văn Tư”?"
    assert await household_names(services) == before  # nothing added by offering it
    sent = await world.tap(USER, "Đúng, thêm")
    assert "✅ Đã thêm hộ mới: Hoàng Văn Tư (X01-M001)." in text_of(sent)
    assert await household_names(services) == [*before, "Hoàng Văn Tư"]
    sent = await world.say(USER, "/cancel")
    assert sent[0].text == ("Đã dừng. Chưa lưu gì: hộ “Hoàng Văn Tư” vừa thêm đã được bỏ khỏi "
                            "danh sách.\nBạn muốn làm gì?")
    assert await household_names(services) == before
    assert await services.repos.count("activations") == 0
    audit = await services.db.fetchall("SELECT action FROM audit_log WHERE entity = 'household' "
                                       "ORDER BY id")
    assert [r[0] for r in audit][-2:] == ["create", "delete"]


async def test_names_that_are_numbers_or_commands_are_never_added(
        world: TelegramWorld, services: Services) -> None:
    await joined(world, services)
    before = await household_names(services)
    await world.say(USER, "/activate")
    sent = await world.say(USER, "12")
    assert not any(b.startswith("Thêm hộ mới") for b in buttons_of(sent))
    assert "Không thể thêm thành hộ mới: tên phải có chữ cái." in text_of(sent)
    for typed, reason in (("X01-099", "tên người không có chữ số"),
                          ("kích hoạt", "“kích hoạt” giống một lệnh, không phải tên người")):
        sent = await world.say(USER, typed)
        assert not any(b.startswith("Thêm hộ mới") for b in buttons_of(sent)), typed
        assert f"Không thể thêm thành hộ mới: {reason}." in text_of(sent), typed
    for stop_word in ("Dừng lại", "thoi", "/huy"):
        await world.say(USER, "/activate")
        sent = await world.say(USER, stop_word)
        assert sent[0].text.startswith("Đã dừng. Chưa lưu gì cả."), stop_word
        assert await services.repos.conversations.conversation("telegram", str(USER)) is None
    await world.say(USER, "/visit")
    await world.say(USER, "X01-001")
    for stop_word in ("thôi", "huy", "hủy"):
        await world.say(USER, "/visit")
        await world.say(USER, "X01-001")
        sent = await world.say(USER, stop_word)
        assert sent[0].text.startswith("Đã dừng."), stop_word
    assert await household_names(services) == before
    assert await services.repos.count("visits") == 0
    sent = await world.say(USER, "/help")
    assert "Gõ “thôi”, “hủy” hoặc “dừng lại” cũng dừng được." in text_of(sent)


async def test_likely_duplicates_are_shown_before_adding(world: TelegramWorld,
                                                         services: Services) -> None:
    longs = ["Nguyễn Văn Long", "Trần Đức Long", "Lê Văn Long", "Phạm Hữu Long", "Bùi Văn Long"]
    await add_households(services, *longs)
    await joined(world, services)
    await world.say(USER, "/visit")
    sent = await world.say(USER, "Long")
    assert sum("Long ·" in b for b in buttons_of(sent)) == 5
    sent = await world.tap(USER, "Thêm hộ mới: Long")
    text = text_of(sent)
    assert "tên gần giống" in text and "đầy đủ họ tên" in text
    shown = buttons_of(sent)
    assert sorted(b.split(" · ")[0] for b in shown if " · " in b) == sorted(longs)
    assert shown.index("Đúng, thêm “Long”") > max(i for i, b in enumerate(shown) if " · " in b)
    sent = await world.tap(USER, "Trần Đức Long")  # it was one of them after all
    assert "Trần Đức Long (X01-101)" in text_of(sent)
    assert len(await household_names(services)) == 5 + 5


async def test_typed_diacritics_pick_the_right_person(world: TelegramWorld,
                                                      services: Services) -> None:
    await add_households(services, "Lê Thị Hoa", "Nguyen Van Tam")
    await joined(world, services)
    for typed, other in (("Lê Thị Hòa", "Lê Thị Hoa"), ("Nguyễn Văn Tám", "Nguyen Van Tam")):
        await world.say(USER, "/activate")
        sent = await world.say(USER, typed)
        # Not picked on its own: shown to look at, next to adding the person typed.
        assert any(b.startswith(other + " · ") for b in buttons_of(sent)), typed
        assert f"Thêm hộ mới: {typed}" in buttons_of(sent)
        assert "kích hoạt" not in " ".join(buttons_of(sent))
    await add_households(services, "Lê Thị Hòa", first=200)
    await world.say(USER, "/activate")
    sent = await world.say(USER, "le thi hoa")
    assert sorted(b.split(" · ")[0] for b in buttons_of(sent) if " · " in b) == [
        "Lê Thị Hoa", "Lê Thị Hòa"]
    sent = await world.say(USER, "Lê Thị Hoà")  # the same name, tone mark in the old place
    assert "Lê Thị Hòa (X01-200)" in text_of(sent) and "1 kích hoạt" in " ".join(buttons_of(sent))


async def test_stopping_office_entry_says_what_was_saved(world: TelegramWorld,
                                                         services: Services) -> None:
    await joined(world, services, user=7001, role=Role.OFFICER, hamlet=None)
    await world.say(7001, "/office")
    await world.tap(7001, "trực tuyến")
    sent = await world.say(7001, "45/60")
    receipt = sent[0]
    assert (receipt.text or "").startswith("✅")
    await world.tap(7001, "đúng hạn")
    assert world.stub.message(7001, receipt.message_id)["text"] == receipt.text
    sent = await world.say(7001, "/cancel")
    assert "Chưa lưu" not in (sent[0].text or "")
    assert (sent[0].text or "").startswith("Đã xong. Lần này đã lưu:") and "45/60" in sent[0].text
    figures = await services.db.fetchall("SELECT done, total FROM office_figures")
    assert [tuple(r) for r in figures] == [(45, 60)]


async def test_stopping_a_correction_keeps_the_earlier_entry(world: TelegramWorld,
                                                              services: Services) -> None:
    await joined(world, services)
    await log_activation(world, "X01-001", "1 1 c")
    await world.say(USER, "/fix")
    await world.tap(USER, "Nguyễn Thị Lan")
    await world.tap(USER, "Sửa")
    sent = await world.say(USER, "/cancel")
    assert "Bản ghi trước của bạn vẫn giữ nguyên." in (sent[0].text or "")
    rows = await services.db.fetchall("SELECT level2_registered FROM activations "
                                      "WHERE voided_at IS NULL")
    assert [r[0] for r in rows] == [1]


async def test_save_receipts_stay_when_the_next_button_is_tapped(world: TelegramWorld,
                                                                 stub: BotApiStub,
                                                                 services: Services) -> None:
    await joined(world, services)
    receipt = (await log_activation(world, "X01-001", "1 1 c"))[-1]
    assert (receipt.text or "").startswith("✅ Đã lưu: Nguyễn Thị Lan.")
    sent = await world.tap(USER, "Ghi kích hoạt")
    assert [s.method for s in sent] == ["sendMessage"]
    assert stub.message(USER, receipt.message_id)["text"] == receipt.text
    await world.say(USER, "X01-002")
    await world.say(USER, "0 1 c")
    second = (await world.tap(USER, "Lưu"))[-1]
    await world.tap(USER, "Tiến độ")
    screen = world.screen(USER)
    assert "✅ Đã lưu: Nguyễn Thị Lan." in screen and "✅ Đã lưu: Trần Văn Lâm." in screen
    assert stub.message(USER, second.message_id)["text"] == second.text


async def test_me_counts_level_two_and_lists_tomorrows_follow_ups(world: TelegramWorld,
                                                                 services: Services) -> None:
    await joined(world, services)
    await log_activation(world, "X01-001", "2 1 c")
    await world.say(USER, "/visit")
    await world.say(USER, "X01-002")
    await world.say(USER, "1 3")
    await world.tap(USER, "Hẹn quay lại")
    await world.tap(USER, "Ngày mai")
    sent = await world.say(USER, "/me")
    text = text_of(sent)
    assert "• 2 người đăng ký mức 2" in text and "• 1 tài khoản đã kích hoạt" in text
    assert "Các hộ bạn đã hẹn quay lại:\n• ngày mai (" in text
    assert "Trần Văn Lâm (X01-002)" in text


async def test_fix_shows_the_numbers_and_asks_before_removing(world: TelegramWorld,
                                                             services: Services) -> None:
    await joined(world, services)
    await log_activation(world, "X01-001", "2 1 c")
    await log_activation(world, "X01-002", "0 1 k")
    sent = await world.say(USER, "/fix")
    text = text_of(sent)
    assert "1. Kích hoạt · Trần Văn Lâm (X01-002) · mức 2: 0, kích hoạt: 1, chưa dùng được" in text
    assert "2. Kích hoạt · Nguyễn Thị Lan (X01-001) · mức 2: 2, kích hoạt: 1, đã dùng được" in text
    sent = await world.say(USER, "2")  # its number, typed
    assert "Nguyễn Thị Lan (X01-001) · mức 2: 2" in text_of(sent)
    sent = await world.tap(USER, "Hủy mục này")
    assert text_of(sent).startswith("Hủy bản ghi này?")
    live = "SELECT COUNT(*) FROM activations WHERE voided_at IS NULL"
    assert (await services.db.fetchall(live))[0][0] == 2
    sent = await world.tap(USER, "Không, giữ lại")
    assert text_of(sent) == "Không có gì thay đổi, bản ghi vẫn giữ nguyên."
    assert (await services.db.fetchall(live))[0][0] == 2
    await world.say(USER, "/fix")
    await world.tap(USER, "Nguyễn Thị Lan")
    await world.tap(USER, "Hủy mục này")
    sent = await world.tap(USER, "Đúng, hủy")
    assert text_of(sent).startswith("✅ Đã hủy: Kích hoạt · Nguyễn Thị Lan (X01-001)")
    assert (await services.db.fetchall(live))[0][0] == 1


async def test_follow_up_days_typed_the_vietnamese_way(world: TelegramWorld,
                                                       services: Services) -> None:
    await joined(world, services)  # the clock says Friday 20/11/2026
    said = {"thứ 6": "2026-11-27", "t6": "2026-11-27", "thu 6": "2026-11-27",
            "mai": "2026-11-21", "ngày mai": "2026-11-21", "tuần sau": "2026-11-27",
            "thứ hai tuần sau": "2026-11-23", "15/12": "2026-12-15", "15-12": "2026-12-15"}
    for typed, day in said.items():
        await world.say(USER, "/visit")
        await world.say(USER, "X01-002")
        await world.say(USER, "1")
        sent = await world.tap(USER, "Hẹn quay lại")
        assert "ngày/tháng (ví dụ 23/11)" in text_of(sent) and "dd/mm" not in text_of(sent)
        sent = await world.say(USER, typed)
        shown = "/".join(reversed(day.split("-")))
        assert f"Hẹn quay lại ngày {shown}." in text_of(sent), typed
        saved = await services.db.fetchall("SELECT follow_up_on FROM visits ORDER BY id DESC")
        assert saved[0][0] == day, typed
    await world.say(USER, "/visit")
    await world.say(USER, "X01-003")
    await world.say(USER, "2")
    await world.tap(USER, "Hẹn quay lại")
    sent = await world.say(USER, "15/11")
    assert "Ngày 15/11/2026 đã qua rồi." in text_of(sent) and "60" not in text_of(sent)
    await world.say(USER, "/visit")
    await world.say(USER, "X01-003")
    await world.say(USER, "2")
    sent = await world.say(USER, "hẹn thứ 5")  # the day typed instead of tapping
    assert "Hẹn quay lại ngày 26/11/2026." in text_of(sent)
    assert await services.repos.count("visits") == len(said) + 1


async def test_quick_entry_hint_matches_the_buttons_and_short_answers(
        world: TelegramWorld, services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/activate")
    sent = await world.say(USER, "X01-001")
    assert "(có/chưa). Ví dụ: 2 1 có" in text_of(sent) and "c/k" not in text_of(sent)
    sent = await world.tap(USER, "Số khác")
    await world.tap(USER, "1")
    sent = await world.tap(USER, "1")
    assert {"Có", "Chưa"} <= set(buttons_of(sent))
    await world.say(USER, "/cancel")
    for answer, shown in (("c", "có"), ("k", "chưa"), ("co", "có"), ("chua", "chưa"),
                          ("roi", "có"), ("dc", "có"), ("có", "có"), ("chưa", "chưa")):
        await world.say(USER, "/activate")
        await world.say(USER, "X01-001")
        sent = await world.say(USER, f"1 1 {answer}")
        assert f"Hộ dùng được VNeID và Cổng Dịch vụ công: {shown}" in text_of(sent), answer
        await world.say(USER, "/cancel")
    assert await services.repos.count("activations") == 0


async def test_a_sentence_gives_the_counts(world: TelegramWorld, services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/activate")
    await world.say(USER, "X01-001")
    sent = await world.say(USER, "2 nguoi dang ky, 1 nguoi kich hoat, dung dc roi")
    text = text_of(sent)
    assert "Số người mới kích hoạt: 1" in text and "dùng được VNeID và Cổng Dịch vụ công: có" in text
    await world.tap(USER, "Lưu")
    rows = await services.db.fetchall("SELECT level2_registered, activated, household_capable "
                                      "FROM activations")
    assert [tuple(r) for r in rows] == [(2, 1, 1)]


async def test_household_and_count_kept_from_a_sentence(world: TelegramWorld,
                                                        services: Services) -> None:
    await joined(world, services)
    sent = await world.say(USER, "Hộ bà Lan … kích hoạt được 2 người")
    text = text_of(sent)
    assert text.startswith("Ghi nhận kích hoạt VNeID. Mình hiểu là: 2 kích hoạt.")
    assert sorted(b.split(" · ")[0] for b in buttons_of(sent) if " · " in b) == [
        "Nguyễn Thị Lan", "Nguyễn Văn Lành"]  # "Lan" typed without diacritics: both
    sent = await world.tap(USER, "Nguyễn Thị Lan")
    assert "Mình hiểu là: 2 kích hoạt." in text_of(sent) and "mức 2" in text_of(sent)
    await world.tap(USER, "0")
    sent = await world.tap(USER, "Có")
    assert "Số người mới kích hoạt: 2" in text_of(sent)
    await world.tap(USER, "Lưu")
    rows = await services.db.fetchall("SELECT h.code, level2_registered, activated FROM "
                                      "activations a JOIN households h ON h.id = a.household_id")
    assert [tuple(r) for r in rows] == [("X01-001", 0, 2)]


async def test_huy_finds_a_household_named_huy_before_it_means_stop(
        world: TelegramWorld, services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/activate")
    sent = await world.say(USER, "huy")  # nobody is called Huy here: stop
    assert sent[0].text.startswith("Đã dừng.")
    await add_households(services, "Nguyễn Văn Huy")
    await world.say(USER, "/activate")
    sent = await world.say(USER, "huy")
    assert "Nguyễn Văn Huy · X01-100" in buttons_of(sent)
    assert "Nếu bạn muốn dừng, chọn “Dừng lại”." in text_of(sent)
    sent = await world.say(USER, "Hủy")  # typed with diacritics it can only mean stop
    assert sent[0].text.startswith("Đã dừng.")


async def test_a_second_tap_on_save_keeps_the_receipt(world: TelegramWorld, stub: BotApiStub,
                                                      services: Services) -> None:
    await joined(world, services)
    await world.say(USER, "/activate")
    await world.say(USER, "X01-001")
    confirm = (await world.say(USER, "1 1 c"))[-1]
    save = next(d for _t, d in stub.buttons(confirm.message) if d and d.endswith(":save"))
    await world.tap(USER, "Lưu")
    receipt = stub.message(USER, confirm.message_id)["text"]
    assert receipt.startswith("✅ Đã lưu: Nguyễn Thị Lan.")
    seen = len(stub.sent_to(USER))
    await world._handled(1, lambda: stub.push_callback(  # noqa: SLF001  (a quick double tap)
        USER, save, message_id=confirm.message_id))
    assert [s.method for s in stub.sent_to(USER)[seen:]] == ["sendMessage"]
    assert stub.message(USER, confirm.message_id)["text"] == receipt
    assert await services.repos.count("activations") == 1


async def test_demo_suggests_a_command_that_reads_its_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "elsewhere.sqlite3"
    await run_demo(small_settings(), database=str(other))
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert f"BOT_DATABASE={other} {python_command()} -m bot digest --out out/" in last
