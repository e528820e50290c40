"""Storage: migrations, atomic updates, duplicates and restarts, each test on a real SQLite
file and on a real PostgreSQL schema (the `engine_target` fixture runs it on both)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import build_router, open_services
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.messages import Incoming, Kind
from bot.services import Services
from bot.textnorm import contains_citizen_id
from storage import db as sqlite_engine
from storage import postgres as postgres_engine
from storage.backup import pg_dump_program
from storage.engine import open_database
from storage.pacing import PacingRepository
from tests.conftest import HOUSEHOLDS, ON_BOTH_ENGINES, FakeClock, dump_tables, join
from tests.postgres_server import fresh_schema
from tests.test_flows import texts


@ON_BOTH_ENGINES
async def test_migrations_apply_once(database_target: str) -> None:
    async with open_database(database_target) as db:
        migrations = (sqlite_engine if db.engine == "sqlite" else postgres_engine)._migrations()
        # Every migration file of the engine, the latest included.
        assert await db.schema_version() == max(version for version, *_ in migrations)
        if db.engine == "sqlite":
            mode = await db.fetchone("PRAGMA journal_mode")
            assert mode is not None and mode[0] == "wal"
    async with open_database(database_target) as db:  # reopening applies nothing twice
        rows = await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [r[0] for r in rows] == [version for version, *_ in migrations]


async def test_both_engines_hold_the_same_tables_and_columns(db_path: Path,
                                                             postgres_url: str) -> None:
    async with open_database(str(db_path)) as lite:
        tables = [r[0] for r in await lite.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        sqlite_columns = {(table, r["name"]) for table in tables
                          for r in await lite.fetchall(f"PRAGMA table_info({table})")}
    with fresh_schema(postgres_url) as url:
        async with open_database(url) as pg:
            postgres_columns = {(r[0], r[1]) for r in await pg.fetchall(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema()")}
    # A SQLite migration without its twin in storage/migrations/postgres shows up here.
    assert sqlite_columns - postgres_columns == set()
    assert postgres_columns - sqlite_columns == set()


@ON_BOTH_ENGINES
async def test_restart_mid_flow_resumes(settings: Settings, clock: FakeClock,
                                        database_target: str, services: Services,
                                        console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/activate")
    await console.send("v1", "X01-001")
    await console.send("v1", "1 1 c")
    await services.db.close()
    # A new process: new database connection, new router, same file.
    async with open_services(settings, clock=clock, database_path=database_target) as again:
        fresh = ConsoleChannel(build_router(again))
        fresh._ids = iter(range(1000, 2000))  # noqa: SLF001 - update ids of the new process
        replies = await fresh.send("v1", "luu")
        assert "✅" in texts(replies)
        assert await again.repos.count("activations") == 1
    await services.db.open()


@ON_BOTH_ENGINES
async def test_duplicate_update_is_applied_once(services: Services,
                                                console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    router = console.router
    base = {"channel": "console", "user_id": "v1", "chat_id": "v1"}
    steps = [Incoming(update_id="d1", kind=Kind.TEXT, text="/activate", **base),
             Incoming(update_id="d2", kind=Kind.TEXT, text="X01-001", **base),
             Incoming(update_id="d3", kind=Kind.TEXT, text="1 1 c", **base),
             Incoming(update_id="d4", kind=Kind.OPTION, option="act:confirm:save", **base)]
    for msg in steps:
        assert await router.handle(msg)
    assert await router.handle(steps[-1]) == []  # delivered again: no reply, no second record
    assert await services.repos.count("activations") == 1


@ON_BOTH_ENGINES
async def test_failure_mid_update_leaves_nothing_half_written(
        services: Services, console: ConsoleChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/activate")
    await console.send("v1", "X01-001")
    await console.send("v1", "1 1 c")

    async def broken_audit(**kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.repos, "audit", broken_audit)
    replies = await console.tap("v1", "Lưu")
    assert "chưa được lưu" in texts(replies) or "Chưa" in texts(replies)
    assert await services.repos.count("activations") == 0
    state = await services.repos.conversations.conversation("console", "v1")
    assert state is not None and state.step == "confirm"  # the user can simply try again
    monkeypatch.undo()
    replies = await console.tap("v1", "Lưu")
    assert await services.repos.count("activations") == 1


@ON_BOTH_ENGINES
async def test_a_write_sent_with_the_commit_that_fails_leaves_nothing_half_written(
        services: Services, console: ConsoleChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    await join(services, console, "v1")
    for text in ("/activate", "X01-001", "1 1 c"):
        await console.send("v1", text)

    async def audit_into_nowhere(**kwargs: object) -> None:
        # Deferred on SQLite: it fails only when sent with COMMIT, after the record's INSERT.
        await services.db.execute_later("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(services.repos, "audit", audit_into_nowhere)
    replies = await console.tap("v1", "Lưu")
    assert "thông tin chưa được lưu" in texts(replies)
    assert await services.repos.count("activations") == 0
    state = await services.repos.conversations.conversation("console", "v1")
    assert state is not None and state.step == "confirm"  # the user can simply try again


_CLAIM = "INSERT INTO processed_updates (channel, update_id, processed_at) VALUES (?, ?, ?)"


@ON_BOTH_ENGINES
async def test_statements_sent_together_commit_together_or_not_at_all(
        database_target: str) -> None:
    at = "2026-11-20T08:00:00+00:00"
    async with open_database(database_target) as db:
        # The third statement breaks the table's key: the first two go with it.
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            await db.batch([(_CLAIM, ("t", "1", at)), (_CLAIM, ("t", "2", at)),
                            (_CLAIM, ("t", "1", at))])
        assert await db.fetchall("SELECT * FROM processed_updates") == []
        done = await db.batch([(_CLAIM, ("t", "1", at)),
                               ("SELECT update_id FROM processed_updates", ())])
        assert done[0].rowcount == 1 and [r[0] for r in done[1].rows] == ["1"]
        # A deferred write is seen by the unit's next read, and undone with the unit.
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute_later(_CLAIM, ("t", "2", at))
                rows = await db.fetchall("SELECT update_id FROM processed_updates")
                assert sorted(r[0] for r in rows) == ["1", "2"]
                raise RuntimeError("fails half-way")
        rows = await db.fetchall("SELECT update_id FROM processed_updates")
        assert [r[0] for r in rows] == ["1"]
        # Inside a unit, statements after its first (SQLite: on the loop's thread; PostgreSQL:
        # one pipeline with the deferred writes before them) are undone when one fails.
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            async with db.transaction():
                await db.execute(_CLAIM, ("t", "3", at))
                await db.execute_later(_CLAIM, ("t", "4", at))
                await db.batch([(_CLAIM, ("t", "5", at)), (_CLAIM, ("t", "1", at)),
                                (_CLAIM, ("t", "6", at))])
        rows = await db.fetchall("SELECT update_id FROM processed_updates")
        assert [r[0] for r in rows] == ["1"]
        # Deferred writes that fail before COMMIT undo the unit too.
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            async with db.transaction():
                await db.execute(_CLAIM, ("t", "7", at))
                await db.execute_later(_CLAIM, ("t", "8", at))
                await db.execute_later(_CLAIM, ("t", "7", at))
        rows = await db.fetchall("SELECT update_id FROM processed_updates")
        assert [r[0] for r in rows] == ["1"]


@ON_BOTH_ENGINES
async def test_import_is_safe_to_repeat_and_reports_bad_rows(services: Services) -> None:
    rows = [
        {"code": "X01-001", "hamlet": "X01", "head_name": "Nguyễn Thị Lan", "members": "4"},
        {"code": "X01-009", "hamlet": "X01", "head_name": "Đỗ Văn Mạnh", "members": ""},
        {"code": "", "hamlet": "X01", "head_name": "Không Mã"},
        {"code": "X01-010", "hamlet": "Z99", "head_name": "Sai Xóm"},
        {"code": "X01-011", "hamlet": "X01", "head_name": "Lê Thị Cúc 036 185 000 123"},
        {"code": "X01-012", "hamlet": "X01", "head_name": "Vũ Văn Tài", "members": "-2"},
        {"code": "X01-009", "hamlet": "X01", "head_name": "Trùng Mã"},
    ]
    first = await services.households.import_rows(rows)
    assert (first.added, first.unchanged) == (1, 1)
    assert [r.line for r in first.rejected] == [4, 5, 6, 7, 8]
    second = await services.households.import_rows(rows)
    assert (second.added, second.unchanged) == (0, 2)
    assert await services.repos.count("households") == 6
    dump = await dump_tables(services.db)
    assert "185 000 123" not in dump


def _bot(database: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env={**os.environ, "BOT_DATABASE": database}, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout


@ON_BOTH_ENGINES
async def test_migrate_and_backup_commands(services: Services, database_target: str,
                                           tmp_path: Path) -> None:
    engine = services.db.engine
    version = await services.db.schema_version()
    assert _bot(database_target, "migrate").strip() == f"{engine}: schema version {version}"
    dest = tmp_path / "backup" / "bot.backup"
    done = _bot(database_target, "backup", str(dest))  # while the services hold it open
    # How to restore is said for the engine at hand.
    assert ("pg_restore" in done) is (engine == "postgresql"), done
    if engine == "sqlite":
        with sqlite3.connect(dest) as copy:
            names = [r[0] for r in copy.execute("SELECT head_name FROM households ORDER BY code")]
    else:
        pg_restore = Path(pg_dump_program()).with_name("pg_restore")
        data = subprocess.run([str(pg_restore), "--data-only", "--table=households", "--file=-",
                               str(dest)], capture_output=True, text=True, check=True).stdout
        names = [h["head_name"] for h in HOUSEHOLDS if h["head_name"] in data]
    assert names == [h["head_name"] for h in HOUSEHOLDS]


@ON_BOTH_ENGINES
async def test_sends_to_one_chat_are_booked_a_spacing_apart(services: Services) -> None:
    """Bookings made at one moment (by any worker) start `interval` apart per chat; another chat
    and a chat whose last send is long past start at once; old bookings are pruned."""
    store = PacingRepository(services.db)
    async with services.db.transaction():
        starts = [await store.reserve_send("telegram", "5", 1000.0, 1.1) for _ in range(3)]
        other = await store.reserve_send("telegram", "6", 1000.0, 1.1)
        later = await store.reserve_send("telegram", "5", 2000.0, 1.1)
        assert await store.prune(1500.0, 0) == 1  # chat 6's booking ran out at 1001.1
    assert starts == pytest.approx([1000.0, 1001.1, 1002.2])
    assert (other, later) == (pytest.approx(1000.0), pytest.approx(2000.0))


async def test_queued_messages_leave_nothing_that_reads_as_an_id_number(
        services: Services, clock: FakeClock) -> None:
    """Each queued message gets a unique key of its own; none may hold twelve digits in a row,
    which every privacy check takes for a citizen ID number."""
    async with services.db.transaction():
        for n in range(300):
            await services.repos.outbox.queue_message("console", f"c{n}", {"text": "Chào"},
                                                      clock())
    assert not contains_citizen_id(await dump_tables(services.db))


@ON_BOTH_ENGINES
async def test_recent_entries_mix_both_kinds_newest_first_within_the_limit(
        services: Services, console: ConsoleChannel, clock: FakeClock) -> None:
    # What /activate offers and /fix lists: a volunteer's newest entries of either kind,
    # however many older ones there are, none voided, none of someone else's.
    await join(services, console, "v1")
    await join(services, console, "v2", name="Mai")
    members = services.repos.members
    v1, v2 = await members.member("console", "v1"), await members.member("console", "v2")
    assert v1 is not None and v2 is not None
    households = [await services.repos.households.household_by_code(f"X01-00{n}")
                  for n in range(1, 5)]
    logged: list[tuple[str, int]] = []
    for n in range(8):
        clock.advance(minutes=5)
        household = households[n % 4]
        assert household is not None
        if n % 3 == 1:
            visit = await services.records.log_visit(v1, household, topics=["install"],
                                                     follow_up_on=None)
            logged.append(("visit", visit.id))
        else:
            act = await services.records.log_activation(v1, household, level2=0, activated=0,
                                                        capable=True)
            logged.append(("activation", act.id))
        await services.records.log_activation(v2, household, level2=0, activated=0,
                                               capable=True)
    kind, last = logged[-1]
    assert await services.repos.records.void_record(kind, last, v1.id, clock())
    newest = list(reversed(logged[:-1]))
    for limit in (1, 3, 6, 50):
        entries = await services.records.recent(v1, limit=limit)
        assert [(e.kind, e.id) for e in entries] == newest[:limit]
