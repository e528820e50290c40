"""Scheduled reports: trigger times, outbox exactly once, catch-up, retries, languages, content."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.app import Reporting, build_reporting
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.i18n import use_language
from bot.messages import Reply
from bot.models import Role
from bot.reports.jobs import digest_files
from bot.reports.outbox import DeliveryError
from bot.reports.periods import PeriodKind
from bot.scheduler import last_fire_time, plan
from bot.services import Services
from tests.conftest import FakeClock, join
from tests.test_flows import texts

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class RecordingSender:
    """A channel that records what it pushes, or fails on demand."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, Reply]] = []
        self.failures: list[DeliveryError] = []

    async def send_queued(self, chat_id: str, replies: Sequence[Reply]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.pushed.extend((chat_id, reply) for reply in replies)

    def to(self, chat_id: str) -> list[list[Reply]]:
        """The reports the chat got: a text starts one, its picture and file follow it."""
        reports: list[list[Reply]] = []
        for chat, reply in self.pushed:
            if chat != chat_id:
                continue
            if reports and (reply.image is not None or reply.document is not None):
                reports[-1].append(reply)
            else:
                reports.append([reply])
        return reports


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def reporting(services: Services, sender: RecordingSender) -> Reporting:
    return build_reporting(services, {"console": sender})


@pytest.fixture
def server_in_new_york() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = old
    time.tzset()


def _next(services: Services, report: str, after: datetime) -> datetime:
    trigger = next(p.trigger for p in plan(services.settings) if p.report == report)
    fire = trigger.get_next_fire_time(None, after)
    assert fire is not None
    return fire.astimezone(VN)


def test_trigger_times_in_vietnam_whatever_the_server_zone(services: Services,
                                                           server_in_new_york: None) -> None:
    monday = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    digest = _next(services, "digest-week", monday)
    assert (digest.date().isoformat(), digest.hour, digest.minute) == ("2026-11-20", 15, 0)
    assert digest.utcoffset() == timedelta(hours=7)
    reminder = _next(services, "reminder", monday)
    assert (reminder.weekday(), reminder.hour) == (4, 8)
    monthly = _next(services, "digest-month", monday)
    assert (monthly.date().isoformat(), monthly.hour) == ("2026-12-01", 8)
    quarterly = _next(services, "digest-quarter", monday)
    assert quarterly.date().isoformat() == "2027-01-01"
    # Just after 15:00 on Friday the next digest is the following Friday.
    after = _next(services, "digest-week", datetime(2026, 11, 20, 8, 1, tzinfo=UTC))
    assert after.date().isoformat() == "2026-11-27"


def test_last_fire_time_within_window(services: Services) -> None:
    trigger = next(p.trigger for p in plan(services.settings) if p.report == "digest-week")
    friday_evening = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # 18:00 in Vietnam
    fired = last_fire_time(trigger, friday_evening, timedelta(hours=24))
    assert fired is not None and fired.astimezone(VN).hour == 15
    saturday_late = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # 16:00, 25 h after
    assert last_fire_time(trigger, saturday_late, timedelta(hours=24)) is None


async def _people(services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "o-vi", role=Role.OFFICER, hamlet=None, name="Hà")
    await join(services, console, "o-en", role=Role.OFFICER, hamlet=None, name="Ann")
    await console.send("o-en", "/lang en")
    await join(services, console, "v-busy", name="Lan")
    await join(services, console, "v-quiet", name="Tú")
    await console.send("v-busy", "/activate")
    await console.send("v-busy", "X01-001")
    await console.send("v-busy", "1 1 c")
    await console.tap("v-busy", "Lưu")


async def test_missed_digest_is_sent_once_after_downtime(
        services: Services, console: ConsoleChannel, clock: FakeClock,
        sender: RecordingSender) -> None:
    await _people(services, console)
    clock.now = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # Friday 18:00: down at 15:00
    first = build_reporting(services, {"console": sender})
    await first.scheduler.catch_up()
    assert len(sender.to("o-vi")) == 1 and len(sender.to("o-en")) == 1
    # The bot restarts: catching up again sends nothing twice.
    clock.advance(minutes=10)
    second = build_reporting(services, {"console": sender})
    await second.scheduler.catch_up()
    await second.scheduler.run("digest-week", "HD")  # even the trigger firing again
    assert len(sender.to("o-vi")) == 1
    rows = await second.outbox.store.rows("digest-week")
    assert {r["status"] for r in rows} == {"sent"} and {r["period"] for r in rows} == {"2026-W47"}


async def test_digest_missed_beyond_grace_is_not_sent(
        services: Services, console: ConsoleChannel, clock: FakeClock,
        sender: RecordingSender, reporting: Reporting) -> None:
    await _people(services, console)
    clock.now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # Saturday 16:00: 25 h late
    await reporting.scheduler.catch_up()
    assert sender.to("o-vi") == []


async def test_each_recipient_gets_their_language_with_chart_and_workbook(
        services: Services, console: ConsoleChannel, clock: FakeClock,
        sender: RecordingSender, reporting: Reporting) -> None:
    await _people(services, console)
    clock.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    await reporting.scheduler.run("digest-week", "HD")
    [vi] = sender.to("o-vi")
    [en] = sender.to("o-en")
    assert "Báo cáo tuần" in vi[0].text and "Xóm Kim Tân" in vi[0].text
    assert "Weekly report" in en[0].text
    assert vi[1].image is not None and vi[1].image.startswith(b"\x89PNG")
    assert vi[2].document is not None and vi[2].document.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(vi[2].document.content))
    # The week's records come from the database: Lan's activation of X01-001.
    activations = [[c.value for c in row] for row in book["Kích hoạt"].iter_rows(min_row=2)]
    assert [(row[3], row[4], row[8]) for row in activations] == [
        ("X01-001", "Nguyễn Thị Lan", "Lan")]
    assert book["Lượt hướng dẫn"].max_row == 1  # header only: no visit this week
    # Volunteers get no digest.
    assert sender.to("v-busy") == []


async def test_friday_reminder_thanks_the_busy_and_nudges_the_quiet(
        services: Services, console: ConsoleChannel, clock: FakeClock,
        sender: RecordingSender, reporting: Reporting) -> None:
    await _people(services, console)
    clock.now = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # Friday 08:00
    await reporting.scheduler.run("reminder", "HD")
    [busy] = sender.to("v-busy")
    [quiet] = sender.to("v-quiet")
    assert "15:00" in busy[0].text and "1 lần ghi kích hoạt" in busy[0].text
    assert "15:00" in quiet[0].text and "chưa thấy" in quiet[0].text
    assert "Xóm Kim Tân" in quiet[0].text  # what the hamlet still lacks
    assert sender.to("o-vi") == []


async def test_reminder_caught_up_after_the_deadline_is_skipped(
        services: Services, console: ConsoleChannel, clock: FakeClock,
        sender: RecordingSender, reporting: Reporting) -> None:
    await _people(services, console)
    clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # Friday 16:00: down since 07:00
    await reporting.scheduler.catch_up()
    assert sender.to("v-busy") == [] and sender.to("v-quiet") == []
    assert len(sender.to("o-vi")) == 1  # the digest itself is caught up


async def test_follow_up_reminder_on_the_day(services: Services, console: ConsoleChannel,
                                             clock: FakeClock, sender: RecordingSender,
                                             reporting: Reporting) -> None:
    await join(services, console, "v1", name="Lan")
    await console.send("v1", "/visit")
    await console.send("v1", "X01-002")
    await console.send("v1", "1")
    await console.tap("v1", "Hẹn quay lại")
    await console.tap("v1", "Ngày mai")
    await reporting.scheduler.run("follow-up", "HD")
    assert sender.to("v1") == []  # not today
    clock.advance(days=1)
    await reporting.scheduler.run("follow-up", "HD")
    [reminder] = sender.to("v1")
    assert "Trần Văn Lâm" in reminder[0].text and "X01-002" in reminder[0].text


async def test_failed_sends_are_retried_later_and_permanent_failures_stop(
        services: Services, console: ConsoleChannel, clock: FakeClock,
        sender: RecordingSender, reporting: Reporting) -> None:
    await _people(services, console)
    clock.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    sender.failures = [DeliveryError("Bad Gateway (502)"), DeliveryError("blocked",
                                                                          permanent=True)]
    await reporting.scheduler.run("digest-week", "HD")
    rows = await reporting.outbox.store.rows("digest-week")
    assert sorted(r["status"] for r in rows) == ["failed", "pending"]
    await reporting.scheduler.deliver()
    assert len(sender.pushed) == 0  # not yet due again
    clock.advance(minutes=2)
    await reporting.scheduler.deliver()
    rows = await reporting.outbox.store.rows("digest-week")
    assert sorted(r["status"] for r in rows) == ["failed", "sent"]
    assert len(sender.pushed) == 3  # the retried digest: text, chart, workbook, each once


async def test_digest_figures_per_hamlet(services: Services, console: ConsoleChannel,
                                         clock: FakeClock) -> None:
    await _people(services, console)
    await console.send("v-busy", "/visit")
    await console.send("v-busy", "X01-003")
    await console.send("v-busy", "2")
    await console.tap("v-busy", "Xong")
    digest = await services.digests.build(PeriodKind.WEEK)
    kim_tan = digest.communes[0].hamlets[0]
    assert (kim_tan.capable.done, kim_tan.capable.whole) == (1, 100)
    assert (kim_tan.level2.done, kim_tan.level2.whole, kim_tan.level2.gap) == (101, 250, 112)
    assert (kim_tan.activation.done, kim_tan.activation.whole) == (81, 101)
    assert kim_tan.visits == 1 and kim_tan.visits_change == 1
    assert digest.communes[0].volunteers[0].name == "Lan"
    assert digest.communes[0].quiet_volunteers == 1
    assert digest.communes[0].behind[0].name == "Xóm Yên Giang"


async def test_officer_digest_and_office_indicators_in_chat(
        services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "o1", role=Role.OFFICER, hamlet=None)
    await console.send("o1", "/office")
    await console.tap("o1", "Hồ sơ nộp trực tuyến")
    bad = await console.send("o1", "70/60")
    assert "không được lớn hơn" in texts(bad) or "không vượt" in texts(bad)
    saved = await console.send("o1", "45/60")
    assert "75%" in texts(saved)
    replies = await console.send("o1", "/digest")
    short = replies[0]
    assert len(short.text) <= 900 and "Nhập 5 chỉ số văn phòng kỳ 11/2026 (/office)" in short.text
    assert replies[1].image and replies[2].document
    # The full detail on request, by command or by the button under the short digest.
    [detail] = await console.send("o1", "/digest full")
    assert "Hồ sơ nộp trực tuyến: 45/60 (75%)" in detail.text
    assert "Chỉ số văn phòng (11/2026, do văn phòng nhập):" in detail.text
    [button] = short.options[0]
    assert button.label == "Chi tiết"
    [tapped] = await console.tap("o1", "Chi tiết")
    assert tapped.text == detail.text and not tapped.replace  # the short digest stays
    volunteer = await console.send("v-none", "/digest")
    assert "Anh/Chị" in texts(volunteer)


async def test_short_digest_fits_a_screen_and_says_what_to_do(
        services: Services, console: ConsoleChannel, clock: FakeClock) -> None:
    await _people(services, console)
    await console.send("v-busy", "/visit")
    await console.send("v-busy", "X01-002")
    await console.send("v-busy", "1")
    await console.tap("v-busy", "Hẹn quay lại")
    await console.tap("v-busy", "Ngày mai")
    [short, _chart, _book] = await console.send("o-vi", "/digest")
    text = short.text
    assert len(text) <= 900
    # One activation of X01-001 on top of the baselines: 101 of 450 level 2, 81 of 101 active.
    assert "• Hộ dùng được VNeID: 1/180 (0,6%) — chỉ tiêu 100%, còn thiếu 179" in text
    assert "• ĐDĐT mức 2: 101/450 (22,4%) — chỉ tiêu 85%, còn thiếu 282" in text
    assert "• Đã kích hoạt: 81/101 (80,2%) — chỉ tiêu 90%, còn thiếu 10" in text
    assert "• Lượt hướng dẫn: 1, mục tiêu 10 (tuần trước 0)" in text
    # Furthest behind first, with what each hamlet still lacks.
    behind = text.split("Thôn/xóm chậm nhất (còn thiếu):\n")[1].splitlines()
    assert behind[0] == "• Xóm Yên Giang: 80 hộ · 170 mức 2"
    assert behind[1] == "• Xóm Kim Tân: 99 hộ · 112 mức 2 · 10 kích hoạt"
    assert "Tuần này: +1 hộ dùng được VNeID, +1 đăng ký mức 2, +1 kích hoạt" in text
    assert "• Chưa có lượt hướng dẫn nào ở: Xóm Yên Giang" in text
    assert "• Động viên 1 tình nguyện viên chưa ghi gì" in text
    assert "• 1 hộ chờ quay lại theo hẹn (sớm nhất 21/11/2026)" in text
    [detail] = await console.send("o-vi", "/digest full")
    # Most active with a unit; the activation gap of every hamlet.
    assert "Tích cực nhất: Lan (2 lượt ghi)." in detail.text
    assert "kích hoạt 80,2% (thiếu 10)" in detail.text


async def test_help_desk_ratings_are_not_the_plans_satisfaction(
        services: Services, console: ConsoleChannel, clock: FakeClock) -> None:
    await join(services, console, "o1", role=Role.OFFICER, hamlet=None)
    store = services.helpdesk.store
    for citizen, helpful in (("c1", True), ("c2", True), ("c3", False)):
        await store.rate(channel="console", external_id=citizen, subject="kb:vneid",
                         helpful=helpful, commune_code="HD", at=clock())
    [detail] = await console.send("o1", "/digest full")
    assert "Đánh giá câu trả lời của trợ lý: 2/3 lượt thấy hữu ích (66,7%)." in detail.text
    satisfaction = "Mức độ hài lòng của người dân về giải quyết TTHC"
    assert f"• {satisfaction}: chưa nhập, chỉ tiêu 90% (/office)" in detail.text
    # The plan's figure is what the office enters.
    await console.send("o1", "/office")
    await console.tap("o1", satisfaction)
    await console.send("o1", "46/50")
    [detail] = await console.send("o1", "/digest full")
    assert f"• {satisfaction}: 46/50 (92%) — đạt chỉ tiêu 90%" in detail.text


async def test_scheduler_runs_on_the_event_loop_with_every_trigger(
        services: Services, reporting: Reporting) -> None:
    scheduler = reporting.scheduler.start()
    try:
        jobs = {job.id for job in scheduler.get_jobs()}
        zone = "Asia/Ho_Chi_Minh"
        assert {f"digest-week:{zone}", f"reminder:{zone}", f"follow-up:{zone}",
                f"digest-month:{zone}", f"digest-quarter:{zone}", "outbox"} <= jobs
        digest = scheduler.get_job(f"digest-week:{zone}")
        assert digest is not None and digest.next_run_time.astimezone(VN).weekday() == 4
        assert (digest.next_run_time.astimezone(VN).hour, digest.next_run_time.minute) == (15, 0)
    finally:
        reporting.scheduler.shutdown()


def test_a_country_of_thousands_of_communes_has_a_handful_of_triggers() -> None:
    communes = [{"code": f"C{n:04d}", "name": f"Xã {n}", "hamlets": [
        {"code": f"C{n:04d}-01", "name": "Thôn 1", "households": 100, "eligible_citizens": 250}]}
        for n in range(3300)]
    communes[-1]["timezone"] = "Asia/Bangkok"  # a deployment may span two zones
    planned = plan(Settings.model_validate({"communes": communes}))
    assert len(planned) == 5 * 2
    digests = sorted((p for p in planned if p.report == "digest-week"), key=lambda p: p.zone)
    assert [(p.zone, len(p.communes)) for p in digests] == [
        ("Asia/Bangkok", 1), ("Asia/Ho_Chi_Minh", 3299)]


async def test_a_voided_entry_leaves_the_digest_and_its_workbook(
        services: Services, console: ConsoleChannel, clock: FakeClock) -> None:
    await _people(services, console)  # Lan: 1 level 2, 1 activated, capable, on X01-001
    await console.send("v-busy", "/activate")
    await console.send("v-busy", "X01-004")
    await console.send("v-busy", "2 1 c")
    await console.tap("v-busy", "Lưu")
    digest = await services.digests.build(PeriodKind.WEEK)
    kim_tan = digest.communes[0].hamlets[0]
    assert (kim_tan.capable.done, kim_tan.level2.done, kim_tan.activation.done) == (2, 103, 82)
    assert kim_tan.logged.activation_records == 2 and kim_tan.logged.newly_capable == 2
    member = await services.repos.members.member("console", "v-busy")
    assert member is not None
    [first] = [r["id"] for r in await services.db.fetchall(
        "SELECT id FROM activations ORDER BY id LIMIT 1")]
    async with services.db.transaction():
        assert await services.repos.records.void_record("activation", first, member.id, clock())
    digest = await services.digests.build(PeriodKind.WEEK)
    kim_tan = digest.communes[0].hamlets[0]
    assert (kim_tan.capable.done, kim_tan.level2.done, kim_tan.activation.done) == (1, 102, 81)
    assert kim_tan.logged.activation_records == 1
    with use_language("en"):
        book = openpyxl.load_workbook(io.BytesIO(digest_files(digest).workbook))
    rows = [[c.value for c in row] for row in book["Activations"].iter_rows(min_row=2)]
    assert [(row[3], row[5], row[6]) for row in rows] == [("X01-004", 2, 1)]
