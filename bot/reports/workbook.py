"""The digest as an Excel workbook: a summary, every hamlet, every visit, waiting follow-ups."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from bot.i18n import N_, _
from bot.models import Outcome
from bot.reports.digest import CommuneDigest, Digest, OfficeLine
from bot.reports.periods import key_label
from bot.services.records import TOPICS

INT = "#,##0"
PERCENT = "0.0%"
SIGNED = "+#,##0;-#,##0;0"
# Day first, as dates are written in Vietnam whatever the language of the labels.
DATE = "dd/mm/yyyy"
DATETIME = "dd/mm/yyyy hh:mm"
MIN_WIDTH, MAX_WIDTH = 8, 40
# A header wraps onto more lines rather than making a column of numbers this wide.
MAX_HEADER_WIDTH = 16
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
OUTCOMES: dict[str, str] = {Outcome.DONE: N_("Done"), Outcome.FOLLOW_UP: N_("Follow up")}


@dataclass(frozen=True)
class Column:
    """A table column: its header (msgid), how to read a row, and its number format."""

    header: str
    value: Callable[[Any], Any]
    number_format: str | None = None


# The figures of a hamlet, commune or province line, shared by the summary and hamlet sheets.
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
    Column(N_("Commune"), lambda line: line.commune_name),
    Column(N_("Hamlet code"), lambda line: line.code),
    Column(N_("Hamlet"), lambda line: line.name),
    *LINE_FIGURES,
)
TOTAL_COLUMNS: tuple[Column, ...] = (Column(N_("Area"), lambda line: line.name), *LINE_FIGURES)
CAMPAIGN_COLUMNS: tuple[Column, ...] = (
    Column(N_("Commune"), lambda row: row[0]),
    Column(N_("Campaign"), lambda row: row[1].name),
    Column(N_("Ends on"), lambda row: row[1].end, DATE),
    Column(N_("Days left"), lambda row: row[1].days_left, INT),
    Column(N_("Level-2 share"), lambda row: row[1].level2.share, PERCENT),
    Column(N_("Level-2 target"), lambda row: row[1].level2.target, PERCENT),
    Column(N_("Level-2 gap"), lambda row: row[1].level2.gap, INT),
    Column(N_("Level-2 needed per day"), lambda row: row[1].level2_per_day, INT),
    Column(N_("Activation share"), lambda row: row[1].activation.share, PERCENT),
    Column(N_("Activation target"), lambda row: row[1].activation.target, PERCENT),
    Column(N_("Activation gap"), lambda row: row[1].activation.gap, INT),
    Column(N_("Activations needed per day"), lambda row: row[1].activation_per_day, INT),
)
OFFICE_COLUMNS: tuple[Column, ...] = (
    Column(N_("Commune"), lambda row: row[0]),
    Column(N_("Month or quarter"), lambda row: row[1]),
    Column(N_("Indicator"), lambda row: _(row[2].label)),
    Column(N_("Done"), lambda row: _office_done(row[2]), INT),
    Column(N_("Total"), lambda row: row[2].figure.total if row[2].figure else None, INT),
    Column(N_("Share"), lambda row: _office_share(row[2]), PERCENT),
    Column(N_("Target"), lambda row: row[2].target, PERCENT),
    Column(N_("Target reached"), lambda row: _office_reached(row[2])),
)


def render_workbook(digest: Digest) -> bytes:
    """The digest as .xlsx bytes; the same digest always gives the same bytes."""
    book = Workbook()
    _summary_sheet(book.active, digest)
    _hamlet_sheet(book.create_sheet(), digest)
    _visit_sheet(book.create_sheet(), digest)
    _follow_up_sheet(book.create_sheet(), digest)
    stamp = _utc_naive(digest.cut_at)
    book.properties.created = stamp
    book.properties.modified = stamp
    return _save(book, stamp)


# -- sheets -----------------------------------------------------------------------------------

def _summary_sheet(sheet: Worksheet, digest: Digest) -> None:
    """Title, period and cut-off, then totals, campaign pace and office indicators."""
    sheet.title = _sheet_title(_("Summary"))
    names = digest.province_name or ", ".join(c.name for c in digest.communes)
    sheet.append([_("Progress report: {area}").format(area=names)])
    sheet["A1"].font = TITLE
    _append_pair(sheet, _("Period from"), digest.period.start, DATE)
    _append_pair(sheet, _("Period to"), digest.period.last_day, DATE)
    _append_pair(sheet, _("Figures as of"), _local_naive(digest.cut_at, digest), DATETIME)
    totals = [c.total for c in digest.communes]
    if digest.province_total is not None:
        totals.append(digest.province_total)
    _append_section(sheet, _("Totals"), TOTAL_COLUMNS, totals)
    if digest.province_total is not None:
        for cell in sheet[sheet.max_row]:
            cell.font = BOLD
    campaigns = [(c.name, c.campaign) for c in digest.communes if c.campaign is not None]
    if campaigns:
        _append_section(sheet, _("Campaign pace"), CAMPAIGN_COLUMNS, campaigns)
    office = [(c.name, key_label(c.office_period), line) for c in digest.communes
              for line in c.office]
    if office:
        _append_section(sheet, _("Office indicators"), OFFICE_COLUMNS, office)
    # Widths follow the tables, not the long report title above them.
    _fit_widths(sheet, first_row=2)


def _hamlet_sheet(sheet: Worksheet, digest: Digest) -> None:
    sheet.title = _sheet_title(_("Hamlets"))
    lines = [line for commune in digest.communes for line in commune.hamlets]
    _write_table(sheet, HAMLET_COLUMNS, lines)


def _visit_sheet(sheet: Worksheet, digest: Digest) -> None:
    sheet.title = _sheet_title(_("Visits"))
    columns = (
        Column(N_("Date and time"), lambda row: _local_naive(row[1].recorded_at, digest),
               DATETIME),
        Column(N_("Commune"), lambda row: row[0].name),
        Column(N_("Hamlet"), lambda row: _hamlet_name(row[0], row[1].hamlet_code)),
        Column(N_("Household code"), lambda row: row[1].household_code),
        Column(N_("Head of household"), lambda row: row[1].head_name),
        Column(N_("Topics"), lambda row: _topics(row[1].topics)),
        Column(N_("Outcome"), lambda row: _outcome(row[1].outcome)),
        Column(N_("Follow-up on"), lambda row: row[1].follow_up_on, DATE),
        Column(N_("Volunteer"), lambda row: row[1].member_name),
    )
    _write_table(sheet, columns, [(c, v) for c in digest.communes for v in c.visits])


def _follow_up_sheet(sheet: Worksheet, digest: Digest) -> None:
    sheet.title = _sheet_title(_("Follow-ups"))
    columns = (
        Column(N_("Follow-up on"), lambda row: row[1].follow_up_on, DATE),
        Column(N_("Commune"), lambda row: row[0].name),
        Column(N_("Hamlet"), lambda row: _hamlet_name(row[0], row[1].hamlet_code)),
        Column(N_("Household code"), lambda row: row[1].household_code),
        Column(N_("Head of household"), lambda row: row[1].head_name),
        Column(N_("Topics"), lambda row: _topics(row[1].topics)),
        Column(N_("Volunteer"), lambda row: row[1].member_name),
    )
    _write_table(sheet, columns, [(c, f) for c in digest.communes for f in c.follow_ups])


# -- cells ------------------------------------------------------------------------------------

def _write_table(sheet: Worksheet, columns: Sequence[Column], rows: Iterable[Any]) -> None:
    """A table from A1: bold frozen header, auto filter, fitted widths."""
    _append_rows(sheet, columns, rows)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    _fit_widths(sheet, first_row=1)


def _append_section(sheet: Worksheet, title: str, columns: Sequence[Column],
                    rows: Iterable[Any]) -> None:
    """A titled table below what the sheet already holds, one empty row apart."""
    sheet.append([])
    sheet.append([title])
    sheet.cell(sheet.max_row, 1).font = BOLD
    _append_rows(sheet, columns, rows)


def _append_rows(sheet: Worksheet, columns: Sequence[Column], rows: Iterable[Any]) -> None:
    sheet.append([_(column.header) for column in columns])
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    # Rows are counted here: sheet.max_row scans every cell, which made long sheets quadratic.
    for index, row in enumerate(rows, start=header + 1):
        sheet.append([column.value(row) for column in columns])
        for number, column in enumerate(columns, start=1):
            cell = sheet.cell(index, number)
            if column.number_format and not isinstance(cell.value, str | None):
                cell.number_format = column.number_format


def _append_pair(sheet: Worksheet, label: str, value: date | datetime, number_format: str
                 ) -> None:
    sheet.append([label, value])
    sheet.cell(sheet.max_row, 1).font = BOLD
    sheet.cell(sheet.max_row, 2).number_format = number_format


def _fit_widths(sheet: Worksheet, first_row: int) -> None:
    """Widths from the longest value; long headers wrap onto a taller header row instead."""
    header_lines: dict[int, int] = {}
    for cells in sheet.iter_cols(min_row=first_row):
        headers = [c for c in cells if c.value is not None and c.alignment.wrap_text]
        data = [c.value for c in cells if c.value is not None and not c.alignment.wrap_text]
        if not headers and not data:
            continue
        longest_word = max((len(w) for c in headers for w in str(c.value).split()), default=0)
        longest_header = max((len(str(c.value)) for c in headers), default=0)
        width = max(max((len(_shown(v)) for v in data), default=0),
                    min(MAX_HEADER_WIDTH, longest_header), longest_word) + 2
        width = min(MAX_WIDTH, max(MIN_WIDTH, width))
        sheet.column_dimensions[get_column_letter(cells[0].column)].width = width
        for cell in headers:
            lines = math.ceil(len(str(cell.value)) / (width - 2))
            header_lines[cell.row] = max(header_lines.get(cell.row, 1), lines)
    for row, lines in header_lines.items():
        # Excel does not grow rows for wrapped text on its own when a file is opened.
        sheet.row_dimensions[row].height = 15 * lines


def _shown(value: object) -> str:
    """Roughly what a cell displays, to size its column."""
    if isinstance(value, datetime):
        return "00/00/0000 00:00"
    if isinstance(value, date):
        return "00/00/0000"
    if isinstance(value, float):
        return "100.0%"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _sheet_title(title: str) -> str:
    """Excel refuses titles over 31 characters or with []:*?/\\ in them."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)
    return cleaned[:31]


# -- values -----------------------------------------------------------------------------------

def _hamlet_name(commune: CommuneDigest, code: str) -> str:
    return next((line.name for line in commune.hamlets if line.code == code), code)


def _topics(codes: Sequence[str]) -> str:
    return ", ".join(_(TOPICS[code]) if code in TOPICS else code for code in codes)


def _outcome(code: str) -> str:
    return _(OUTCOMES[code]) if code in OUTCOMES else code


def _office_done(line: OfficeLine) -> int | str:
    return line.figure.done if line.figure else _("not entered")


def _office_share(line: OfficeLine) -> float | None:
    indicator = line.as_indicator
    return indicator.share if indicator else None


def _office_reached(line: OfficeLine) -> str | None:
    indicator = line.as_indicator
    if indicator is None or line.target is None:
        return None
    return _("Yes") if indicator.reached else _("No")


def _utc_naive(moment: datetime) -> datetime:
    return _naive(moment, UTC)


def _local_naive(moment: datetime, digest: Digest) -> datetime:
    """Excel has no time zones: the commune's wall-clock time."""
    return _naive(moment, digest.period.tz)


def _naive(moment: datetime, zone: tzinfo) -> datetime:
    """Wall-clock time in `zone`, to the second (the cut-off is a microsecond past the hour)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).replace(tzinfo=None, microsecond=0)


# -- file -------------------------------------------------------------------------------------

def _save(book: Workbook, stamp: datetime) -> bytes:
    """Write without openpyxl's save(), which stamps the file with the current time."""
    raw = io.BytesIO()
    ExcelWriter(book, ZipFile(raw, "w", ZIP_DEFLATED)).save()  # save() closes the zip
    return _restamp(raw.getvalue(), stamp)


def _restamp(data: bytes, stamp: datetime) -> bytes:
    """The same zip with every entry dated `stamp`: entries otherwise carry the time of writing."""
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute,
                 stamp.second)
    out = io.BytesIO()
    with ZipFile(io.BytesIO(data)) as source, ZipFile(out, "w", ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info))
    return out.getvalue()
