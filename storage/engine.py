"""What the repositories need from a database, whichever engine holds it, and how to pick one.

SQLite (storage/db.py) stays the embedded default; a `postgresql://` target selects PostgreSQL
(storage/postgres.py). SQL is written once, in the subset both engines share: `?` placeholders,
`INSERT … RETURNING id` instead of lastrowid, `IS [NOT] DISTINCT FROM`, `CASE WHEN` sums,
`UPPER(…)` for case-insensitive codes. Each engine owns its migrations.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# One SQL statement and its parameters (a list of rows for an executemany).
Statement = tuple[str, Sequence[Any]]


class Row(Protocol):
    """One result row: by position (`row[0]`) or by column name (`row["id"]`)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...


class Executed(Protocol):
    """What a write reports back: how many rows it touched."""

    @property
    def rowcount(self) -> int: ...


@dataclass(frozen=True)
class Batched:
    """What one statement of a batch did: rows it changed (or -1) and rows it returned."""

    rowcount: int
    rows: list[Any]


class Database(Protocol):
    """The unit-of-work interface every repository is written against."""

    engine: str  # "sqlite" or "postgresql"
    # Appended to a SELECT that picks rows to claim: other claimers pass over them.
    skip_locked: str

    @property
    def target(self) -> str:
        """The SQLite file or the PostgreSQL URL."""
        ...

    async def open(self) -> Database: ...

    async def open_reader(self) -> Database: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Database: ...

    async def __aexit__(self, *exc: object) -> None: ...

    def transaction(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    async def lock_chat(self, channel: str, chat_id: str) -> None: ...

    async def try_lead(self, role: str) -> bool: ...

    async def schema_version(self) -> int: ...

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Executed: ...

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> int: ...

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]: ...

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any | None: ...

    async def batch(self, statements: Sequence[Statement]) -> list[Batched]: ...

    async def execute_later(self, sql: str, params: Iterable[Any] = ()) -> None: ...


def is_postgres(target: str) -> bool:
    """True for a PostgreSQL connection URL, False for a SQLite file."""
    return target.startswith(("postgresql://", "postgres://"))


def open_database(target: str) -> Database:
    """The database behind a target: a PostgreSQL URL or a SQLite file (not yet opened)."""
    if is_postgres(target):
        from storage.postgres import PostgresDatabase  # psycopg is needed only for PostgreSQL

        return PostgresDatabase(target)
    from storage.db import Database as SqliteDatabase

    return SqliteDatabase(target)


def placeholders(count: int) -> str:
    """`?, ?, ?` for an IN list of `count` values."""
    return ",".join("?" * count)


async def insert_returning_id(db: Database, sql: str, params: Iterable[Any]) -> int:
    """Run an INSERT and return the new row's id (`RETURNING id`: both engines have it)."""
    row = await db.fetchone(sql + " RETURNING id", params)
    assert row is not None
    return int(row[0])


async def insert_returning_row(db: Database, sql: str, params: Iterable[Any]) -> Row:
    """Run an INSERT and return the whole new row (one statement, not two)."""
    row = await db.fetchone(sql + " RETURNING *", params)
    assert row is not None
    return row
