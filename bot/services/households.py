"""Finding, adding and importing households, with likely duplicates flagged."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.clock import Clock
from bot.errors import Refusal
from bot.i18n import _
from bot.live_settings import LiveSettings, ReadsLiveSettings
from bot.models import Household, Member
from bot.services.names import has_diacritics, matches
from bot.services.parsers import looks_like_command
from bot.textnorm import contains_citizen_id, fold, parse_int
from storage.repositories import Repositories

MAX_HOUSEHOLD_MEMBERS = 30
MAX_NAME_LENGTH = 80
REQUIRED_COLUMNS = ("code", "hamlet", "head_name")


def tidy_name(text: str) -> str:
    """Collapse spaces and capitalise each word the way names are written."""
    return " ".join(word[:1].upper() + word[1:] for word in text.split())


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


class HouseholdService(ReadsLiveSettings):
    """Rules about households: who may see them, how they are found and added."""

    def __init__(self, repos: Repositories, settings: LiveSettings, clock: Clock) -> None:
        self.repos = repos
        self.live = settings
        self.clock = clock

    def visible_hamlets(self, member: Member) -> list[str]:
        """Volunteers see their hamlet; officers every hamlet of their commune."""
        if member.hamlet_code and member.role == "volunteer":
            return [member.hamlet_code]
        return [h.code for h in self.settings.commune(member.commune_code).hamlets]

    async def get_visible(self, member: Member, household_id: int) -> Household | None:
        """A household by id, only if the member may see it."""
        household = await self.repos.households.household(household_id)
        if household is None or household.hamlet_code not in self.visible_hamlets(member):
            return None
        return household

    async def search(self, member: Member, query: str, limit: int = 6
                     ) -> tuple[list[Household], bool]:
        """Households of the member's hamlets matching a code or name, best first.

        The flag tells whether the matches are exact (code, or every typed word starting a
        word of the name) rather than fuzzy guesses that need a look.
        """
        folded = fold(query)
        if not folded:
            return [], False
        hamlets = self.visible_hamlets(member)
        by_code = await self.repos.households.household_by_code(folded.replace(" ", ""))
        if by_code is not None and by_code.hamlet_code in hamlets:
            return [by_code], True
        # Rank more than shown: matching the typed diacritics below may drop some.
        ids, exact = rank_households(await self.repos.households.household_names(hamlets), folded,
                                     limit * 5)
        found = [h for h in [await self.repos.households.household(i) for i in ids] if h is not None]
        if exact and has_diacritics(query):
            # "Lê Thị Hòa" is not "Lê Thị Hoa": only names with the typed diacritics are exact;
            # the others are shown to look at, never picked on their own.
            accented = [h for h in found if matches(query, h.head_name)]
            return (accented or found)[:limit], bool(accented)
        return found[:limit], exact

    async def likely_duplicates(self, hamlet_code: str, head_name: str) -> list[Household]:
        """Households of the hamlet whose head may be this person: every word of the name in
        theirs (diacritics aside, "Long" finds every Long), or (almost) the same name."""
        folded = fold(head_name)
        words = set(folded.split())
        households = await self.repos.households.households_in([hamlet_code])
        return [h for h in households
                if words <= set(fold(h.head_name).split())
                or fuzz.token_sort_ratio(fold(h.head_name), folded) >= 90]

    async def add(self, member: Member, hamlet_code: str, head_name: str,
                  members: int | None = None) -> Household:
        """Add a household found on the spot; the code is made from the hamlet's code."""
        name = check_head_name(head_name)
        if hamlet_code not in self.visible_hamlets(member):
            raise Refusal(_("You can only add households in your own hamlet."))
        existing = await self.repos.households.household_codes_like(f"{hamlet_code}-M")
        number = 1 + max((n for c in existing if (n := parse_int(c.rsplit("M", 1)[1]))),
                          default=0)
        now = self.clock()
        async with self.repos.db.transaction():
            household = await self.repos.households.add_household(
                code=f"{hamlet_code}-M{number:03d}", hamlet_code=hamlet_code, head_name=name,
                head_name_folded=fold(name), members=members, address=None, source="chat",
                created_by=member.id, at=now)
            await self.repos.audit(member_id=member.id, action="create", entity="household",
                                   entity_id=household.id,
                                   details={"code": household.code, "head_name": name}, at=now)
        return household

    async def remove_added(self, member: Member, household_id: int
                           ) -> tuple[Household | None, bool]:
        """Take back a household this member added on the spot, when no entry uses it yet:
        (the household, whether it was removed)."""
        household = await self.get_visible(member, household_id)
        if household is None:
            return None, False
        now = self.clock()
        async with self.repos.db.transaction():
            if not await self.repos.households.delete_added_household(household_id, member.id):
                return household, False
            await self.repos.audit(member_id=member.id, action="delete", entity="household",
                                   entity_id=household_id,
                                   details={"code": household.code, "reason": "cancelled"},
                                   at=now)
        return household, True

    async def import_rows(self, rows: Iterable[dict[str, str]], *, source: str = "import",
                          progress: Callable[[int], None] | None = None) -> ImportReport:
        """Add or update households from CSV rows (keyed by code); bad rows are reported."""
        report = ImportReport()
        seen: set[str] = set()
        now = self.clock()
        async with self.repos.db.transaction():
            for line, row in enumerate(rows, start=2):
                if progress:
                    progress(1)
                try:
                    code, hamlet_code, name, members, address = self._check_row(row, seen)
                except Refusal as refusal:
                    report.rejected.append(RejectedRow(line, str(refusal)))
                    continue
                seen.add(code.lower())
                current = await self.repos.households.household_by_code(code)
                if current is None:
                    household = await self.repos.households.add_household(
                        code=code, hamlet_code=hamlet_code, head_name=name,
                        head_name_folded=fold(name), members=members, address=address,
                        source=source, created_by=None, at=now)
                    await self.repos.audit(member_id=None, action="import", entity="household",
                                           entity_id=household.id, details={"code": code},
                                           at=now)
                    report.added += 1
                elif current.hamlet_code != hamlet_code:
                    report.rejected.append(RejectedRow(line, _(
                        "code {code} already belongs to hamlet {hamlet}").format(
                            code=code, hamlet=current.hamlet_code)))
                elif (current.head_name, current.members, current.address) == (
                        name, members, address):
                    report.unchanged += 1
                else:
                    await self.repos.households.update_household(
                        current.id, head_name=name, head_name_folded=fold(name),
                        members=members, address=address)
                    await self.repos.audit(member_id=None, action="update", entity="household",
                                           entity_id=current.id,
                                           details={"head_name": name, "members": members},
                                           at=now)
                    report.updated += 1
        return report

    def _check_row(self, row: dict[str, str], seen: set[str]
                   ) -> tuple[str, str, str, int | None, str | None]:
        values = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if any(contains_citizen_id(v) for v in values.values()):
            raise Refusal(_("contains a citizen ID number; such numbers are not stored"))
        code = values.get("code", "")
        if not code:
            raise Refusal(_("missing household code"))
        if len(code) > 32 or not all(ch.isalnum() or ch in "-_." for ch in code):
            raise Refusal(_("household code {code!r} has characters other than letters, digits,"
                            " '-', '_' or '.'").format(code=code))
        if code.lower() in seen:
            raise Refusal(_("household code {code} appears twice in the file").format(code=code))
        found = self.settings.hamlet(values.get("hamlet", ""))
        if found is None:
            raise Refusal(_("unknown hamlet code {hamlet!r}").format(
                hamlet=values.get("hamlet", "")))
        name = check_head_name(values.get("head_name", ""))
        members = None
        if values.get("members"):
            members = parse_int(values["members"])
            if members is None or not 0 < members <= MAX_HOUSEHOLD_MEMBERS:
                raise Refusal(_("number of members must be a whole number from 1 to {max}")
                              .format(max=MAX_HOUSEHOLD_MEMBERS))
        return code, found[1].code, name, members, values.get("address") or None


def check_head_name(text: str) -> str:
    """A readable head-of-household name, or a Refusal saying what is wrong."""
    name = tidy_name(text)
    if contains_citizen_id(name):
        raise Refusal(_("contains a citizen ID number; such numbers are not stored"))
    if not name:
        raise Refusal(_("missing the head of household's name"))
    if len(name) > MAX_NAME_LENGTH:
        raise Refusal(_("the name is longer than {max} characters").format(max=MAX_NAME_LENGTH))
    if not any(ch.isalpha() for ch in name):
        raise Refusal(_("a name needs letters"))
    if any(ch.isdigit() for ch in name):  # "X01-005" is a code that was not found, "12" a slip
        raise Refusal(_("a name has no digits"))
    if looks_like_command(name):
        raise Refusal(_("“{name}” looks like a command, not a name").format(name=text.strip()))
    return name


def rank_households(index: Sequence[tuple[int, str, str]], folded_query: str,
                    limit: int) -> tuple[list[int], bool]:
    """Household ids ranked by name: every typed word starting a word of the name first
    (exact), else fuzzy matches; the flag says which."""
    words = folded_query.split()
    exact = [household_id for household_id, _code, name in sorted(index, key=lambda e: e[2])
             if all(any(nw.startswith(w) for nw in name.split()) for w in words)]
    if exact:
        return exact[:limit], True
    names = {household_id: name for household_id, _code, name in index}
    fuzzy = process.extract(folded_query, names, scorer=fuzz.WRatio, limit=limit,
                            score_cutoff=80)
    return [household_id for _name, _score, household_id in fuzzy], False


def read_csv(data: bytes) -> tuple[list[dict[str, str]], list[str]]:
    """Parse a household CSV (UTF-8, with or without BOM; comma or semicolon)."""
    text = data.decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    return list(reader), missing

