"""The PostgreSQL engine (psycopg 3 and its connection pool), for several workers on one database.

psycopg rather than asyncpg (benchmarks/pg_drivers.py measured both; asyncpg is about twice as
fast per round trip, 0.4 against 0.8 ms for a small transaction, which is far below a chat
update's network time): psycopg keeps the DB-API shape the SQLite side has (rowcount, one
placeholder style), lets the server type ISO text parameters (timestamps stay `timestamptz`
without converting every argument), and uses libpq, so connection strings, service files and
`PG*` variables work as they do for psql and pg_dump.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextvars import ContextVar
from importlib import resources
from typing import Any

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import RowMaker
from psycopg_pool import AsyncConnectionPool

from storage.engine import Batched, Statement

# Any constant works; it only has to be the same in every worker that migrates.
_MIGRATION_LOCK = 0x636E7363  # "cnsc"
_current: ContextVar[AsyncConnection[Any] | None] = ContextVar("pg_connection", default=None)
# Writes of the transaction in progress whose results nobody reads (execute_later): sent with
# its next statement or before COMMIT, in one pipeline.
_later: ContextVar[list[Statement] | None] = ContextVar("pg_later", default=None)
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?(\d+)?|%")


class PgRow:
    """A result row readable by position and by column name, like sqlite3.Row."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, int], values: tuple[Any, ...]) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, key: int | str) -> Any:
        return self._values[key if isinstance(key, int) else self._names[key]]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        """Column names, in order."""
        return list(self._names)


def _pg_row(cursor: AsyncCursor[Any]) -> RowMaker[PgRow]:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(names, tuple(values))


def translate(sql: str, params: Iterable[Any]) -> tuple[str, Any]:
    """Our `?` / `?N` placeholders in psycopg's style (`%s` / `%(pN)s`), literals left alone."""
    values = tuple(params)
    if not re.search(r"\?\d", sql):
        return _TOKENS.sub(lambda m: m.group(0) if m.group(0).startswith("'") else
                           "%%" if m.group(0) == "%" else "%s", sql), values
    highest = 0

    def named(match: re.Match[str]) -> str:
        # As in SQLite: `?N` is parameter N, a bare `?` the one after the highest so far.
        nonlocal highest
        token = match.group(0)
        if token.startswith("'"):
            return token
        if token == "%":
            return "%%"
        index = int(match.group(1)) if match.group(1) else highest + 1
        highest = max(highest, index)
        return f"%(p{index})s"

    text = _TOKENS.sub(named, sql)
    return text, {f"p{i}": value for i, value in enumerate(values, start=1)}


def _migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in storage/migrations/postgres, in order."""
    folder = resources.files("storage").joinpath("migrations").joinpath("postgres")
    return sorted((int(item.name.split("_", 1)[0]), item.name, item.read_text(encoding="utf-8"))
                  for item in folder.iterdir() if item.name.endswith(".sql"))


class _Done:
    """The rowcount of a statement whose connection went back to the pool."""

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount


class PostgresDatabase:
    """A connection pool; a transaction holds one connection, other statements borrow one."""

    engine = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = self.target = url
        self._pool_size = pool_size
        self._pool: AsyncConnectionPool[Any] | None = None
        self._leaders: dict[str, AsyncConnection[Any]] = {}

    @staticmethod
    async def _configure(conn: AsyncConnection[Any]) -> None:
        # Timestamps come back in UTC, whatever the server's default zone.
        await conn.execute("SET TIME ZONE 'UTC'")

    async def open(self) -> PostgresDatabase:
        """Connect and apply pending migrations (one worker at a time)."""
        # A pool cannot be reopened once closed: each open() makes a new one.
        self._pool = AsyncConnectionPool(
            self.url, min_size=1, max_size=self._pool_size, open=False,
            configure=self._configure, kwargs={"autocommit": True, "row_factory": _pg_row})
        await self._pool.open(wait=True, timeout=15)
        await self._migrate()
        return self

    async def open_reader(self) -> PostgresDatabase:
        """Reports read through the same pool: each query borrows its own connection."""
        return self

    async def close(self) -> None:
        """Close every pooled connection (and give up any leadership)."""
        for conn in self._leaders.values():
            with contextlib.suppress(psycopg.Error):
                await conn.close()
        self._leaders.clear()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> AsyncConnectionPool[Any]:
        if self._pool is None:
            raise RuntimeError("database is not open")
        return self._pool

    async def __aenter__(self) -> PostgresDatabase:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _migrate(self) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            cursor = await conn.execute("SELECT version FROM schema_migrations")
            applied = {row[0] for row in await cursor.fetchall()}
            for version, name, sql in _migrations():
                if version not in applied:
                    await conn.execute(sql.encode())  # several statements, no parameters
                    await conn.execute("INSERT INTO schema_migrations (version, name)"
                                       " VALUES (%s, %s)", (version, name))

    async def schema_version(self) -> int:
        """The highest migration applied."""
        row = await self.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
        return int(row["v"] or 0) if row else 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All writes inside commit together or not at all; nested use joins the outer one."""
        if _current.get() is not None:
            yield
            return
        async with self.pool.connection() as conn, conn.transaction():
            token, later = _current.set(conn), _later.set([])
            try:
                yield
                await self._send(conn, [])  # deferred writes, before COMMIT
            finally:
                _current.reset(token)
                _later.reset(later)

    async def lock_chat(self, channel: str, chat_id: str) -> None:
        """Wait until no other worker's transaction holds this chat; held until commit."""
        if _current.get() is None:
            raise RuntimeError("lock_chat needs a transaction")
        await self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
                           (f"{channel}:{chat_id}",))

    async def try_lead(self, role: str) -> bool:
        """True while this process holds `role`'s leader lock: a session lock on a connection
        of its own, which PostgreSQL lets go when the process or that connection dies."""
        held = self._leaders.get(role)
        if held is not None:
            try:
                await held.execute("SELECT 1")
                return True
            except psycopg.Error:
                del self._leaders[role]
                with contextlib.suppress(psycopg.Error):
                    await held.close()
        conn = await AsyncConnection.connect(self.url, autocommit=True)
        cursor = await conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 1))",
                                    (role,))
        row = await cursor.fetchone()
        if row is not None and row[0]:
            self._leaders[role] = conn
            return True
        await conn.close()
        return False

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        conn = _current.get()
        if conn is not None:
            yield conn
        else:
            async with self.pool.connection() as borrowed:
                yield borrowed

    @staticmethod
    async def _send(conn: AsyncConnection[Any], statements: Sequence[Statement]
                    ) -> list[Batched]:
        """Run statements in order on a connection, after the transaction's deferred writes;
        each one's rowcount and rows.

        Several go in one pipeline (psycopg 3's pipeline mode): sent together, answered
        together, one round trip to the server instead of one each. The first that fails
        raises and the server skips the rest; the transaction around them rolls back whole.
        """
        pending = _later.get()
        skipped = 0
        if pending:
            statements = [*pending, *statements]
            skipped = len(pending)
            pending.clear()
        if not statements:
            return []
        if len(statements) == 1:
            sql, params = statements[0]
            cursors = [await conn.execute(*translate(sql, params))]
        else:
            async with conn.pipeline():
                cursors = [await conn.execute(*translate(sql, params))
                           for sql, params in statements]
        return [Batched(cursor.rowcount, await cursor.fetchall() if cursor.description else [])
                for cursor in cursors[skipped:]]

    async def _statements(self, statements: Sequence[Statement]) -> list[Batched]:
        async with self._connection() as conn:
            return await self._send(conn, statements)

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> _Done:
        """Run one statement; its rowcount is kept."""
        return _Done((await self._statements([(sql, tuple(params))]))[0].rowcount)

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> int:
        """Run one statement for many rows; how many rows it touched."""
        text, _ = translate(sql, ())
        async with self._connection() as conn:
            await self._send(conn, [])
            async with conn.cursor() as cursor:
                await cursor.executemany(text, [tuple(row) for row in rows])
                return cursor.rowcount

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[PgRow]:
        """All rows of a query."""
        return (await self._statements([(sql, tuple(params))]))[0].rows

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> PgRow | None:
        """The first row of a query, or None."""
        return next(iter(await self.fetchall(sql, params)), None)

    async def batch(self, statements: Sequence[Statement]) -> list[Batched]:
        """Run several statements in order on one connection, in one round trip; each one's
        rowcount and rows.

        Outside a transaction they make one of their own: all of them or none.
        """
        if _current.get() is None:
            async with self.transaction():
                return await self.batch(statements)
        return await self._statements(statements)

    async def execute_later(self, sql: str, params: Iterable[Any] = ()) -> None:
        """A write whose outcome nobody reads: inside a transaction it goes with the next
        statement or before COMMIT (in order, so later reads see it); outside, at once."""
        pending = _later.get()
        if pending is None or _current.get() is None:
            await self.execute(sql, params)
        else:
            pending.append((sql, tuple(params)))
