"""The aiosqlite connection: WAL, busy timeout, versioned migrations and transactions."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.engine import Batched, Statement

T = TypeVar("T")
# Commits between two checkpoints, which run on the connection's thread: SQLite's own would
# run inside a COMMIT (every ~1000 WAL pages, about 150 updates), and most COMMITs run on the
# event loop's thread.
CHECKPOINT_EVERY = 100
# Units sharing one COMMIT at most: the first of them waits for the others' work.
GROUP_MOST = 32


@dataclass
class _Group:
    """Units of work sharing one SQLite transaction, committed together.

    Under load many updates end within one turn of the event loop; one COMMIT (one fsync of
    the WAL) on the loop's thread for all of them costs less than one each, and no unit has
    to hand its COMMIT to the connection's thread to keep the loop free. Each unit after
    the first runs inside a SAVEPOINT, so its failure undoes its own writes only.
    """

    begun: bool = False  # BEGIN IMMEDIATE sent
    held: bool = False  # and succeeded: the write lock is held
    bulk: bool = False  # an executemany ran: its COMMIT may write many pages
    units: int = 0  # units that ran a statement in it
    committed: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    closer: asyncio.Task[None] | None = None


@dataclass
class _Unit:
    """One `transaction()` in its group: whether it ran a statement yet, inside a SAVEPOINT
    or not, and writes whose results nobody reads, sent with its next statement or at its end."""

    group: _Group
    begun: bool = False
    savepoint: bool = False
    later: list[Statement] = field(default_factory=list)


def _run(raw: sqlite3.Connection, statements: Sequence[Statement], many: bool = False, *,
         own: bool = False, closing: bool = False) -> list[Batched]:
    """Run statements in order on the connection's own thread; the last may be an executemany.

    `own`: the statements succeed or fail together: in a transaction of their own, or in a
    SAVEPOINT inside the one open (units waiting for their shared COMMIT).
    `closing`: a unit's last trip (ending in COMMIT); if anything fails its transaction is
    rolled back here, so whatever the thread runs next finds no transaction left open.
    """
    nested = own and raw.in_transaction
    begin = own and not nested
    if begin or nested:
        raw.execute("BEGIN" if begin else "SAVEPOINT batch")
    try:
        done = []
        for index, (sql, params) in enumerate(statements):
            if many and index == len(statements) - 1:
                cursor = raw.executemany(sql, params)
                done.append(Batched(cursor.rowcount, []))
            else:
                cursor = raw.execute(sql, params)
                done.append(Batched(cursor.rowcount, cursor.fetchall()))
        if begin or nested:
            raw.execute("COMMIT" if begin else "RELEASE batch")
    except BaseException:
        if nested and raw.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                raw.execute("ROLLBACK TO batch")
                raw.execute("RELEASE batch")
        elif (begin or closing) and raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return done


def _checkpoint(raw: sqlite3.Connection) -> None:
    """Copy the WAL's pages back into the database file, as far as open readers allow."""
    # Nobody awaits it: a checkpoint that cannot finish now is simply done by a later one.
    with contextlib.suppress(sqlite3.Error):
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in storage/migrations, in order."""
    found = []
    for item in resources.files("storage").joinpath("migrations").iterdir():
        if item.name.endswith(".sql"):
            version = int(item.name.split("_", 1)[0])
            found.append((version, item.name, item.read_text(encoding="utf-8")))
    return sorted(found)


def _copy_to(raw: sqlite3.Connection, target: str) -> None:
    """SQLite's online backup into a new file, then a journal mode that needs no -wal file."""
    with contextlib.closing(sqlite3.connect(target)) as copy:
        raw.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")


def _rollback(raw: sqlite3.Connection) -> None:
    # SQLite may already have rolled back by itself (disk full, I/O error).
    if raw.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            raw.execute("ROLLBACK")


class Database:
    """One connection shared by the process; writes are serialised by a lock around transactions.

    Where statements run: a unit of work holding the write lock (its BEGIN IMMEDIATE done)
    runs its statements on the event loop's own thread. They cannot wait for anyone then (in
    WAL mode readers never block the writer) and take microseconds, less than the two thread
    wake-ups a trip to aiosqlite's thread costs, which on a busy machine were most of an
    update's CPU. BEGIN IMMEDIATE is tried here too, with no busy wait; only when another
    program holds the write lock does it go to that thread, to wait up to the busy timeout.
    COMMIT runs here as well (one fsync of the WAL), once for all the units that ended in
    the same turn of the loop. What may take long goes to that thread: checkpoints,
    executemany (imports) and its COMMIT, and everything outside a unit. The two never use
    the connection at the same time: a statement run here first waits until the thread has
    finished everything queued to it.
    """

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
        # The last piece of work queued to the connection's thread (the thread runs them in
        # order): done means the thread has left the connection alone.
        self._last_trip: asyncio.Future[Any] | None = None
        # Per database: a report read on the reader never joins the writer's transaction.
        self._unit: ContextVar[_Unit | None] = ContextVar(f"unit_{id(self)}", default=None)
        self._commits = 0
        self._group: _Group | None = None  # the transaction units join, until its COMMIT

    async def open(self) -> Database:
        """Open the file (creating folders), set pragmas and apply pending migrations."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so a unit of work is explicit.
        # check_same_thread=False: units holding the write lock run statements on the loop's
        # thread, never while the connection's own thread works (see the class docstring).
        self._conn = await aiosqlite.connect(self.path, isolation_level=None,
                                             check_same_thread=False)
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
            # Checkpoints are queued to the connection's thread by transaction() instead;
            # one now folds in what a process killed before its next checkpoint left.
            await self._conn.execute("PRAGMA wal_autocheckpoint = 0")
            await self._migrate()
            await self._on_thread(_checkpoint, self._conn._conn)

    async def open_reader(self) -> Database:
        """A second, read-only connection to the same file (the same one for `:memory:`)."""
        if self.path == ":memory:":
            return self
        return await Database(self.path, busy_timeout_ms=self._busy_timeout_ms,
                              read_only=True).open()

    async def close(self) -> None:
        """Close the connection (after the COMMIT its last units wait for)."""
        if self._group is not None and self._group.closer is not None:
            await asyncio.shield(self._group.closer)
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
        await self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in await self.fetchall("SELECT version FROM schema_migrations")}
        for version, name, sql in _migrations():
            if version in applied:
                continue
            async with self.transaction():
                for statement in _split_sql(sql):
                    await self.execute(statement)
                await self.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, datetime.now(UTC).isoformat()),
                )

    async def schema_version(self) -> int:
        """The highest migration applied."""
        row = await self.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
        return int(row["v"] or 0) if row else 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All writes inside commit together or not at all; nested use joins the outer one.

        Returns once its COMMIT is done. Units take turns on the write lock; the ones that
        end within one turn of the event loop share a transaction and its COMMIT (see
        `_Group`). BEGIN IMMEDIATE goes with the first statement, on the loop's thread when
        the write lock is free at once (else on the connection's thread, which may wait for
        it); then statements, deferred writes and COMMIT run on the loop's thread.
        """
        if self._unit.get() is not None:
            yield
            return
        async with self._lock:
            if self._group is None:
                self._group = _Group()
            group = self._group
            unit = _Unit(group)
            token = self._unit.set(unit)
            try:
                yield
                if unit.later:
                    await self._statements([])  # after BEGIN or its SAVEPOINT, if not sent
                if unit.savepoint:
                    await self._statements([("RELEASE unit", ())])
            except BaseException as exc:
                await self._undo(unit, exc)
                raise
            finally:
                self._unit.reset(token)
            if not unit.begun:
                return  # nothing read or written: nothing to commit
            if group.units >= GROUP_MOST or group.bulk or not group.held:
                await self._commit(group)
            elif group.closer is None:
                # Queued behind the units already waiting for the lock: they join this
                # COMMIT, and so does whoever takes the lock before the closer's turn.
                group.closer = asyncio.create_task(self._close(group))
        await asyncio.shield(group.committed)

    async def _close(self, group: _Group) -> None:
        async with self._lock:
            await self._commit(group)

    async def _commit(self, group: _Group) -> None:
        """COMMIT the group (called holding the lock); its units learn the outcome."""
        if self._group is not group:
            return  # committed already, or rolled back by a unit's failure
        self._group = None
        try:
            if group.held and not group.bulk:
                # A fraction of a millisecond (one fsync of the WAL), less CPU than the two
                # thread wake-ups of a trip; its failure rolls back right here.
                await self._here([("COMMIT", ())], closing=True)
            else:
                # An import's many pages, or a transaction not yet begun (BEGIN may wait).
                await self._trip([("COMMIT", ())], closing=True)
        except asyncio.CancelledError:
            # A shutdown cancelled it while it waited for the connection's thread: the units
            # are not told their writes were saved, and the thread rolls back whatever the
            # COMMIT (if it was still to run) did not keep.
            self._queue(_rollback, self.conn._conn)
            group.committed.cancel()
            raise
        except BaseException as exc:
            group.committed.set_exception(exc)
            return
        group.committed.set_result(None)
        # Checkpoints write megabytes: on the connection's thread, after an import and
        # every CHECKPOINT_EVERY commits, never inside a COMMIT.
        self._commits += 1
        if group.bulk or self._commits % CHECKPOINT_EVERY == 0:
            self._queue(_checkpoint, self.conn._conn)

    async def _undo(self, unit: _Unit, error: BaseException) -> None:
        """Take back a failed unit's writes: to its SAVEPOINT when others share the
        transaction, else all of it (then the others, if any, fail with the same error)."""
        unit.later.clear()
        group = unit.group
        if not unit.begun:
            return
        raw = self.conn._conn
        if unit.savepoint and self._group is group:
            with contextlib.suppress(sqlite3.Error):
                await self._on_thread(_run, raw, [("ROLLBACK TO unit", ()),
                                                  ("RELEASE unit", ())])
            # SQLite rolls a whole transaction back by itself on some errors (a full disk).
            if raw.in_transaction:
                return
        if self._group is group:
            self._group = None
        if not group.committed.done():
            if group.units > 1:
                shared = error if isinstance(error, sqlite3.Error) else sqlite3.OperationalError(
                    "rolled back with another update's failure")
                group.committed.set_exception(shared)
            else:
                group.committed.cancel()  # nobody else waits for it
        # The original error is the one worth raising, not a failed ROLLBACK's.
        await self._on_thread(_rollback, raw)

    def _flush(self, unit: _Unit) -> list[Statement]:
        """What must run before the unit's next statement: BEGIN or its SAVEPOINT at first,
        then its deferred writes."""
        head: list[Statement] = []
        if not unit.begun:
            group = unit.group
            if group.units:
                head.append(("SAVEPOINT unit", ()))
                unit.savepoint = True
            elif not group.begun:
                head.append(("BEGIN IMMEDIATE", ()))
                group.begun = True
            group.units += 1
            unit.begun = True
        head += unit.later
        unit.later.clear()
        return head

    def _queue(self, function: Callable[..., T], *args: Any, **kwargs: Any
               ) -> asyncio.Future[T]:
        """Queue a function to the connection's thread (after what is queued there already).

        aiosqlite has no public call to run a function on its thread; its worker reads
        (future, function) pairs from `_tx`, which is what every one of its own methods
        uses. The future is ours and awaited shielded, so it is done exactly when the thread
        has finished, even if its caller was cancelled meanwhile.
        """
        conn = self.conn
        if not conn._running or conn._connection is None:
            raise ValueError("Connection closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        conn._tx.put_nowait((future, partial(function, *args, **kwargs)))
        self._last_trip = future
        return future

    async def _on_thread(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a function on the connection's thread and wait for it."""
        return await asyncio.shield(self._queue(function, *args, **kwargs))

    async def _trip(self, statements: list[Statement], many: bool = False, *,
                    own: bool = False, closing: bool = False) -> list[Batched]:
        """One trip to the connection's thread running `statements` in order (a list of
        parameterised statements: `executescript` takes no parameters)."""
        return await self._on_thread(_run, self.conn._conn, statements, many, own=own,
                                     closing=closing)

    async def _here(self, statements: list[Statement], *, closing: bool = False
                    ) -> list[Batched]:
        """Run statements on the loop's thread once the connection's thread is idle."""
        while self._last_trip is not None and not self._last_trip.done():
            await asyncio.shield(self._last_trip)
        return _run(self.conn._conn, statements, closing=closing)

    async def _begin_here(self) -> bool:
        """BEGIN IMMEDIATE on the loop's thread when the write lock is free at once (it is,
        unless another program writes: this process's units take turns on `_lock`).

        False when it is not: the unit then begins on the connection's thread, which waits
        up to the busy timeout without stopping the event loop.
        """
        while self._last_trip is not None and not self._last_trip.done():
            await asyncio.shield(self._last_trip)
        raw = self.conn._conn
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # SQLITE_BUSY: someone else holds the lock
            return False
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        return True

    async def batch(self, statements: Sequence[Statement]) -> list[Batched]:
        """Run several statements in one trip, in order; each one's rowcount and rows.

        Outside a transaction they make one of their own (deferred: reads alone take no
        write lock, and see one snapshot): all of them or none.
        """
        if self._unit.get() is None:
            return await self._trip(list(statements), own=True)
        return await self._statements(list(statements))

    async def _statements(self, statements: list[Statement], many: bool = False
                          ) -> list[Batched]:
        unit = self._unit.get()
        if unit is None:
            return await self._trip(statements, many)
        group = unit.group
        if not group.begun and not many and await self._begin_here():
            group.begun = group.held = True
        head = self._flush(unit)
        if group.held and not many:
            return (await self._here([*head, *statements]))[len(head):]
        group.bulk = group.bulk or many
        done = await self._trip([*head, *statements], many)
        group.held = True  # BEGIN IMMEDIATE went with this trip, or an earlier one
        return done[len(head):]

    async def execute_later(self, sql: str, params: Iterable[Any] = ()) -> None:
        """A write whose outcome nobody reads: inside a transaction it goes with the next
        statement or with COMMIT (in order, so later reads see it); outside, at once."""
        unit = self._unit.get()
        if unit is None:
            await self.execute(sql, params)
        else:
            unit.later.append((sql, tuple(params)))

    @property
    def commits(self) -> int:
        """COMMITs so far: fewer than units of work when updates share them."""
        return self._commits

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
        await self._on_thread(_copy_to, self.conn._conn, str(target))

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Batched:
        """Run one statement (inside a transaction when it writes)."""
        return (await self._statements([(sql, tuple(params))]))[0]

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> int:
        """Run one statement for many rows; returns how many rows it changed."""
        done = await self._statements([(sql, [tuple(row) for row in rows])], many=True)
        return done[0].rowcount

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """All rows of a query."""
        return (await self._statements([(sql, tuple(params))]))[0].rows

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        """The first row of a query, or None."""
        return next(iter(await self.fetchall(sql, params)), None)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (our migrations hold no semicolons inside literals)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
