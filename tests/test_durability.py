"""The database under faults: a failed BEGIN, a full disk, synchronous writes, backups."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.channels.console import ConsoleChannel
from bot.services import Services
from storage.db import CHECKPOINT_EVERY, GROUP_MOST, Database
from tests.conftest import join


def _lock_for_writing(path: Path) -> sqlite3.Connection:
    """Another program holding the write lock (an open BEGIN IMMEDIATE)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def test_a_failed_begin_does_not_leave_later_updates_outside_a_transaction(
        tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    async with Database(path, busy_timeout_ms=50) as db:
        await db.execute("CREATE TABLE t (x INTEGER)")
        other = _lock_for_writing(path)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with db.transaction():  # BEGIN goes with the first statement
                await db.execute("INSERT INTO t VALUES (0)")
        other.rollback()
        other.close()
        # The next unit of work must still be all-or-nothing.
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("fails half-way")
        assert await db.fetchall("SELECT * FROM t") == []


async def test_a_unit_waits_for_another_programs_write_lock_without_stopping_the_loop(
        tmp_path: Path) -> None:
    # The write lock is normally taken on the event loop's thread with no waiting; held by
    # another program, the unit waits for it on the connection's thread (busy timeout)
    # while the loop goes on serving everyone else, then commits.
    path = tmp_path / "t.sqlite3"
    async with Database(path, busy_timeout_ms=5000) as db:
        await db.execute("CREATE TABLE t (x INTEGER)")
        other = _lock_for_writing(path)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def unit() -> None:
            async with db.transaction():
                await db.execute("INSERT INTO t VALUES (1)")

        ticking = asyncio.create_task(ticker())
        writing = asyncio.create_task(unit())
        await asyncio.sleep(0.3)
        assert not writing.done()  # still waiting for the lock…
        assert ticks >= 10  # …and the loop ran meanwhile
        other.execute("INSERT INTO t VALUES (0)")
        other.commit()
        other.close()
        await asyncio.wait_for(writing, 5)
        ticking.cancel()
        assert [r[0] for r in await db.fetchall("SELECT x FROM t ORDER BY x")] == [0, 1]
        # The busy timeout is back for whatever runs next on the connection.
        timeout = await db.fetchone("PRAGMA busy_timeout")
        assert timeout is not None and timeout[0] == 5000


async def test_the_wal_is_checkpointed_while_updates_commit_so_it_stays_small(
        tmp_path: Path) -> None:
    # Commits run on the loop's thread with SQLite's own checkpoints off; the connection's
    # thread copies the WAL back every CHECKPOINT_EVERY commits, so the file is reused
    # instead of growing by every update ever written.
    path = tmp_path / "t.sqlite3"
    async with Database(path) as db:
        await db.execute("CREATE TABLE t (x BLOB)")
        wal = Path(f"{path}-wal")
        rounds: list[int] = []
        for _ in range(6):
            for _ in range(CHECKPOINT_EVERY):
                async with db.transaction():
                    await db.execute("INSERT INTO t VALUES (?)", (bytes(3000),))
            rounds.append(wal.stat().st_size)
        # Unchecked, the sixth round would leave a WAL six times the first round's size.
        assert rounds[-1] <= 2 * rounds[0], rounds
        row = await db.fetchone("SELECT COUNT(*) FROM t")
        assert row is not None and row[0] == 6 * CHECKPOINT_EVERY


async def test_a_wal_left_by_a_killed_process_is_folded_in_at_the_next_start(
        tmp_path: Path) -> None:
    # Fewer commits than CHECKPOINT_EVERY, then the process dies (its files copied while it
    # runs): the next start checkpoints, so the records reach the database file itself.
    running, restarted, file_only = (tmp_path / n for n in ("a.sqlite3", "b.sqlite3",
                                                             "c.sqlite3"))
    async with Database(running) as db:
        await db.execute("CREATE TABLE t (x INTEGER)")
        for n in range(5):
            async with db.transaction():
                await db.execute("INSERT INTO t VALUES (?)", (n,))
        shutil.copyfile(running, restarted)
        shutil.copyfile(f"{running}-wal", f"{restarted}-wal")
    async with Database(restarted):
        shutil.copyfile(restarted, file_only)  # the database file without its WAL
    with contextlib.closing(sqlite3.connect(file_only)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 5


async def test_units_whose_commits_overlap_the_next_unit_all_commit_in_order(
        tmp_path: Path) -> None:
    # A unit lets the lock go once its COMMIT is queued; the next unit (here often one that
    # finds the lock free at once) must still begin after that COMMIT, never inside it.
    async with Database(tmp_path / "t.sqlite3") as db:
        await db.execute("CREATE TABLE t (worker INTEGER, n INTEGER)")

        async def worker(index: int) -> None:
            pause = random.Random(index)
            for n in range(60):
                for _ in range(pause.randrange(4)):  # arrive at the lock at varying moments
                    await asyncio.sleep(0)
                async with db.transaction():
                    await db.execute("INSERT INTO t VALUES (?, ?)", (index, n))
                    await db.fetchall("SELECT COUNT(*) FROM t")
                    await db.execute_later("INSERT INTO t VALUES (?, ?)", (index, -n))

        await asyncio.gather(worker(0), worker(1))
        rows = await db.fetchall("SELECT worker, COUNT(*) FROM t GROUP BY worker")
        assert {(r[0], r[1]) for r in rows} == {(0, 120), (1, 120)}


async def test_a_commit_that_fails_leaves_no_transaction_open_for_the_next_unit(
        tmp_path: Path) -> None:
    async with Database(tmp_path / "t.sqlite3") as db:
        await db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction():
                await db.execute("INSERT INTO t VALUES (1)")
                await db.execute_later("INSERT INTO t VALUES (1)")  # fails with COMMIT
        async with db.transaction():
            await db.execute("INSERT INTO t VALUES (2)")
        assert [r[0] for r in await db.fetchall("SELECT x FROM t")] == [2]


async def test_a_failing_batch_from_elsewhere_leaves_the_open_unit_alone(
        tmp_path: Path) -> None:
    async with Database(tmp_path / "t.sqlite3") as db:
        await db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")

        async def elsewhere() -> None:  # another task, outside any unit of work
            with pytest.raises(sqlite3.IntegrityError):
                await db.batch([("INSERT INTO t VALUES (3)", ()), ("INSERT INTO t VALUES (1)", ())])

        async with db.transaction():
            await db.execute("INSERT INTO t VALUES (1)")
            await asyncio.create_task(elsewhere(), context=contextvars.Context())
            await db.execute("INSERT INTO t VALUES (2)")
        assert [r[0] for r in await db.fetchall("SELECT x FROM t ORDER BY x")] == [1, 2]


async def test_records_are_written_with_full_sync(services: Services) -> None:
    row = await services.db.fetchone("PRAGMA synchronous")
    assert row is not None and row[0] == 2  # FULL


async def _fill(services: Services, sql: str, make: Callable[[int], tuple]) -> None:
    """Insert rows until SQLite reports the file cannot grow."""
    for n in range(1_000_000):
        try:
            await services.db.execute(sql, make(n))
        except sqlite3.OperationalError as exc:
            assert "full" in str(exc)
            return
    raise AssertionError("never filled")


async def test_a_full_disk_saves_nothing_says_so_and_the_next_try_works(
        services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/activate")
    await console.send("v1", "X01-001")
    await console.send("v1", "1 1 c")
    member = await services.repos.members.member("console", "v1")
    household = await services.repos.households.household_by_code("X01-002")
    assert member is not None and household is not None
    pages = await services.db.fetchone("PRAGMA page_count")
    assert pages is not None
    # max_page_count stops the file from growing (SQLITE_FULL, as on a full disk); the rows
    # below use up the room left in the pages the save writes to.
    await services.db.execute(f"PRAGMA max_page_count = {pages[0]}")
    await _fill(services, "INSERT INTO processed_updates VALUES ('filler', ?, '')",
                lambda n: (f"f{n}",))
    await _fill(services, "INSERT INTO audit_log (at, action, entity) VALUES ('', 'fill', ?)",
                lambda n: (f"f{n}",))
    await _fill(services, "INSERT INTO activations (household_id, member_id, hamlet_code,"
                " level2_registered, activated, household_capable, recorded_at)"
                " VALUES (?, ?, 'X01', 0, 0, 0, '2000-01-01')",
                lambda n: (household.id, member.id))
    before = (await services.repos.count("activations"), await services.repos.count("audit_log"))
    replies = await console.tap("v1", "Lưu")
    assert "hết dung lượng" in replies[0].text and "chưa được lưu" in replies[0].text
    assert (await services.repos.count("activations"),
            await services.repos.count("audit_log")) == before
    state = await services.repos.conversations.conversation("console", "v1")
    assert state is not None and state.step == "confirm"  # the volunteer can try again
    await services.db.execute("PRAGMA max_page_count = 1073741823")  # space freed
    replies = await console.tap("v1", "Lưu")
    assert "✅" in replies[0].text
    assert await services.repos.count("activations") == before[0] + 1


async def test_a_unit_goes_on_only_after_work_queued_from_elsewhere_has_finished(
        tmp_path: Path) -> None:
    # Once a unit holds the write lock its statements run on the loop's thread; the
    # connection's own thread may still be busy with another task's query then, and the two
    # must never use the connection at the same time.
    async with Database(tmp_path / "t.sqlite3") as db:
        await db.execute("CREATE TABLE t (x INTEGER)")
        slow_sql = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                    " WHERE i < 300000) SELECT SUM(i) FROM n")
        async with db.transaction():
            await db.execute("INSERT INTO t VALUES (1)")
            slow = asyncio.create_task(db.fetchone(slow_sql), context=contextvars.Context())
            await asyncio.sleep(0)  # the other task queues its query
            await db.execute("INSERT INTO t VALUES (2)")
            assert slow.done()
            await db.execute_later("INSERT INTO t VALUES (3)")
        result = await slow
        assert result is not None and result[0] == 300000 * 300001 // 2
        assert [r[0] for r in await db.fetchall("SELECT x FROM t ORDER BY x")] == [1, 2, 3]


async def _units_together(db: Database, work: Callable[[int], object], count: int
                          ) -> list[BaseException | None]:
    """`count` units of work started in the same turn of the event loop, as a burst of
    updates is; each one's outcome (None when it committed)."""

    async def unit(index: int) -> None:
        async with db.transaction():
            if index % 3 == 1:  # sent with the unit's next statement, or at its end
                await db.execute_later("INSERT INTO t VALUES (?)", (index,))
            else:
                await db.execute("INSERT INTO t VALUES (?)", (index,))
            then = work(index)
            if then is not None:
                await db.execute(str(then))

    return list(await asyncio.gather(*(unit(i) for i in range(count)), return_exceptions=True))


async def test_updates_ending_together_share_a_commit_and_one_failing_takes_back_only_its_own(
        tmp_path: Path) -> None:
    async with Database(tmp_path / "t.sqlite3") as db:
        await db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        before = db.commits
        # The fifth unit's second statement fails: its row goes, the nine others stay.
        outcomes = await _units_together(
            db, lambda i: "INSERT INTO t VALUES (0)" if i == 4 else None, 10)
        assert [type(o).__name__ for o in outcomes].count("IntegrityError") == 1
        assert isinstance(outcomes[4], sqlite3.IntegrityError)
        rows = [r[0] for r in await db.fetchall("SELECT x FROM t ORDER BY x")]
        assert rows == [0, 1, 2, 3, 5, 6, 7, 8, 9]
        assert db.commits - before == 1  # one fsync for the burst, not ten
        # A longer burst is cut into groups, so the first unit never waits for all of it.
        before = db.commits
        await db.execute("DELETE FROM t")
        outcomes = await _units_together(db, lambda i: None, 3 * GROUP_MOST)
        assert outcomes == [None] * (3 * GROUP_MOST)
        assert db.commits - before == 3
        row = await db.fetchone("SELECT COUNT(*) FROM t")
        assert row is not None and row[0] == 3 * GROUP_MOST


async def test_a_shared_commit_that_fails_fails_every_update_in_it_and_keeps_none(
        tmp_path: Path) -> None:
    async with Database(tmp_path / "t.sqlite3") as db:
        await db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        # A deferred foreign key is checked by COMMIT only: the third unit's row makes the
        # shared COMMIT fail, and no unit may then say it saved anything.
        await db.execute("CREATE TABLE child (parent INTEGER REFERENCES t (x)"
                         " DEFERRABLE INITIALLY DEFERRED)")
        outcomes = await _units_together(
            db, lambda i: "INSERT INTO child VALUES (999)" if i == 2 else None, 5)
        assert all(isinstance(o, sqlite3.IntegrityError) for o in outcomes), outcomes
        assert await db.fetchall("SELECT * FROM t") == []
        assert await _units_together(db, lambda i: None, 3) == [None] * 3
        assert [r[0] for r in await db.fetchall("SELECT x FROM t ORDER BY x")] == [0, 1, 2]


_SAVER = """
import asyncio, sys
from storage.db import Database

async def main():
    async with Database(sys.argv[1]) as db:
        await db.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER PRIMARY KEY)")
        async def unit(n):
            async with db.transaction():
                await db.execute("INSERT INTO t VALUES (?)", (n,))
            print(n, flush=True)  # said saved
        n = 0
        while True:
            await asyncio.gather(*(unit(n + i) for i in range(25)))
            n += 25

asyncio.run(main())
"""


async def test_a_process_killed_amid_shared_commits_keeps_every_record_it_said_was_saved(
        tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    root = Path(__file__).resolve().parents[1]
    saver = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], cwd=root,
                             stdout=subprocess.PIPE, text=True)
    assert saver.stdout is not None
    said: list[int] = []
    while len(said) < 2000:
        line = saver.stdout.readline()
        assert line, "the saver stopped by itself"
        said.append(int(line))
    saver.send_signal(signal.SIGKILL)
    saver.wait()
    said += [int(line) for line in saver.stdout.read().split()]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        kept = {row[0] for row in conn.execute("SELECT x FROM t")}
    assert set(said) <= kept
    # Whatever was written after the last COMMIT and never confirmed is simply not there.
    assert len(kept) - len(set(said)) <= 25
