"""The database under faults: a failed BEGIN, a full disk, synchronous writes, backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.services import Services
from storage.db import Database


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
            async with db.transaction():
                pass
        other.rollback()
        other.close()
        # The next unit of work must still be all-or-nothing.
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("fails half-way")
        assert await db.fetchall("SELECT * FROM t") == []


async def test_records_are_written_with_full_sync(services: Services) -> None:
    row = await services.db.fetchone("PRAGMA synchronous")
    assert row is not None and row[0] == 2  # FULL
