"""The country's administrative units from a CSV: checked and imported in bulk (each worker
then adds them to the deployment's settings: bot/live_settings.py).

The file is the official list of units after the 2025 merger (two levels: province, commune),
with each commune's hamlets (thôn, xóm, tổ dân phố) and the two figures the plan's targets are
measured against. Columns, in English or as the list prints them (diacritics optional):

    province_code  (Mã tỉnh)    province  (Tên tỉnh)
    commune_code   (Mã xã)      commune   (Tên xã)
    hamlet_code    (Mã thôn)    hamlet    (Tên thôn)
    households     (Số hộ)      eligible_citizens  (Số dân đủ tuổi)

Hamlet codes must be unique in the country: prefix the commune's code (`26734-01`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from bot.errors import Refusal
from bot.i18n import _
from bot.services.households import RejectedRow
from bot.textnorm import fold, parse_int
from storage.engine import Database
from storage.places import PlaceRow, PlacesRepository

COLUMNS: dict[str, tuple[str, ...]] = {
    "province_code": ("province_code", "ma tinh"),
    "province": ("province", "province_name", "ten tinh", "tinh"),
    "commune_code": ("commune_code", "ma xa"),
    "commune": ("commune", "commune_name", "ten xa", "xa"),
    "hamlet_code": ("hamlet_code", "ma thon"),
    "hamlet": ("hamlet", "hamlet_name", "ten thon", "thon"),
    "households": ("households", "so ho"),
    "eligible_citizens": ("eligible_citizens", "so dan du tuoi"),
}
_ALIASES = {alias: column for column, aliases in COLUMNS.items() for alias in aliases}
# Every unit of the list is in Vietnam: one zone for all (the scheduler always plans it).
IMPORTED_TIMEZONE = "Asia/Ho_Chi_Minh"
_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass
class PlacesReport:
    communes: int = 0
    hamlets: int = 0
    new_communes: int = 0
    new_hamlets: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


def read_places_csv(data: bytes) -> tuple[list[dict[str, str]], list[str]]:
    """Rows keyed by our column names (UTF-8, with or without BOM; comma, semicolon or tab),
    and the columns missing from the header."""
    text = data.decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    reader = csv.reader(io.StringIO(text), dialect=dialect)
    header = [_ALIASES.get(fold(name), fold(name)) for name in next(reader, [])]
    missing = [column for column in COLUMNS if column not in header]
    return [dict(zip(header, row, strict=False)) for row in reader if any(row)], missing


def _code(value: str, problem: str) -> str:
    if not value or len(value) > 16 or not set(value) <= _CODE_CHARS:
        raise Refusal(problem.format(code=value))
    return value


def _count(value: str, problem: str) -> int:
    number = parse_int(value)
    if number is None or number <= 0:
        raise Refusal(problem)
    return number


def check_row(values: dict[str, str]) -> PlaceRow:
    """One row of the list as stored, or a Refusal saying what is wrong with it."""
    values = {key: (value or "").strip() for key, value in values.items()}
    for column, problem in (("province", _("missing the province name")),
                            ("commune", _("missing the commune name")),
                            ("hamlet", _("missing the hamlet name"))):
        if not values.get(column):
            raise Refusal(problem)
    return PlaceRow(
        province_code=values.get("province_code", ""), province=values["province"],
        commune_code=_code(values.get("commune_code", ""), _(
            "the commune code {code!r} must be 1 to 16 letters, digits, '-' or '_'")),
        commune=values["commune"],
        hamlet_code=_code(values.get("hamlet_code", ""), _(
            "the hamlet code {code!r} must be 1 to 16 letters, digits, '-' or '_'")),
        hamlet=values["hamlet"],
        households=_count(values.get("households", ""), _(
            "the number of households must be a whole number above 0")),
        eligible_citizens=_count(values.get("eligible_citizens", ""), _(
            "the number of eligible citizens must be a whole number above 0")))


async def import_places(db: Database, rows: list[dict[str, str]]) -> PlacesReport:
    """Check every row, then store the good ones in one transaction; importing the same file
    again changes nothing."""
    report = PlacesReport()
    good: dict[str, PlaceRow] = {}
    for line, values in enumerate(rows, start=2):
        try:
            place = check_row(values)
            if place.hamlet_code.lower() in good:
                raise Refusal(_("hamlet code {code} appears twice in the file")
                              .format(code=place.hamlet_code))
        except Refusal as exc:
            report.rejected.append(RejectedRow(line, str(exc)))
            continue
        good[place.hamlet_code.lower()] = place
    store = PlacesRepository(db)
    before = await store.count()
    async with db.transaction():
        await store.upsert(list(good.values()), IMPORTED_TIMEZONE, "vi")
    after = await store.count()
    report.communes = len({p.commune_code for p in good.values()})
    report.hamlets = len(good)
    report.new_communes, report.new_hamlets = after[0] - before[0], after[1] - before[1]
    return report
