"""The aiosqlite connection: WAL, busy timeout, versioned migrations and transactions."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

_in_transaction: ContextVar[bool] = ContextVar("in_transaction", default=False)


def _migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in storage/migrations, in order."""
    found = []
    for item in resources.files("storage").joinpath("migrations").iterdir():
        if item.name.endswith(".sql"):
            version = int(item.name.split("_", 1)[0])
            found.append((version, item.name, item.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """One connection shared by the process; writes are serialised by a lock around transactions."""

    engine = "sqlite"
    # One writer at a time (BEGIN IMMEDIATE): a claim never meets a row locked by another.
    skip_locked = ""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000,
                 read_only: bool = False) -> None:
        self.path = str(path)
        self._busy_timeout_ms = busy_timeout_ms
        # A read-only connection (digests) runs its queries in its own thread, beside the
        # writer's: with WAL, a long report never holds up the updates' transactions.
        self.read_only = read_only
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> Database:
        """Open the file (creating folders), set pragmas and apply pending migrations."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so a unit of work is explicit.
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await self._configure()
        except BaseException:
            # aiosqlite's worker thread keeps the process alive until the connection closes:
            # a damaged file or a failed migration must end in an error, not a hang.
            await self.close()
            raise
        return self

    async def _configure(self) -> None:
        """Pragmas, then migrations (or query-only for a reader)."""
        assert self._conn is not None
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        await self._conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a record the bot said was saved survives a power cut too (in WAL mode NORMAL
        # may lose the last commits); an update costs one more fsync, far below a chat's pace.
        await self._conn.execute("PRAGMA synchronous = FULL")
        await self._conn.execute("PRAGMA foreign_keys = ON")
        # A province's digest scans a year of records: a 64 MiB page cache keeps that in memory.
        await self._conn.execute("PRAGMA cache_size = -65536")
        if self.read_only:
            await self._conn.execute("PRAGMA query_only = ON")
        else:
            await self._migrate()

    async def open_reader(self) -> Database:
        """A second, read-only connection to the same file (the same one for `:memory:`)."""
        if self.path == ":memory:":
            return self
        return await Database(self.path, busy_timeout_ms=self._busy_timeout_ms,
                              read_only=True).open()

    async def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def _migrate(self) -> None:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in await self.conn.execute_fetchall(
            "SELECT version FROM schema_migrations")}
        for version, name, sql in _migrations():
            if version in applied:
                continue
            async with self.transaction():
                for statement in _split_sql(sql):
                    await self.conn.execute(statement)
                await self.conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, datetime.now(UTC).isoformat()),
                )

    async def schema_version(self) -> int:
        """The highest migration applied."""
        row = await self.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
        return int(row["v"] or 0) if row else 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All writes inside commit together or not at all; nested use joins the outer one."""
        if _in_transaction.get():
            yield
            return
        async with self._lock:
            # The flag is set only once BEGIN succeeded: a BEGIN that fails (database locked)
            # must not make later units of work think they are inside a transaction.
            await self.conn.execute("BEGIN IMMEDIATE")
            token = _in_transaction.set(True)
            try:
                yield
            except BaseException:
                # SQLite may already have rolled back by itself (disk full, I/O error); the
                # original error is the one worth raising.
                if self.conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await self.conn.execute("ROLLBACK")
                raise
            else:
                try:
                    await self.conn.execute("COMMIT")
                except BaseException:
                    if self.conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            await self.conn.execute("ROLLBACK")
                    raise
            finally:
                _in_transaction.reset(token)

    @property
    def target(self) -> str:
        """The database file."""
        return self.path

    async def try_lead(self, role: str) -> bool:
        """Always: one process owns a SQLite file, so it leads every role."""
        return True

    async def lock_chat(self, channel: str, chat_id: str) -> None:
        """Nothing to do: one process, and its transactions already run one at a time."""

    async def backup(self, destination: str | Path) -> None:
        """Copy the whole database to another file while the bot keeps running.

        SQLite's online backup API copies a consistent snapshot, even in WAL mode and with
        writers at work; the copy is a complete database (no -wal file needed).
        """
        target = Path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(str(target)) as copy:
            await self.conn.backup(copy)
            await copy.execute("PRAGMA journal_mode = DELETE")

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Cursor:
        """Run one statement (inside a transaction when it writes)."""
        return await self.conn.execute(sql, tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> int:
        """Run one statement for many rows; returns how many rows it changed."""
        cursor = await self.conn.executemany(sql, [tuple(row) for row in rows])
        return cursor.rowcount

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """All rows of a query."""
        return list(await self.conn.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """The first row of a query, or None."""
        # One trip to aiosqlite's thread instead of three (execute, fetchone, close): every
        # trip is a thread switch, and an update makes a dozen of these calls.
        rows = await self.conn.execute_fetchall(sql, tuple(params))
        return next(iter(rows), None)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (our migrations hold no semicolons inside literals)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
