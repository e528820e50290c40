"""The digest's chart (PNG) and workbook (.xlsx), built from a hand-made digest."""

from __future__ import annotations

import dataclasses
import io
import logging
import struct
import warnings
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from matplotlib.colors import to_hex
from matplotlib.image import imread
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.i18n import use_language
from bot.measures import figure_text
from bot.reports.chart import MAX_ROWS, build_figure, chart_data, render_chart
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
from storage.detail_rows import ActivationRow, PetitionRow, QuestionRow
from storage.reports import FollowUp, HamletActivity, OfficeFigure, VisitRow, VolunteerActivity

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = Period(PeriodKind.WEEK, "2026-W47", date(2026, 11, 16), date(2026, 11, 23), TZ)
# Friday 20 November 2026, 10:00 in Vietnam.
CUT_AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# Records of Xã Hưng Đông's week, as the database would stream them to the workbook.
VISITS = [
    VisitRow(datetime(2026, 11, 17, 2, 30, tzinfo=UTC), "KT", "KT-012", "Nguyễn Văn An",
             ("install", "activate"), "done", None, "Trần Thị Lan"),
    VisitRow(datetime(2026, 11, 19, 10, 5, tzinfo=UTC), "DH", "DH-040", "Lê Thị Hoa",
             ("level2",), "follow_up", date(2026, 11, 24), "Phạm Đức Huy"),
]
FOLLOW_UPS = [FollowUp(9, "DH-040", "Lê Thị Hoa", "DH", date(2026, 11, 24), 4, "Phạm Đức Huy",
                       ("level2",))]
ACTIVATIONS = [ActivationRow(datetime(2026, 11, 18, 1, 0, tzinfo=UTC), "KT", "KT-007",
                             "Hoàng Văn Bình", 2, 1, True, "Trần Thị Lan")]
QUESTIONS = [QuestionRow(datetime(2026, 11, 18, 7, 15, tzinfo=UTC), "DH",
                         "Làm sao nộp hồ sơ khai sinh trực tuyến?", None)]
PETITIONS = [PetitionRow("PA-2026-000007", datetime(2026, 11, 2, 2, 0, tzinfo=UTC), "KT",
                         "Đèn đường đầu xóm hỏng", "assigned", date(2026, 11, 16), None, None)]


class ListedRows:
    """Detail rows from lists, for Xã Hưng Đông only."""

    def visits(self, commune_code: str) -> list[VisitRow]:
        return VISITS if commune_code == "HD" else []

    def activations(self, commune_code: str) -> list[ActivationRow]:
        return ACTIVATIONS if commune_code == "HD" else []

    def follow_ups(self, commune_code: str) -> list[FollowUp]:
        return FOLLOW_UPS if commune_code == "HD" else []

    def questions(self, commune_code: str) -> list[QuestionRow]:
        return QUESTIONS if commune_code == "HD" else []

    def petitions(self, commune_code: str) -> list[PetitionRow]:
        return PETITIONS if commune_code == "HD" else []


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
        follow_ups=FOLLOW_UPS, follow_ups_waiting=len(FOLLOW_UPS), office=office,
        office_period="2026-11", campaign=campaign, open_questions=1,
        answer_ratings=Indicator(7, 9, None))


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
        campaign=None)


def commune_digest() -> Digest:
    return Digest(WEEK, CUT_AT, [hung_dong()], rows=ListedRows())


def province_digest() -> Digest:
    communes = [hung_dong(), truong_vinh()]
    rows = [c.total for c in communes]
    return Digest(WEEK, CUT_AT, communes, province_name="Tỉnh Nghệ An",
                  province_total=total("*", "Tỉnh Nghệ An", rows), province_rows=rows,
                  rows=ListedRows())


def many_hamlets(count: int) -> Digest:
    """A commune with more hamlets than the chart shows; every one has a visible bar."""
    commune = hung_dong()
    lines = [hamlet(f"H{i:02d}", f"Thôn Đồng Tâm {i}", commune.name, households=100,
                    capable=20 + i, eligible=300, level2=90 + i, activated=50, visits=1,
                    before=1, records=0) for i in range(count)]
    return Digest(WEEK, CUT_AT, [dataclasses.replace(commune, hamlets=lines,
                                                     total=total("HD", commune.name, lines))])


# -- chart ------------------------------------------------------------------------------------

def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always comes first."""
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def render_quietly(digest: Digest, caplog: pytest.LogCaptureFixture) -> bytes:
    """Render the chart, failing on any warning (a missing glyph or font shows up as one)."""
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.simplefilter("error")
        data = render_chart(digest)
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")]
    return data


def test_chart_is_a_phone_sized_png_with_vietnamese_text(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    with use_language("vi"):
        data = render_quietly(commune_digest(), caplog)
    assert data.startswith(PNG_SIGNATURE)
    width, height = png_size(data)
    assert 1000 <= width <= 1200
    assert 500 <= height <= 2400
    pixels = imread(io.BytesIO(data))
    assert pixels.shape[:2] == (height, width)


def test_chart_shows_all_four_measures_of_the_plan_with_their_targets() -> None:
    digest = commune_digest()
    with use_language("vi"):
        data = chart_data(digest)
    # Furthest behind on top: lowest share of capable households first.
    assert data.rows == ["Thôn Nghĩa Thịnh Đông", "Xóm Đông Hưng", "Xóm Kim Tân",
                         "Khối Yên Bình"]
    capable, level2, activation, visits = data.series
    assert capable.label == "Hộ dùng được VNeID" and capable.target == 0.8
    assert capable.values[0] == pytest.approx(62 / 190)
    assert level2.target == 0.7 and level2.values[-1] == pytest.approx(1101 / 1260)
    assert activation.label == "Tài khoản mức 2 đã kích hoạt" and activation.target == 0.6
    assert activation.values[1] == pytest.approx(230 / 402)
    # Visits against the week's aim of 5: Kim Tân's 7 are past it, labelled with the count.
    assert visits.label == "Lượt hướng dẫn" and visits.target == 1.0
    assert visits.values == [0, 2 / 5, 7 / 5, 4 / 5] and visits.labels == ["0", "2", "7", "4"]
    assert visits.note == "mục tiêu 5 lượt"
    assert capable.labels[0] == "32,6%"
    # Every target line lies inside its panel, not on the border.
    assert all(s.target is not None and s.axis_end > s.target for s in data.series)


def test_chart_legend_colours_are_the_bar_colours() -> None:
    with use_language("en"):
        data = chart_data(commune_digest())
        figure = build_figure(data)
    legend = figure.legends[0]
    keys = {text.get_text(): handle for text, handle in
            zip(legend.get_texts(), legend.legend_handles, strict=True)}
    for series, axes in zip(data.series, figure.axes, strict=True):
        bar_colours = {to_hex(patch.get_facecolor()) for patch in axes.patches}
        assert bar_colours == {series.colour}
        assert to_hex(keys[series.label].get_facecolor()) == series.colour
    assert "Target" in keys
    assert len({s.colour for s in data.series}) == 4


def test_chart_is_the_same_every_time() -> None:
    with use_language("vi"):
        assert render_chart(commune_digest()) == render_chart(commune_digest())


def test_chart_of_a_province_has_one_row_per_commune(caplog: pytest.LogCaptureFixture
                                                     ) -> None:
    with use_language("vi"):
        data = render_quietly(province_digest(), caplog)
        rows = chart_data(province_digest()).rows
    assert sorted(rows) == ["Phường Trường Vinh", "Xã Hưng Đông"]
    assert png_size(data)[1] < png_size(render_chart(commune_digest()))[1]


def test_chart_shows_only_the_furthest_behind_within_the_height_cap() -> None:
    digest = many_hamlets(MAX_ROWS + 5)
    with use_language("en"):
        data = render_chart(digest)
        shown = chart_data(digest)
    width, height = png_size(data)
    assert (width, height) == (1080, 2400)
    assert len(shown.rows) == MAX_ROWS and shown.rows[0] == "Thôn Đồng Tâm 0"
    assert "40 hamlets furthest behind, of 45" in shown.subtitle


def test_chart_copes_with_a_hamlet_without_households(caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    digest = commune_digest()
    empty = hamlet("MO", "Xóm Mới", "Xã Hưng Đông", households=0, capable=0, eligible=0,
                   level2=0, activated=0, visits=0, before=0, records=0)
    digest.communes[0].hamlets.append(empty)
    with use_language("vi"):
        assert render_quietly(digest, caplog).startswith(PNG_SIGNATURE)


# -- workbook ---------------------------------------------------------------------------------

def open_book(digest: Digest, language: str = "en") -> dict[str, Worksheet]:
    with use_language(language):
        data = render_workbook(digest)
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: sheet for sheet in book.worksheets}


def table(sheet: Worksheet, header_row: int = 1) -> list[dict[str, object]]:
    """The rows under a header row as dicts keyed by header."""
    headers = [cell.value for cell in sheet[header_row]]
    return [dict(zip(headers, (c.value for c in row), strict=False))
            for row in sheet.iter_rows(min_row=header_row + 1)]


def header_cells(sheet: Worksheet) -> dict[object, int]:
    return {cell.value: cell.column for cell in sheet[1]}


def test_workbook_sheets_each_with_a_frozen_bold_header() -> None:
    sheets = open_book(commune_digest())
    assert list(sheets) == ["Summary", "Hamlets", "Activations", "Visits", "Follow-ups",
                            "Citizens' questions", "Petitions"]
    # The summary keeps its title, period and table header in view; tables their header.
    assert sheets["Summary"].freeze_panes == "A4"
    assert all(sheet.freeze_panes == "A2" for title, sheet in sheets.items()
               if title != "Summary")
    assert all(cell.font.bold for cell in sheets["Summary"][3] if cell.value)
    titles = list(open_book(commune_digest(), "vi"))
    assert titles == ["Tổng hợp", "Thôn xóm", "Kích hoạt", "Lượt hướng dẫn", "Hẹn quay lại",
                      "Câu hỏi của người dân", "Phản ánh, kiến nghị"]
    assert all(0 < len(t) <= 31 for t in titles)


def test_vietnamese_workbook_has_vietnamese_headers() -> None:
    sheets = open_book(commune_digest(), "vi")
    assert [c.value for c in sheets["Tổng hợp"][3]][:5] == [
        "Địa bàn", "Chỉ số", "Hoàn thành", "Trên tổng số", "Tỷ lệ"]
    assert "Hộ dùng được VNeID" in [c.value for c in sheets["Thôn xóm"][1]]


def test_activations_and_questions_sheets_list_the_period_records() -> None:
    sheets = open_book(commune_digest())
    [activation] = table(sheets["Activations"])
    assert activation["Date and time"] == datetime(2026, 11, 18, 8, 0)
    assert activation["Hamlet"] == "Xóm Kim Tân" and activation["Household code"] == "KT-007"
    assert (activation["Level-2 registered"], activation["Activated"]) == (2, 1)
    assert activation["Someone can use VNeID"] == "Yes"
    [question] = table(sheets["Citizens' questions"])
    assert question["Asked on"] == datetime(2026, 11, 18, 14, 15)
    assert question["Hamlet"] == "Xóm Đông Hưng"
    assert question["Question"] == "Làm sao nộp hồ sơ khai sinh trực tuyến?"
    assert question["Answered on"] is None
    # A petition still open past its time limit at the cut-off is marked so.
    [petition] = table(sheets["Petitions"])
    assert (petition["Number"], petition["Hamlet"], petition["Status"]) == (
        "PA-2026-000007", "Xóm Kim Tân", "being handled")
    assert petition["Time limit"] == datetime(2026, 11, 16)
    assert petition["Past the time limit"] == "Yes"


def test_hamlet_rows_hold_the_digest_figures_as_numbers() -> None:
    digest = commune_digest()
    sheet = open_book(digest)["Hamlets"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:U5"
    assert all(cell.font.bold for cell in sheet[1])
    rows = {row["Hamlet code"]: row for row in table(sheet)}
    assert list(rows) == ["KT", "DH", "YB", "NT"]
    for line in digest.communes[0].hamlets:
        row = rows[line.code]
        assert row["Commune"] == "Xã Hưng Đông" and row["Hamlet"] == line.name
        assert row["Households"] == line.households
        assert row["Households able to use VNeID"] == line.capable.done
        assert row["Share able"] == pytest.approx(line.capable.share)
        assert row["Target (able)"] == pytest.approx(0.8)
        assert row["Gap (able)"] == line.capable.gap
        assert row["Eligible citizens"] == line.level2.whole
        assert row["Level-2 registered"] == line.level2.done
        assert row["Level-2 share"] == pytest.approx(line.level2.share)
        assert row["Level-2 gap"] == line.level2.gap
        assert row["Activated"] == line.activation.done
        assert row["Activation share"] == pytest.approx(line.activation.share)
        assert row["Activation gap"] == line.activation.gap
        assert row["Visits"] == line.visits
        assert row["Visits, previous period"] == line.visits_before
        assert row["Change in visits"] == line.visits_change
        assert row["Activation entries this period"] == line.logged.activation_records
    assert rows["DH"]["Gap (able)"] == 84  # 80% of 268 is 214.4, so 215 - 131
    assert isinstance(rows["KT"]["Households"], int)
    share = sheet.cell(2, header_cells(sheet)["Share able"])
    assert share.number_format == "0.0%"


def test_visits_sheet_has_one_row_per_visit_in_local_time() -> None:
    rows = table(open_book(commune_digest())["Visits"])
    assert len(rows) == 2
    first, second = rows
    assert first["Date and time"] == datetime(2026, 11, 17, 9, 30)  # 02:30 UTC in Vietnam
    assert isinstance(first["Date and time"], datetime)
    assert first["Hamlet"] == "Xóm Kim Tân" and first["Household code"] == "KT-012"
    assert first["Head of household"] == "Nguyễn Văn An"
    assert first["Topics"] == "Install VNeID, Activate the account"
    assert first["Outcome"] == "Done" and first["Follow-up on"] is None
    assert first["Volunteer"] == "Trần Thị Lan"
    assert second["Date and time"] == datetime(2026, 11, 19, 17, 5)
    assert second["Outcome"] == "Follow up"
    assert second["Follow-up on"] == datetime(2026, 11, 24)


def test_follow_ups_sheet_lists_waiting_households() -> None:
    rows = table(open_book(commune_digest())["Follow-ups"])
    assert [(r["Household code"], r["Head of household"], r["Hamlet"]) for r in rows] == [
        ("DH-040", "Lê Thị Hoa", "Xóm Đông Hưng")]
    assert rows[0]["Follow-up on"] == datetime(2026, 11, 24)


def summary(sheet: Worksheet) -> dict[tuple[object, object], dict[str, object]]:
    """The summary's table keyed by (area, indicator)."""
    return {(row["Area"], row["Indicator"]): row for row in table(sheet, header_row=3)}


def test_summary_gives_period_cut_off_and_every_measure_against_its_target() -> None:
    sheet = open_book(commune_digest())["Summary"]
    period = [cell.value for cell in sheet[2]][:6]
    assert period == ["Period from", datetime(2026, 11, 16), "Period to",
                      datetime(2026, 11, 22), "Figures as of", datetime(2026, 11, 20, 10, 0)]
    rows = summary(sheet)
    capable = rows[("Xã Hưng Đông", "Households able to use VNeID")]
    assert (capable["Done"], capable["Of"], capable["Target"]) == (815, 1175, 0.8)
    assert capable["Share"] == pytest.approx(815 / 1175)
    assert capable["Still needed"] == 940 - 815 and capable["Target reached"] == "No"
    assert sheet.cell(4, 5).number_format == "0.0%"
    activation = rows[("Xã Hưng Đông", "Level-2 accounts activated")]
    assert activation["Done"] == 455 + 230 + 802 + 61
    visits = rows[("Xã Hưng Đông", "Guidance visits, of the aim")]
    assert (visits["Done"], visits["Of"]) == (13, 20)
    campaign = rows[("Xã Hưng Đông", "Campaign: level-2 e-ID registered")]
    assert campaign["Done"] == 2393 and "41 days left" in str(campaign["Note"])
    online = rows[("Xã Hưng Đông", "Dossiers submitted online")]
    assert (online["Done"], online["Of"], online["Share"]) == (45, 60, 0.75)
    assert online["Target reached"] == "No"
    on_time = rows[("Xã Hưng Đông", "Dossiers settled on time")]
    assert on_time["Done"] is None and on_time["Target"] == 0.95
    assert str(on_time["Note"]).startswith("not entered")


def test_answer_ratings_are_their_own_figure_not_the_plans_satisfaction() -> None:
    rows = summary(open_book(commune_digest())["Summary"])
    ratings = rows[("Xã Hưng Đông", "Ratings of the assistant's answers (helpful)")]
    assert (ratings["Done"], ratings["Of"], ratings["Target"]) == (7, 9, None)
    assert "not the plan's satisfaction indicator" in str(ratings["Note"])
    assert not any("satisfaction" in str(indicator).lower() for _area, indicator in rows)


def test_province_summary_lists_each_commune_and_the_province_total() -> None:
    digest = province_digest()
    sheets = open_book(digest)
    rows = summary(sheets["Summary"])
    assert {"Xã Hưng Đông", "Phường Trường Vinh", "Tỉnh Nghệ An"} <= {a for a, _i in rows}
    province = rows[("Tỉnh Nghệ An", "Households able to use VNeID")]
    assert digest.province_total is not None
    assert province["Of"] == digest.province_total.households == 1175 + 1130
    assert province["Share"] == pytest.approx(digest.province_total.capable.share)
    assert len(table(sheets["Hamlets"])) == 6


def test_workbook_is_the_same_every_time() -> None:
    with use_language("en"):
        data = render_workbook(province_digest())
        assert render_workbook(province_digest()) == data
    # Dated by the figures' cut-off, not by when the file was written.
    properties = load_workbook(io.BytesIO(data)).properties
    assert properties.created == datetime(2026, 11, 20, 3, 0)


def test_cut_off_a_microsecond_past_the_hour_shows_to_the_second() -> None:
    digest = commune_digest()
    digest.cut_at = CUT_AT.replace(microsecond=1)
    with use_language("en"):
        data = render_workbook(digest)
    book = load_workbook(io.BytesIO(data))
    assert book["Summary"]["F2"].value == datetime(2026, 11, 20, 10, 0)
    assert book.properties.created == datetime(2026, 11, 20, 3, 0)


def test_a_measure_with_nothing_to_count_is_not_reported_as_met() -> None:
    # A hamlet where nobody has registered for level 2 has no account to activate: "0/0, target
    # reached" would tell the volunteer there is nothing left to do.
    empty, done = Indicator(0, 0, 0.9), Indicator(9, 10, 0.9)
    assert not empty.reached and done.reached
    with use_language("vi"):
        assert figure_text(empty) == "0/0 (–) — chỉ tiêu 90%, chưa có gì để tính"
        assert "đạt chỉ tiêu" in figure_text(done)
    with use_language("en"):
        assert figure_text(empty) == "0/0 (–) — target 90%, nothing to count yet"
