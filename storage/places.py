"""SQL of the places: communes (with their province) and hamlets, imported in bulk, and read
back whole by each worker at start and whenever their version moved."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.engine import Database, Statement

# Read with each update's first trip (Repositories.open_update): one row of one table.
VERSION_QUERY: Statement = ("SELECT version FROM places_version", ())


@dataclass(frozen=True)
class PlaceRow:
    """One hamlet of the list of units, with its commune and province."""

    province_code: str
    province: str
    commune_code: str
    commune: str
    hamlet_code: str
    hamlet: str
    households: int
    eligible_citizens: int


@dataclass(frozen=True)
class StoredCommune:
    code: str
    name: str
    timezone: str
    language: str


@dataclass(frozen=True)
class StoredHamlet:
    code: str
    commune_code: str
    name: str
    households: int
    eligible_citizens: int
    level2_baseline: int
    activated_baseline: int


class PlacesRepository:
    """Bulk upserts of the list of units, their version, and every place for a worker."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def version(self) -> int:
        """The places' version: it moves with every import."""
        row = await self.db.fetchone(*VERSION_QUERY)
        return int(row[0]) if row else 0

    async def count(self) -> tuple[int, int]:
        """(communes, hamlets) stored."""
        communes = await self.db.fetchone("SELECT COUNT(*) FROM communes")
        hamlets = await self.db.fetchone("SELECT COUNT(*) FROM hamlets")
        return int(communes[0]) if communes else 0, int(hamlets[0]) if hamlets else 0

    async def sync_configured(self, communes: Iterable[dict[str, Any]],
                              hamlets: Iterable[dict[str, Any]]) -> None:
        """Insert or update the communes and hamlets the configuration lists."""
        async with self.db.transaction():
            await self.db.executemany(
                "INSERT INTO communes (code, name, timezone, language) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(code) DO UPDATE SET name=excluded.name,"
                " timezone=excluded.timezone, language=excluded.language",
                [(c["code"], c["name"], c["timezone"], c["language"]) for c in communes])
            await self.db.executemany(
                "INSERT INTO hamlets (code, commune_code, name, households, eligible_citizens,"
                " level2_baseline, activated_baseline) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(code) DO UPDATE SET commune_code=excluded.commune_code,"
                " name=excluded.name, households=excluded.households,"
                " eligible_citizens=excluded.eligible_citizens,"
                " level2_baseline=excluded.level2_baseline,"
                " activated_baseline=excluded.activated_baseline",
                [(h["code"], h["commune_code"], h["name"], h["households"],
                  h["eligible_citizens"], h["level2_baseline"], h["activated_baseline"])
                 for h in hamlets])

    async def upsert(self, rows: Sequence[PlaceRow], timezone: str, language: str) -> None:
        """Insert or update every commune and hamlet of `rows`, and move the places' version
        so running workers reload them (call inside a transaction). A commune's time zone and
        language are set for new communes only: a deployment may have changed them in its
        configuration."""
        await self.db.execute("UPDATE places_version SET version = version + 1")
        communes = {r.commune_code: r for r in rows}
        await self.db.executemany(
            "INSERT INTO communes (code, name, timezone, language, province_code, province)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
            " province_code = excluded.province_code, province = excluded.province",
            [(r.commune_code, r.commune, timezone, language, r.province_code, r.province)
             for r in communes.values()])
        await self.db.executemany(
            "INSERT INTO hamlets (code, commune_code, name, households, eligible_citizens)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET"
            " commune_code = excluded.commune_code, name = excluded.name,"
            " households = excluded.households, eligible_citizens = excluded.eligible_citizens",
            [(r.hamlet_code, r.commune_code, r.hamlet, r.households, r.eligible_citizens)
             for r in rows])

    async def imported(self) -> tuple[list[StoredCommune], list[StoredHamlet]]:
        """Every commune that came from the list of units (it has a province; those only in
        the configuration have none) and its hamlets, in code order."""
        communes = await self.db.fetchall(
            "SELECT code, name, timezone, language FROM communes WHERE province IS NOT NULL"
            " ORDER BY code")
        hamlets = await self.db.fetchall(
            "SELECT h.code, h.commune_code, h.name, h.households, h.eligible_citizens,"
            " h.level2_baseline, h.activated_baseline FROM hamlets h JOIN communes c"
            " ON c.code = h.commune_code WHERE c.province IS NOT NULL"
            " ORDER BY h.commune_code, h.code")
        return ([StoredCommune(r[0], r[1], r[2], r[3]) for r in communes],
                [StoredHamlet(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6]))
                 for r in hamlets])
