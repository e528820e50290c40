"""Citizens' feedback and petitions over Telegram: send, follow, and the commune handles them."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.config import Settings
from bot.models import Role
from bot.services import Services
from bot.services.feedback import add_working_days
from storage.engine import Database, open_database
from storage.feedback import FeedbackRepository
from tests.botapi_stub import BotApiStub, SentMessage
from tests.conftest import ON_BOTH_ENGINES, FakeClock, dump_database, small_settings
from tests.telegram_world import TelegramWorld, labels, texts

OFFICER, VOLUNTEER, OTHER_VOLUNTEER, OTHER_OFFICER, PROVINCE = 7001, 7002, 7003, 7004, 7005
CITIZEN, NEIGHBOUR = 9001, 9002
FLOOD = "Đường vào xóm Kim Tân ngập sâu từ hôm qua, trẻ con không đi học được"


@pytest.fixture
def settings() -> Settings:
    """Hưng Đông (the conftest commune) and a second commune, Tân Lập."""
    base = small_settings().model_dump()
    base["communes"].append({
        "code": "TL", "name": "Xã Tân Lập",
        "hamlets": [{"code": "T01", "name": "Thôn Tân Phú", "households": 50,
                     "eligible_citizens": 120}]})
    return Settings.model_validate(base)


@pytest.fixture
async def world(settings: Settings, services: Services) -> AsyncIterator[TelegramWorld]:
    async with BotApiStub() as stub:
        started = await TelegramWorld.start(stub, settings, services)
        for user, role, hamlet, commune in (
                (OFFICER, Role.OFFICER, None, "HD"), (VOLUNTEER, Role.VOLUNTEER, "X01", None),
                (OTHER_VOLUNTEER, Role.VOLUNTEER, "X02", None),
                (OTHER_OFFICER, Role.OFFICER, None, "TL"),
                (PROVINCE, Role.PROVINCE, None, None)):
            invite = await services.members.create_invite(role, hamlet_code=hamlet,
                                                           commune_code=commune)
            await started.say(user, f"/start {invite.code}")
        yield started
        await started.stop()


async def send_flood_petition(world: TelegramWorld) -> list[SentMessage]:
    """The citizen's petition about the flooded road, with a photo, from the menu."""
    await world.say(CITIZEN, "/start")
    sent = await world.tap(CITIZEN, "Gửi phản ánh, kiến nghị")
    assert "việc gì, ở đâu" in texts(sent)
    await world.say(CITIZEN, FLOOD)
    await world.tap(CITIZEN, "Xã Hưng Đông")
    sent = await world.tap(CITIZEN, "Xóm Kim Tân")
    assert "Anh/Chị xem lại phản ánh" in texts(sent) and "Kèm 1 ảnh" not in texts(sent)
    sent = await world.send_photo(CITIZEN, caption="ảnh chụp sáng nay")
    assert "Kèm 1 ảnh" in texts(sent) and "ảnh chụp sáng nay" in texts(sent)
    return await world.tap(CITIZEN, "Gửi")


async def test_petition_with_photo_gets_a_reference_and_reaches_the_officer(
        world: TelegramWorld, services: Services, db_path: Path) -> None:
    sent = await send_flood_petition(world)
    # Friday 20/11/2026 + 10 working days, skipping weekends and 24/11 (Ngày Văn hóa Việt Nam,
    # a public holiday from 2026) = Monday 07/12/2026.
    assert texts(sent).startswith("✅ Xã đã nhận phản ánh của Anh/Chị, số phiếu PA-2026-000001.")
    assert "chậm nhất ngày 07/12/2026" in texts(sent)
    stored = await services.feedback.own("telegram", str(CITIZEN), "PA-2026-000001")
    assert stored is not None and stored.hamlet_code == "X01"
    assert stored.text == f"{FLOOD}\nảnh chụp sáng nay"
    # Only the platform's file id is kept: the one of the largest size the citizen sent.
    largest = max((f for f in world.stub.files.values() if f.kind == "photo"),
                  key=lambda f: f.file_size)
    assert stored.photo_file_id == largest.file_id
    # The commune's officer gets the text and the photo (sent by file id); nobody else does.
    to_officer = world.stub.sent_to(OFFICER)
    assert "Phản ánh mới PA-2026-000001 của người dân (Xóm Kim Tân), hạn xử lý 07/12/2026" \
        in texts(to_officer)
    photo_call = next(c for c in world.stub.calls_to("sendPhoto")
                      if c.params["chat_id"] == OFFICER)
    assert photo_call.params["photo"] == stored.photo_file_id
    for bystander in (VOLUNTEER, OTHER_OFFICER, PROVINCE):
        assert "PA-2026" not in texts(world.stub.sent_to(bystander))
    audit = await services.db.fetchall("SELECT action, entity_id, member_id FROM audit_log"
                                       " WHERE entity = 'petition'")
    assert [tuple(r) for r in audit] == [("submit", "PA-2026-000001", None)]
    # The citizen asks how it stands, typed without diacritics and in short form.
    sent = await world.say(CITIZEN, "tra cuu pa-2026-1")
    assert "Phản ánh số PA-2026-000001, gửi ngày 20/11/2026" in texts(sent)
    assert "Tình trạng: đã tiếp nhận, đang chờ xử lý." in texts(sent)
    sent = await world.say(CITIZEN, "/tracuu")
    assert labels(sent)[0] == "PA-2026-000001 · đã tiếp nhận, đang chờ xử lý"
    assert "PNG" not in dump_database(db_path)


async def test_petition_typed_in_one_message_without_photo(world: TelegramWorld,
                                                           services: Services) -> None:
    sent = await world.say(CITIZEN, "Tôi xin phản ánh đèn đường xóm Yên Giang hỏng cả tuần nay")
    assert texts(sent) == "Anh/Chị sống ở xã/phường nào?"
    await world.tap(CITIZEN, "Xã Hưng Đông")
    sent = await world.say(CITIZEN, "yen giang")
    assert "Nơi: Xóm Yên Giang, Xã Hưng Đông." in texts(sent)
    sent = await world.say(CITIZEN, "tối qua còn bị mất điện")  # a second fragment is added
    assert "hỏng cả tuần nay\ntối qua còn bị mất điện" in texts(sent)
    sent = await world.say(CITIZEN, "gui")
    assert "số phiếu PA-2026-000001" in texts(sent)
    stored = await services.feedback.own("telegram", str(CITIZEN), "PA-2026-000001")
    assert stored is not None and stored.photo_file_id is None
    assert stored.hamlet_code == "X02"
    # The second petition asks no place again and gets the next number.
    await world.say(CITIZEN, "góp ý")
    sent = await world.say(CITIZEN, "Xin xã cho thêm thùng rác ở đầu xóm")
    assert "Nơi: Xóm Yên Giang" in texts(sent)
    sent = await world.tap(CITIZEN, "Gửi")
    assert "PA-2026-000002" in texts(sent)
    sent = await world.tap(CITIZEN, "Gửi")  # a second tap on the old button sends nothing
    assert "việc gì, ở đâu" in texts(sent)
    row = await services.db.fetchone("SELECT COUNT(*) AS n FROM petitions")
    assert row is not None and row["n"] == 2


async def test_nobody_else_sees_a_petition_even_with_its_reference(
        world: TelegramWorld, services: Services) -> None:
    await send_flood_petition(world)
    refused = "Tôi không tìm thấy phản ánh số PA-2026-000001 trong các phản ánh gửi từ tài khoản"
    sent = await world.say(NEIGHBOUR, "tra cứu PA-2026-000001")
    assert refused in texts(sent) and "ngập" not in texts(sent)
    # Forged button data from the neighbour's own chat: the same refusal, nothing leaked.
    last = world.stub.sent_to(NEIGHBOUR)[-1].message_id
    for data in ("pa:show:PA-2026-000001", "pad:pick:1", "pad:close:1"):
        before = len(world.stub.sent_to(NEIGHBOUR))
        await world._handled(1, lambda d=data: world.stub.push_callback(NEIGHBOUR, d,
                                                                        message_id=last))
        answer = texts(world.stub.sent_to(NEIGHBOUR)[before:])
        assert "ngập" not in answer and "Kim Tân" not in answer
    # The officer of another commune, and a volunteer of another hamlet, cannot open it.
    sent = await world.say(OTHER_OFFICER, "/phananh")
    assert "Không có phản ánh nào đang chờ" in texts(sent)
    sent = await world.say(OTHER_OFFICER, "PA-2026-000001")
    assert "Bạn không xem được phản ánh này." in texts(sent) and "ngập" not in texts(sent)
    sent = await world.say(OTHER_VOLUNTEER, "/tracuu PA-2026-000001")
    assert "Bạn không xem được phản ánh này." in texts(sent)
    petition = await services.feedback.own("telegram", str(CITIZEN), "PA-2026-000001")
    assert petition is not None and petition.status == "open"


async def test_officer_assigns_volunteer_answers_officer_closes(
        world: TelegramWorld, services: Services) -> None:
    await send_flood_petition(world)
    sent = await world.say(OFFICER, "/phananh")
    assert labels(sent)[0] == "PA-2026-000001 · Xóm Kim Tân · hạn 07/12/2026"
    sent = await world.tap(OFFICER, "PA-2026-000001")
    assert FLOOD in texts(sent) and "Tôi nhận xử lý" in labels(sent)
    sent = await world.tap(OFFICER, "Giao cho người khác")
    assert any("tình nguyện viên" in label for label in labels(sent))
    assert not any(str(OTHER_VOLUNTEER) in label for label in labels(sent))
    sent = await world.tap(OFFICER, "tình nguyện viên")
    assert "✅ Đã giao phản ánh PA-2026-000001 cho" in texts(sent)
    # The volunteer is told, opens it and answers; the citizen receives the answer.
    notice = world.stub.sent_to(VOLUNTEER)[-1]
    assert "Bạn được giao xử lý phản ánh PA-2026-000001 (Xóm Kim Tân)" in (notice.text or "")
    sent = await world.tap(VOLUNTEER, "Mở")
    assert "Đóng" not in labels(sent) and "Trả lời" in labels(sent)
    await world.tap(VOLUNTEER, "Trả lời")
    answer = "Xã đã cho xe hút nước, chiều nay đường sẽ đi được."
    sent = await world.say(VOLUNTEER, answer)
    assert "✅ Đã gửi câu trả lời phản ánh PA-2026-000001 tới người dân." in texts(sent)
    relayed = world.stub.sent_to(CITIZEN)[-1].text or ""
    assert relayed == f"Xã trả lời phản ánh số PA-2026-000001 của Anh/Chị:\n{answer}"
    sent = await world.say(CITIZEN, "tra cứu PA-2026-000001")
    assert "Tình trạng: đã trả lời." in texts(sent) and answer in texts(sent)
    # The province officer reads it but has no buttons that change it.
    sent = await world.say(PROVINCE, "PA-2026-000001")
    assert answer in texts(sent)
    assert not {"Tôi nhận xử lý", "Trả lời", "Đóng"} & set(labels(sent))
    # The officer closes it; the citizen is told; a second close is refused.
    await world.tap(OFFICER, "Tất cả phản ánh")
    await world.tap(OFFICER, "PA-2026-000001")
    sent = await world.tap(OFFICER, "Đóng")
    assert "✅ Đã đóng phản ánh PA-2026-000001 và báo cho người dân." in texts(sent)
    assert "đã được xử lý xong" in (world.stub.sent_to(CITIZEN)[-1].text or "")
    audit = await services.db.fetchall("SELECT action, member_id, details FROM audit_log"
                                       " WHERE entity = 'petition' ORDER BY id")
    officer = await services.repos.members.member("telegram", str(OFFICER))
    volunteer = await services.repos.members.member("telegram", str(VOLUNTEER))
    assert officer is not None and volunteer is not None
    assert [(r["action"], r["member_id"]) for r in audit] == [
        ("submit", None), ("assign", officer.id), ("answer", volunteer.id),
        ("close", officer.id)]
    assert json.loads(audit[1]["details"]) == {"to": volunteer.id}
    sent = await world.say(OFFICER, "/phananh")
    assert "Không có phản ánh nào đang chờ" in texts(sent)


async def test_overdue_petitions_are_marked(world: TelegramWorld, services: Services,
                                            clock: FakeClock) -> None:
    await send_flood_petition(world)
    clock.advance(days=17)  # Monday 07/12, the last day: still in time
    sent = await world.say(OFFICER, "/phananh")
    assert "⚠️" not in labels(sent)[0]
    clock.advance(days=1)  # Tuesday 08/12: past the time limit
    sent = await world.say(OFFICER, "/phananh")
    assert labels(sent)[0].endswith("⚠️")
    sent = await world.say(CITIZEN, "tra cuu PA-2026-000001")
    assert "(đã quá hạn xử lý)" in texts(sent)
    # The officer's digest puts it among the things to do, and the full detail counts it.
    sent = await world.say(OFFICER, "/digest")
    assert "• Xử lý 1 phản ánh, kiến nghị của người dân (/phananh), 1 đã quá hạn" in texts(sent)
    sent = await world.say(OFFICER, "/digest full")
    assert "1 phản ánh, kiến nghị của người dân chưa xong, 1 đã quá hạn xử lý (/phananh)." \
        in texts(sent)
    sent = await world.say(OTHER_OFFICER, "/digest")
    assert "phản ánh" not in texts(sent)
    # The workbook the officer can forward lists it with its number, limit and overdue mark.
    sent = await world.say(OFFICER, "/digest")
    workbook = next(m for m in sent if m.method == "sendDocument").files["document"].data
    sheet = load_workbook(io.BytesIO(workbook))["Phản ánh, kiến nghị"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Số phiếu", "Ngày nhận") and len(rows) == 2
    assert rows[1][0] == "PA-2026-000001" and rows[1][3] == "Xóm Kim Tân"
    assert rows[1][5:8] == ("đã tiếp nhận, đang chờ xử lý", datetime(2026, 12, 7), "Có")


async def test_digest_counts_open_petitions_in_time(world: TelegramWorld) -> None:
    await send_flood_petition(world)
    sent = await world.say(OFFICER, "/digest")
    assert "• Xử lý 1 phản ánh, kiến nghị của người dân (/phananh)\n" in texts(sent) + "\n"


@pytest.mark.parametrize(("sent_on", "days", "due_on"), [
    (date(2026, 11, 20), 10, date(2026, 12, 7)),  # a Friday; 24/11 is Ngày Văn hóa Việt Nam
    (date(2027, 2, 3), 10, date(2027, 2, 24)),  # just before Tết: 04–10/02/2027 are days off
    (date(2026, 12, 31), 1, date(2027, 1, 4)),  # New Year's Day and a weekend skipped
])
def test_time_limit_counts_working_days_only(sent_on: date, days: int, due_on: date) -> None:
    assert add_working_days(sent_on, days) == due_on


@ON_BOTH_ENGINES
async def test_two_workers_saving_petitions_at_once_get_different_references(
        services: Services, database_target: str) -> None:
    """Two workers (two connections to one database) each save petitions at the same moments:
    every petition gets its own reference, numbered without gaps."""
    other = await open_database(database_target).open()
    try:
        async def save(db: Database, n: int) -> str:
            async with db.transaction():
                petition = await FeedbackRepository(db).add(
                    prefix="PA-2026-", channel="telegram", external_id=str(n),
                    chat_id=str(n), commune_code="HD", hamlet_code=None, text="Đường ngập",
                    photo_file_id=None, at=datetime(2026, 11, 20, 8, 0),
                    due_on=date(2026, 12, 4))
            return petition.ref

        refs = await asyncio.gather(*(save(services.db if n % 2 else other, n)
                                      for n in range(20)))
    finally:
        await other.close()
    assert sorted(refs) == [f"PA-2026-{n:06d}" for n in range(1, 21)]
