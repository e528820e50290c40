"""The households aggregate: the list each hamlet's volunteers search and log against."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.models import Household, HouseholdTotals
from storage.engine import Database, Row, insert_returning_id


def _ts(value: datetime) -> str:
    return value.isoformat()


def _household(row: Row) -> Household:
    return Household(
        id=row["id"], code=row["code"], hamlet_code=row["hamlet_code"],
        head_name=row["head_name"], members=row["members"], address=row["address"],
    )


class HouseholdStore(Protocol):
    """Households by id, code or hamlet; added, corrected, and their totals so far."""

    async def household(self, household_id: int) -> Household | None: ...

    async def household_by_code(self, code: str) -> Household | None: ...

    async def households_in(self, hamlet_codes: Sequence[str]) -> list[Household]: ...

    async def household_names(self, hamlet_codes: Sequence[str]) -> list[tuple[int, str, str]]: ...

    async def add_household(self, *, code: str, hamlet_code: str, head_name: str,
                            head_name_folded: str, members: int | None, address: str | None,
                            source: str, created_by: int | None, at: datetime) -> Household: ...

    async def update_household(self, household_id: int, *, head_name: str,
                               head_name_folded: str, members: int | None,
                               address: str | None) -> None: ...

    async def delete_added_household(self, household_id: int, created_by: int) -> bool: ...

    async def household_codes_like(self, prefix: str) -> list[str]: ...

    async def household_totals(self, household_id: int,
                               exclude_activation: int | None = None) -> HouseholdTotals: ...


class HouseholdRepository:
    """Every statement on the households table; callers wrap writes in a transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def household(self, household_id: int) -> Household | None:
        row = await self.db.fetchone("SELECT * FROM households WHERE id = ?", (household_id,))
        return _household(row) if row else None

    async def household_by_code(self, code: str) -> Household | None:
        row = await self.db.fetchone(
            "SELECT * FROM households WHERE UPPER(code) = UPPER(?)", (code,))
        return _household(row) if row else None

    async def households_in(self, hamlet_codes: Sequence[str]) -> list[Household]:
        """Every household of these hamlets."""
        marks = ",".join("?" * len(hamlet_codes))
        rows = await self.db.fetchall(
            f"SELECT * FROM households WHERE hamlet_code IN ({marks}) ORDER BY head_name_folded",
            list(hamlet_codes))
        return [_household(r) for r in rows]

    async def household_names(self, hamlet_codes: Sequence[str]) -> list[tuple[int, str, str]]:
        """(id, code, folded head's name) of every household of these hamlets: enough to search."""
        marks = ",".join("?" * len(hamlet_codes))
        rows = await self.db.fetchall(
            f"SELECT id, code, head_name_folded FROM households WHERE hamlet_code IN ({marks})",
            list(hamlet_codes))
        return [(r[0], r[1], r[2]) for r in rows]

    async def add_household(self, *, code: str, hamlet_code: str, head_name: str,
                            head_name_folded: str, members: int | None, address: str | None,
                            source: str, created_by: int | None, at: datetime) -> Household:
        new_id = await insert_returning_id(
            self.db, "INSERT INTO households (code, hamlet_code, head_name, head_name_folded, members,"
            " address, source, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (code, hamlet_code, head_name, head_name_folded, members, address, source,
             created_by, _ts(at)))
        household = await self.household(new_id)
        assert household is not None
        return household

    async def update_household(self, household_id: int, *, head_name: str,
                               head_name_folded: str, members: int | None,
                               address: str | None) -> None:
        await self.db.execute(
            "UPDATE households SET head_name = ?, head_name_folded = ?, members = ?, address = ?"
            " WHERE id = ?", (head_name, head_name_folded, members, address, household_id))

    async def delete_added_household(self, household_id: int, created_by: int) -> bool:
        """Delete a household this member added in the chat, if no record points to it (even a
        voided one); False when it stays."""
        cursor = await self.db.execute(
            "DELETE FROM households WHERE id = ? AND source = 'chat' AND created_by = ? "
            "AND NOT EXISTS (SELECT 1 FROM activations WHERE household_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM visits WHERE household_id = ?)",
            [household_id, created_by, household_id, household_id])
        return cursor.rowcount > 0

    async def household_codes_like(self, prefix: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT code FROM households WHERE UPPER(code) LIKE UPPER(?) ORDER BY code", (prefix + "%",))
        return [r["code"] for r in rows]

    async def household_totals(self, household_id: int,
                               exclude_activation: int | None = None) -> HouseholdTotals:
        """What non-voided activation records say about a household so far."""
        row = await self.db.fetchone(
            "SELECT COALESCE(SUM(level2_registered), 0) AS l2, COALESCE(SUM(activated), 0) AS act,"
            " COALESCE(MAX(household_capable), 0) AS cap FROM activations"
            " WHERE household_id = ? AND voided_at IS NULL AND id IS DISTINCT FROM ?",
            (household_id, exclude_activation))
        assert row is not None
        return HouseholdTotals(row["l2"], row["act"], bool(row["cap"]))
