"""The digest's chart (PNG) and workbook (.xlsx), built from a hand-made digest."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.i18n import use_language
from bot.reports import chart as chart_module
from bot.reports.chart import render_chart
from bot.reports.digest import (
    OFFICE_INDICATORS,
    CampaignPace,
    CommuneDigest,
    Digest,
    HamletLine,
    Indicator,
    OfficeLine,
)
from bot.reports.periods import Period, PeriodKind
from bot.reports.workbook import render_workbook
from storage.repositories import (
    FollowUp,
    HamletActivity,
    OfficeFigure,
    VisitRow,
    VolunteerActivity,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = Period(PeriodKind.WEEK, "2026-W47", date(2026, 11, 16), date(2026, 11, 23), TZ)
# Friday 20 November 2026, 10:00 in Vietnam.
CUT_AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def hamlet(code: str, name: str, commune: str, *, households: int, capable: int,
           eligible: int, level2: int, activated: int, visits: int, before: int,
           records: int) -> HamletLine:
    """A hamlet line with the commune's usual targets (80% able, 70% level 2, 60% active)."""
    return HamletLine(
        code=code, name=name, commune_name=commune, households=households,
        capable=Indicator(capable, households, 0.8), level2=Indicator(level2, eligible, 0.7),
        activation=Indicator(activated, level2, 0.6), visits=visits, visits_before=before,
        visits_target=5, logged=HamletActivity(activation_records=records, visits=visits))


def total(code: str, name: str, lines: list[HamletLine]) -> HamletLine:
    """Add hamlet lines up the way the digest does for a commune or province."""
    first, *rest = lines
    result = first
    for line in rest:
        result = HamletLine(
            code, name, name, result.households + line.households,
            result.capable + line.capable, result.level2 + line.level2,
            result.activation + line.activation, result.visits + line.visits,
            result.visits_before + line.visits_before,
            result.visits_target + line.visits_target,
            HamletActivity(
                activation_records=result.logged.activation_records
                + line.logged.activation_records,
                visits=result.logged.visits + line.logged.visits))
    return HamletLine(code, name, name, result.households, result.capable, result.level2,
                      result.activation, result.visits, result.visits_before,
                      result.visits_target, result.logged)


def hung_dong() -> CommuneDigest:
    """Xã Hưng Đông: four hamlets, two visits, one follow-up, office figures and a campaign."""
    name = "Xã Hưng Đông"
    lines = [
        hamlet("KT", "Xóm Kim Tân", name, households=312, capable=251, eligible=980,
               level2=702, activated=455, visits=7, before=4, records=5),
        hamlet("DH", "Xóm Đông Hưng", name, households=268, capable=131, eligible=845,
               level2=402, activated=230, visits=2, before=6, records=1),
        hamlet("YB", "Khối Yên Bình", name, households=405, capable=371, eligible=1260,
               level2=1101, activated=802, visits=4, before=4, records=3),
        hamlet("NT", "Thôn Nghĩa Thịnh Đông", name, households=190, capable=62,
               eligible=601, level2=188, activated=61, visits=0, before=1, records=0),
    ]
    visits = [
        VisitRow(datetime(2026, 11, 17, 2, 30, tzinfo=UTC), "KT", "KT-012", "Nguyễn Văn An",
                 ("install", "activate"), "done", None, "Trần Thị Lan"),
        VisitRow(datetime(2026, 11, 19, 10, 5, tzinfo=UTC), "DH", "DH-040", "Lê Thị Hoa",
                 ("level2",), "follow_up", date(2026, 11, 24), "Phạm Đức Huy"),
    ]
    follow_ups = [FollowUp(9, "DH-040", "Lê Thị Hoa", "DH", date(2026, 11, 24), 4,
                           "Phạm Đức Huy", ("level2",))]
    office = [
        OfficeLine("online_dossiers", OFFICE_INDICATORS["online_dossiers"],
                   OfficeFigure("online_dossiers", 45, 60), 0.8),
        OfficeLine("on_time", OFFICE_INDICATORS["on_time"], None, 0.95),
    ]
    campaign = CampaignPace("Chiến dịch 90 ngày làm sạch dữ liệu", date(2026, 10, 1),
                            date(2026, 12, 31), 41, Indicator(2393, 3686, 0.8),
                            Indicator(1548, 2393, 0.9))
    return CommuneDigest(
        code="HD", name=name, hamlets=lines, total=total("HD", name, lines),
        behind=sorted(lines, key=lambda line: line.capable.share or 0)[:3],
        volunteers=[VolunteerActivity(3, "Trần Thị Lan", "KT", 5, 7)], quiet_volunteers=2,
        follow_ups=follow_ups, office=office, office_period="2026-11", campaign=campaign,
        visits=visits)


def truong_vinh() -> CommuneDigest:
    """Phường Trường Vinh: two blocks and nothing else logged."""
    name = "Phường Trường Vinh"
    lines = [
        hamlet("K1", "Khối 1", name, households=520, capable=480, eligible=1500,
               level2=1320, activated=1100, visits=3, before=2, records=2),
        hamlet("K2", "Khối Trung Đông", name, households=610, capable=402, eligible=1800,
               level2=1010, activated=650, visits=1, before=0, records=1),
    ]
    return CommuneDigest(
        code="TV", name=name, hamlets=lines, total=total("TV", name, lines), behind=lines,
        volunteers=[], quiet_volunteers=0, follow_ups=[], office=[], office_period="2026-11",
        campaign=None, visits=[])


def commune_digest() -> Digest:
    return Digest(WEEK, CUT_AT, [hung_dong()])


def province_digest() -> Digest:
    communes = [hung_dong(), truong_vinh()]
    rows = [c.total for c in communes]
    return Digest(WEEK, CUT_AT, communes, province_name="Tỉnh Nghệ An",
                  province_total=total("*", "Tỉnh Nghệ An", rows), province_rows=rows)
