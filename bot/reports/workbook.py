"""The digest as an Excel workbook an officer can forward as it is.

Sheets: a summary (every measure against its target), every hamlet, and the period's records —
activations, visits, households waiting for a follow-up, citizens' questions. Every sheet has a
frozen bold header, numbers are numbers with their formats, headers are in the reader's language.
XlsxWriter in constant-memory mode writes each row as it comes: a province's records are streamed
from the database into the file, never gathered in memory (the same cells took openpyxl about
three times as long). It is imported when a workbook is written, not when the bot starts.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from bot.i18n import N_, _
from bot.measures import Indicator
from bot.models import Outcome
from bot.reports.digest import CampaignPace, CommuneDigest, Digest, HamletLine, OfficeLine
from bot.reports.periods import key_label
from bot.reports.text import period_title
from bot.services.feedback import STATUS_LABELS
from bot.services.records import TOPICS

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

# Number formats; dates day first, as written in Vietnam whatever the language of the labels.
INT = "#,##0"
PERCENT = "0.0%"
SIGNED = "+#,##0;-#,##0;0"
DATE = "dd/mm/yyyy"
DATETIME = "dd/mm/yyyy hh:mm"
TEXT = ""
# Column widths (characters) by kind of value; a header wraps rather than widening a column.
WIDTHS = {INT: 10, PERCENT: 9, SIGNED: 9, DATE: 11, DATETIME: 16, TEXT: 14}
MAX_HEADER_WIDTH = 16
OUTCOMES: dict[str, str] = {Outcome.DONE: N_("Done"), Outcome.FOLLOW_UP: N_("Follow up")}


@dataclass(frozen=True)
class Column:
    """A table column: its header (msgid), how to read a row, its number format and width."""

    header: str
    value: Callable[[Any], Any]
    number_format: str = TEXT
    width: int | None = None


# The figures of a hamlet, commune or province line.
LINE_FIGURES: tuple[Column, ...] = (
    Column(N_("Households"), lambda line: line.households, INT),
    Column(N_("Households able to use VNeID"), lambda line: line.capable.done, INT),
    Column(N_("Share able"), lambda line: line.capable.share, PERCENT),
    Column(N_("Target (able)"), lambda line: line.capable.target, PERCENT),
    Column(N_("Gap (able)"), lambda line: line.capable.gap, INT),
    Column(N_("Eligible citizens"), lambda line: line.level2.whole, INT),
    Column(N_("Level-2 registered"), lambda line: line.level2.done, INT),
    Column(N_("Level-2 share"), lambda line: line.level2.share, PERCENT),
    Column(N_("Level-2 target"), lambda line: line.level2.target, PERCENT),
    Column(N_("Level-2 gap"), lambda line: line.level2.gap, INT),
    Column(N_("Activated"), lambda line: line.activation.done, INT),
    Column(N_("Activation share"), lambda line: line.activation.share, PERCENT),
    Column(N_("Activation target"), lambda line: line.activation.target, PERCENT),
    Column(N_("Activation gap"), lambda line: line.activation.gap, INT),
    Column(N_("Visits"), lambda line: line.visits, INT),
    Column(N_("Visits, previous period"), lambda line: line.visits_before, INT),
    Column(N_("Change in visits"), lambda line: line.visits_change, SIGNED),
    Column(N_("Activation entries this period"), lambda line: line.logged.activation_records, INT),
)
HAMLET_COLUMNS: tuple[Column, ...] = (
    Column(N_("Commune"), lambda line: line.commune_name, width=20),
    Column(N_("Hamlet code"), lambda line: line.code),
    Column(N_("Hamlet"), lambda line: line.name, width=22),
    *LINE_FIGURES,
)


# Where a record of the period belongs, for rows of (commune digest, record).
HOUSEHOLD_COLUMNS: tuple[Column, ...] = (
    Column(N_("Commune"), lambda r: r[0].name, width=20),
    Column(N_("Hamlet"), lambda r: _hamlet_name(r[0], r[1].hamlet_code), width=20),
    Column(N_("Household code"), lambda r: r[1].household_code),
    Column(N_("Head of household"), lambda r: r[1].head_name, width=22),
)


@dataclass(frozen=True)
class SummaryRow:
    """One measure of one area against its target."""

    area: str
    indicator: str
    figure: Indicator | None
    note: str = ""
    bold: bool = False
    target: float | None = None  # shown when there is no figure yet


SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column(N_("Area"), lambda row: row.area, width=20),
    Column(N_("Indicator"), lambda row: row.indicator, width=34),
    Column(N_("Done"), lambda row: row.figure.done if row.figure else None, INT),
    Column(N_("Of"), lambda row: row.figure.whole if row.figure else None, INT),
    Column(N_("Share"), lambda row: row.figure.share if row.figure else None, PERCENT),
    Column(N_("Target"), lambda row: row.figure.target if row.figure else row.target, PERCENT),
    Column(N_("Still needed"), lambda row: _gap(row.figure), INT),
    Column(N_("Target reached"), lambda row: _reached(row.figure)),
    Column(N_("Note"), lambda row: row.note, width=40),
)


def render_workbook(digest: Digest) -> bytes:
    """The digest as .xlsx bytes; the same digest always gives the same bytes."""
    from xlsxwriter.workbook import Workbook

    out = io.BytesIO()
    book = Workbook(out, {"constant_memory": True, "strings_to_numbers": False,
                          "strings_to_formulas": False, "strings_to_urls": False})
    stamp = _naive(digest.cut_at, UTC)
    book.set_properties({"title": period_title(digest.period), "created": stamp})
    styles = _Styles(book)
    _summary_sheet(book, styles, digest)
    _table(book, styles, _("Hamlets"), HAMLET_COLUMNS,
           (line for c in digest.communes for line in c.hamlets))
    _record_sheets(book, styles, digest)
    book.close()
    return out.getvalue()


class _Styles:
    """The workbook's cell formats, made once per workbook."""

    def __init__(self, book: Workbook) -> None:
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.header = book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                       "bottom": 1})
        self.label = book.add_format({"bold": True})
        self._book = book
        self._formats: dict[tuple[str, bool], Format] = {}

    def of(self, number_format: str, bold: bool = False) -> Format | None:
        if not number_format and not bold:
            return None
        key = (number_format, bold)
        if key not in self._formats:
            spec: dict[str, Any] = {"bold": bold} if bold else {}
            if number_format:
                spec["num_format"] = number_format
            self._formats[key] = self._book.add_format(spec)
        return self._formats[key]


# -- sheets -----------------------------------------------------------------------------------

def _summary_sheet(book: Workbook, styles: _Styles, digest: Digest) -> None:
    """Title and period on top, then one table: every measure of every area against its
    target, the campaign's pace, the office's indicators and the help desk's ratings."""
    sheet = book.add_worksheet(_sheet_title(_("Summary")))
    names = digest.province_name or ", ".join(c.name for c in digest.communes)
    sheet.write_string(0, 0, _("Progress report: {area}").format(area=names), styles.title)
    period_row = (_("Period from"), digest.period.start, _("Period to"), digest.period.last_day,
                  _("Figures as of"), _local_naive(digest.cut_at, digest))
    for col, value in enumerate(period_row):
        if isinstance(value, str):
            sheet.write_string(1, col, value, styles.label)
        else:
            sheet.write_datetime(1, col, value, styles.of(DATETIME if col == 5 else DATE))
    _write_rows(sheet, styles, SUMMARY_COLUMNS, _summary_rows(digest), first_row=2)


def _summary_rows(digest: Digest) -> Iterator[SummaryRow]:
    areas = [(c.total, c) for c in digest.communes]
    for line, commune in areas:
        yield from _line_rows(line)
        if commune.campaign is not None:
            yield from _campaign_rows(commune.name, commune.campaign)
        yield from _office_rows(commune.name, commune.office, commune.office_period)
        if commune.answer_ratings is not None:
            yield SummaryRow(commune.name, _("Ratings of the assistant's answers (helpful)"),
                             commune.answer_ratings,
                             _("Citizens' ratings of the help desk; not the plan's "
                               "satisfaction indicator"))
    if digest.province_total is not None:
        yield from _line_rows(digest.province_total, bold=True)


def _line_rows(line: HamletLine, bold: bool = False) -> Iterator[SummaryRow]:
    yield SummaryRow(line.name, _("Households able to use VNeID"), line.capable, bold=bold)
    yield SummaryRow(line.name, _("Level-2 e-ID registered"), line.level2, bold=bold)
    yield SummaryRow(line.name, _("Level-2 accounts activated"), line.activation, bold=bold)
    aim = Indicator(line.visits, line.visits_target, 1.0) if line.visits_target else None
    yield SummaryRow(line.name, _("Guidance visits, of the aim"), aim,
                     _("{n} visits, previous period {before}").format(
                         n=line.visits, before=line.visits_before), bold=bold)


def _campaign_rows(area: str, pace: CampaignPace) -> Iterator[SummaryRow]:
    days = _("{name}: {n} days left, until {end}").format(
        name=pace.name, n=pace.days_left, end=pace.end.strftime("%d/%m/%Y"))
    yield SummaryRow(area, _("Campaign: level-2 e-ID registered"), pace.level2,
                     days + "; " + _("{n} a day needed").format(n=pace.level2_per_day))
    yield SummaryRow(area, _("Campaign: level-2 accounts activated"), pace.activation,
                     days + "; " + _("{n} a day needed").format(n=pace.activation_per_day))


def _office_rows(area: str, office: Sequence[OfficeLine], period: str) -> Iterator[SummaryRow]:
    for line in office:
        entered = _("entered by the office for {period}").format(period=key_label(period))
        figure = line.as_indicator
        if figure is None:
            yield SummaryRow(area, _(line.label), None,
                             _("not entered") + f" ({key_label(period)})", target=line.target)
        else:
            yield SummaryRow(area, _(line.label), figure, entered)


def _record_sheets(book: Workbook, styles: _Styles, digest: Digest) -> None:
    """The period's records, streamed commune by commune."""
    rows = digest.rows
    communes = digest.communes

    def each(source: Callable[[str], Iterable[Any]]) -> Iterator[tuple[CommuneDigest, Any]]:
        for commune in communes:
            for row in source(commune.code):
                yield commune, row

    local = lambda moment: _local_naive(moment, digest)  # noqa: E731
    _table(book, styles, _("Activations"), (
        Column(N_("Date and time"), lambda r: local(r[1].recorded_at), DATETIME),
        *HOUSEHOLD_COLUMNS,
        Column(N_("Level-2 registered"), lambda r: r[1].level2_registered, INT),
        Column(N_("Activated"), lambda r: r[1].activated, INT),
        Column(N_("Someone can use VNeID"), lambda r: _yes_no(r[1].household_capable)),
        Column(N_("Volunteer"), lambda r: r[1].member_name, width=20),
    ), each(rows.activations))
    _table(book, styles, _("Visits"), (
        Column(N_("Date and time"), lambda r: local(r[1].recorded_at), DATETIME),
        *HOUSEHOLD_COLUMNS,
        Column(N_("Topics"), lambda r: _topics(r[1].topics), width=36),
        Column(N_("Outcome"), lambda r: _outcome(r[1].outcome)),
        Column(N_("Follow-up on"), lambda r: r[1].follow_up_on, DATE),
        Column(N_("Volunteer"), lambda r: r[1].member_name, width=20),
    ), each(rows.visits))
    _table(book, styles, _("Follow-ups"), (
        Column(N_("Follow-up on"), lambda r: r[1].follow_up_on, DATE),
        *HOUSEHOLD_COLUMNS,
        Column(N_("Topics"), lambda r: _topics(r[1].topics), width=36),
        Column(N_("Volunteer"), lambda r: r[1].member_name, width=20),
    ), each(rows.follow_ups))
    _table(book, styles, _("Citizens' questions"), (
        Column(N_("Asked on"), lambda r: local(r[1].created_at), DATETIME),
        *HOUSEHOLD_COLUMNS[:2],
        Column(N_("Question"), lambda r: r[1].text, width=60),
        Column(N_("Answered on"), lambda r: r[1].answered_at and local(r[1].answered_at),
               DATETIME),
    ), each(rows.questions))
    today = local(digest.cut_at).date()
    _table(book, styles, _("Petitions"), (
        Column(N_("Number"), lambda r: r[1].ref, width=16),
        Column(N_("Received on"), lambda r: local(r[1].created_at), DATETIME),
        Column(N_("Commune"), lambda r: r[0].name, width=20),
        Column(N_("Hamlet"), lambda r: _hamlet_name(r[0], r[1].hamlet_code), width=20),
        Column(N_("Petition"), lambda r: r[1].text, width=60),
        Column(N_("Status"), lambda r: _(STATUS_LABELS[r[1].status]), width=24),
        Column(N_("Time limit"), lambda r: r[1].due_on, DATE),
        Column(N_("Past the time limit"), lambda r: _yes_no(
            r[1].closed_at is None and r[1].due_on < today)),
        Column(N_("Answered on"), lambda r: r[1].answered_at and local(r[1].answered_at),
               DATETIME),
        Column(N_("Closed on"), lambda r: r[1].closed_at and local(r[1].closed_at), DATETIME),
    ), each(rows.petitions))


# -- cells ------------------------------------------------------------------------------------

def _table(book: Workbook, styles: _Styles, title: str, columns: Sequence[Column],
           rows: Iterable[Any]) -> None:
    """A sheet holding one table from A1."""
    _write_rows(book.add_worksheet(_sheet_title(title)), styles, columns, rows, first_row=0)


def _write_rows(sheet: Worksheet, styles: _Styles, columns: Sequence[Column],
                rows: Iterable[Any], first_row: int) -> None:
    """Header at `first_row`, frozen with the rows above it, then one row per item, with an
    auto filter over the table."""
    for col, column in enumerate(columns):
        header = _(column.header)
        width = column.width or max(WIDTHS[column.number_format],
                                    min(MAX_HEADER_WIDTH, len(header)),
                                    max(len(word) for word in header.split()))
        sheet.set_column(col, col, width + 2)
        sheet.write_string(first_row, col, header, styles.header)
    sheet.freeze_panes(first_row + 1, 0)
    # Each column's writer and formats chosen once: a province's sheets have 200,000 cells.
    plan = [(col, column.value, _writer(sheet, column.number_format),
             styles.of(column.number_format), styles.of(column.number_format, bold=True))
            for col, column in enumerate(columns)]
    row_index = first_row
    for row_index, item in enumerate(rows, start=first_row + 1):  # noqa: B007
        bold = bool(getattr(item, "bold", False))
        for col, value_of, write, style, bold_style in plan:
            value = value_of(item)
            if value is not None and value != "":
                write(row_index, col, value, bold_style if bold else style)
            elif bold:
                sheet.write_blank(row_index, col, None, bold_style)
    sheet.autofilter(first_row, 0, max(row_index, first_row), len(columns) - 1)


def _writer(sheet: Worksheet, number_format: str) -> Callable[[int, int, Any, Any], Any]:
    """How a column's values are written: numbers, dates or text (yes/no for booleans)."""
    if number_format in (DATE, DATETIME):
        return sheet.write_datetime
    if number_format:
        return sheet.write_number
    return lambda row, col, value, style: sheet.write_string(
        row, col, _yes_no(value) if isinstance(value, bool) else str(value), style)


def _sheet_title(title: str) -> str:
    """Excel refuses titles over 31 characters or with []:*?/\\ in them."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)
    return cleaned[:31]


# -- values -----------------------------------------------------------------------------------

def _gap(figure: Indicator | None) -> int | None:
    return figure.gap if figure is not None and figure.target is not None and figure.whole \
        else None


def _reached(figure: Indicator | None) -> str | None:
    if figure is None or figure.target is None or not figure.whole:
        return None
    return _yes_no(figure.reached)


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _hamlet_name(commune: CommuneDigest, code: str | None) -> str:
    if code is None:
        return ""
    return next((line.name for line in commune.hamlets if line.code == code), code)


def _topics(codes: Sequence[str]) -> str:
    return ", ".join(_(TOPICS[code]) if code in TOPICS else code for code in codes)


def _outcome(code: str) -> str:
    return _(OUTCOMES[code]) if code in OUTCOMES else code


def _local_naive(moment: datetime, digest: Digest) -> datetime:
    """Excel has no time zones: the commune's wall-clock time."""
    return _naive(moment, digest.period.tz)


def _naive(moment: datetime, zone: tzinfo) -> datetime:
    """Wall-clock time in `zone`, to the second (the cut-off is a microsecond past the hour)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).replace(tzinfo=None, microsecond=0)
