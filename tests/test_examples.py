"""Each seed plan's example config: a simulated week, then the digest shows that plan's terms."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import build_router, open_services
from bot.channels.console import ConsoleChannel
from bot.config import load_settings
from bot.demo import demo_households
from bot.i18n import use_language
from bot.models import Role
from bot.reports.jobs import digest_files
from bot.reports.periods import PeriodKind
from bot.reports.text import render_detail
from tests.conftest import FakeClock

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# (file, a Friday 15:00 in Vietnam inside the plan's period, what the digest must show)
CASES = [
    ("000-hung-dong.toml", datetime(2023, 11, 17, 8, 0, tzinfo=UTC),
     ["Xã Hưng Đông", "Xóm Kim Tân", "Hồ sơ nộp trực tuyến", "chỉ tiêu 50%", "chỉ tiêu 100%",
      "13/11/2023"]),
    ("001-dak-nong.toml", datetime(2024, 3, 15, 8, 0, tzinfo=UTC),
     ["Tỉnh Đắk Nông", "Xã Quảng Sơn", "Bon Sa Nar", "chỉ tiêu 70%", "chỉ tiêu 30%"]),
    ("002-cua-lo.toml", datetime(2023, 6, 16, 8, 0, tzinfo=UTC),
     ["Phường Nghi Hải", "Khối Hải Giang 1", "chỉ tiêu 50%", "chỉ tiêu 95%"]),
    ("003-mo-duc.toml", datetime(2024, 8, 16, 8, 0, tzinfo=UTC),
     ["Cao điểm 60 ngày đêm", "01/08/2024", "01/10/2024", "120.961", "chỉ tiêu 85%",
      "chỉ tiêu 90%", "còn 46 ngày", "Thị trấn Mộ Đức"]),
    ("004-nguyen-luong-bang.toml", datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
     ["Xã Nguyễn Lương Bằng", "Thôn Đông", "chỉ tiêu 80%", "chỉ tiêu 90%"]),
]


@pytest.mark.parametrize(("name", "friday", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_example_week_digest_shows_the_plan(tmp_path: Path, name: str, friday: datetime,
                                                  expected: list[str]) -> None:
    settings = load_settings(EXAMPLES / name)
    clock = FakeClock(friday.replace(hour=1))  # Friday morning: the week's work is logged
    rng = random.Random(name)
    async with open_services(settings, clock=clock,
                             database_path=str(tmp_path / "x.sqlite3")) as services:
        await services.households.import_rows(demo_households(settings))
        console = ConsoleChannel(build_router(services))
        officer = await services.members.create_invite(Role.OFFICER,
                                                       commune_code=settings.communes[0].code)
        await console.send("officer", f"/start {officer.code}", name="Cán bộ")
        await console.send("officer", "/office")
        await console.tap("officer", "Hồ sơ nộp trực tuyến")
        await console.send("officer", "30/40")
        logged = 0
        for commune in settings.communes:
            for hamlet in commune.hamlets[:3]:
                user = f"v-{hamlet.code}"
                invite = await services.members.create_invite(Role.VOLUNTEER,
                                                              hamlet_code=hamlet.code)
                await console.send(user, f"/start {invite.code}", name=f"TNV {hamlet.code}")
                for household in rng.sample(await services.repos.households.households_in([hamlet.code]),
                                            3):
                    await console.send(user, "/activate")
                    await console.send(user, household.code)
                    await console.send(user, "1 1 c")
                    await console.send(user, "luu")
                    logged += 1
        assert await services.repos.count("activations") == logged
        clock.now = friday
        digest = await services.digests.build(PeriodKind.WEEK)
        with use_language("vi"):
            files = digest_files(digest)
            detail = render_detail(digest)
    # The short digest fits one phone screen; the full detail holds the plan's terms too.
    assert len(files.text) <= 900, files.text
    assert files.text.splitlines()[0] == detail.splitlines()[0]
    # A province's hamlets are in the workbook (its detail lists communes).
    book = load_workbook(io.BytesIO(files.workbook))
    hamlets = " ".join(str(c.value) for row in book.worksheets[1].iter_rows() for c in row)
    for fragment in expected:
        assert fragment in files.text + detail + hamlets, (
            f"{fragment!r} missing from the {name} digest")
    assert "Hồ sơ nộp trực tuyến: 30/40 (75%)" in detail
    assert files.chart.startswith(b"\x89PNG") and len(files.workbook) > 4000


async def test_cua_lo_quarterly_report(tmp_path: Path) -> None:
    settings = load_settings(EXAMPLES / "002-cua-lo.toml")
    clock = FakeClock(datetime(2023, 7, 1, 1, 30, tzinfo=UTC))  # 1 July, 08:30
    async with open_services(settings, clock=clock,
                             database_path=str(tmp_path / "x.sqlite3")) as services:
        digest = await services.digests.build(PeriodKind.QUARTER, previous=True)
        with use_language("vi"):
            text = render_detail(digest)
    assert text.startswith("Báo cáo quý 2/2023") or "Quý 2/2023" in text.splitlines()[0]
    assert "01/04/2023" in text and "30/06/2023" in text
