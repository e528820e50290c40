"""SQL of the outbox: reports and messages for other people, their leases and per-message
progress."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.engine import Database, Row

_COLUMNS = ("id, report, period, channel, chat_id, member_id, next_part, unknown_parts, attempts,"
            " payload")
MESSAGE = "message"  # the `report` of a row that carries its own message (payload)


def _ts(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class OutboxItem:
    """One queued message group (e.g. a digest's text, chart and workbook) for one chat."""

    id: int
    report: str
    period: str
    channel: str
    chat_id: str
    member_id: int | None
    next_part: int  # messages before this one are settled (sent or in doubt)
    unknown_parts: str  # comma-separated indexes of messages whose fate is not known
    attempts: int
    payload: dict[str, Any] | None = None  # a message for someone (None: a report, built later)


def _item(row: Row) -> OutboxItem:
    return OutboxItem(row["id"], row["report"], row["period"], row["channel"], row["chat_id"],
                      row["member_id"], row["next_part"], row["unknown_parts"], row["attempts"],
                      json.loads(row["payload"]) if row["payload"] else None)


def _with_part(parts: str, index: int) -> str:
    return f"{parts},{index}" if parts else str(index)


def _message_key() -> str:
    """A message row's unique `period`: random letters only, since a run of twelve digits
    (as a hex uuid can hold) would read as a citizen ID number to every privacy check."""
    return uuid.uuid4().hex.translate(_LETTERS)


_LETTERS = str.maketrans("0123456789", "ghijklmnop")


@dataclass(frozen=True)
class Recipient:
    """Where a queued message goes."""

    channel: str
    chat_id: str
    member_id: int | None = None


class OutboxRepository:
    """Every statement on the outbox table; callers wrap writes in a transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(self, report: str, period: str, recipients: Iterable[Recipient],
                      at: datetime) -> int:
        """Add rows; a (report, period, channel, chat) already queued is left alone."""
        return await self.db.executemany(
            "INSERT INTO outbox (report, period, channel, chat_id, member_id, next_attempt,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(report, period, r.channel, r.chat_id, r.member_id, _ts(at), _ts(at))
             for r in recipients])

    async def queue_message(self, channel: str, chat_id: str, payload: dict[str, Any],
                            at: datetime, *, topic: str | None = None,
                            not_sent: str | None = None) -> int:
        """Queue one message for someone; `topic` groups messages to count their outcome, and
        `not_sent` records one that is not attempted at all, with the reason."""
        row = await self.db.fetchone(
            "INSERT INTO outbox (report, period, channel, chat_id, payload, topic, status,"
            " reason, next_attempt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            (MESSAGE, _message_key(), channel, chat_id, json.dumps(payload, ensure_ascii=False),
             topic, "failed" if not_sent else "pending", not_sent, _ts(at), _ts(at)))
        assert row is not None
        return int(row[0])

    async def claim(self, owner: str, now: datetime, lease_until: datetime, *,
                    messages_only: bool = False) -> OutboxItem | None:
        """Take one due row nobody holds (atomic: call inside a write transaction).

        A row found `sending` was left by a process that died while a message was on its way:
        that message is recorded as in doubt and delivery resumes after it.
        """
        row = await self.db.fetchone(
            "UPDATE outbox SET lease_owner = ?, lease_until = ?,"
            " unknown_parts = CASE status WHEN 'sending' THEN"
            "   (CASE unknown_parts WHEN '' THEN '' ELSE unknown_parts || ',' END) || next_part"
            "   ELSE unknown_parts END,"
            " next_part = next_part + CASE status WHEN 'sending' THEN 1 ELSE 0 END,"
            " status = 'pending'"
            " WHERE id = (SELECT id FROM outbox WHERE status IN ('pending', 'sending')"
            "   AND next_attempt <= ? AND (lease_until IS NULL OR lease_until < ?)"
            + (" AND payload IS NOT NULL" if messages_only else "") +
            f"   ORDER BY next_attempt, id LIMIT 1{self.db.skip_locked})"
            f" RETURNING {_COLUMNS}", (owner, _ts(lease_until), _ts(now), _ts(now)))
        return _item(row) if row else None

    async def mark_sending(self, item_id: int, part: int, lease_until: datetime) -> None:
        """Message `part` is about to be handed to the channel (committed before the send)."""
        await self.db.execute(
            "UPDATE outbox SET status = 'sending', next_part = ?, lease_until = ? WHERE id = ?",
            (part, _ts(lease_until), item_id))

    async def mark_settled(self, item_id: int, part: int, *, in_doubt: bool) -> None:
        """Message `part` went out (or its answer was lost: `in_doubt`); move past it."""
        if in_doubt:
            row = await self.db.fetchone("SELECT unknown_parts FROM outbox WHERE id = ?",
                                         (item_id,))
            parts = _with_part(row["unknown_parts"] if row else "", part)
            await self.db.execute(
                "UPDATE outbox SET status = 'pending', next_part = ?, unknown_parts = ?"
                " WHERE id = ?", (part + 1, parts, item_id))
        else:
            await self.db.execute(
                "UPDATE outbox SET status = 'pending', next_part = ? WHERE id = ?",
                (part + 1, item_id))

    async def finish(self, item_id: int, at: datetime) -> str:
        """Every message is settled: `sent`, or `unknown` when one of them is in doubt."""
        row = await self.db.fetchone(
            "UPDATE outbox SET status = CASE unknown_parts WHEN '' THEN 'sent' ELSE 'unknown' END,"
            " sent_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?"
            " RETURNING status", (_ts(at), item_id))
        return str(row["status"]) if row else "sent"

    async def postpone(self, item_id: int, part: int, next_attempt: datetime, error: str, *,
                       give_up: bool, reason: str | None = None) -> None:
        """Message `part` was surely not delivered: try again later, or give up (`reason`)."""
        await self.db.execute(
            "UPDATE outbox SET status = ?, next_part = ?, next_attempt = ?, last_error = ?,"
            " reason = ?, attempts = attempts + 1, lease_owner = NULL, lease_until = NULL"
            " WHERE id = ?",
            ("failed" if give_up else "pending", part, _ts(next_attempt), error[:500],
             reason if give_up else None, item_id))

    async def count_due(self, now: datetime, *, messages_only: bool = False) -> int:
        """Rows a delivery run could take now."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')"
            " AND next_attempt <= ? AND (lease_until IS NULL OR lease_until < ?)"
            + (" AND payload IS NOT NULL" if messages_only else ""), (_ts(now), _ts(now)))
        return int(row["n"]) if row else 0

    async def topic_outcome(self, topic: str) -> dict[tuple[str, str | None], int]:
        """How the messages of a topic stand: (status, reason) → count; a message in doubt
        counts as not delivered, for that reason."""
        rows = await self.db.fetchall(
            "SELECT CASE status WHEN 'unknown' THEN 'failed' ELSE status END,"
            " CASE status WHEN 'unknown' THEN 'in_doubt' ELSE reason END, COUNT(*)"
            " FROM outbox WHERE topic = ? GROUP BY 1, 2", (topic,))
        return {(r[0], r[1]): int(r[2]) for r in rows}

    async def messages(self) -> list[dict[str, Any]]:
        """Every queued message for someone, not the reports (for tests and the CLI)."""
        return [dict(r) for r in await self.db.fetchall(
            "SELECT * FROM outbox WHERE payload IS NOT NULL ORDER BY id")]

    async def release(self, owner: str, *, all_rows: bool = False) -> None:
        """Hand back rows an owner holds: those it is not sending (a clean stop), or all of
        them (the owner is dead: a row it left `sending` is then settled by the next claim)."""
        await self.db.execute(
            "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?"
            + ("" if all_rows else " AND status = 'pending'"), (owner,))

    async def renew(self, owner: str, lease_until: datetime) -> None:
        """Extend the leases an owner holds (it is alive and still working on them)."""
        await self.db.execute(
            "UPDATE outbox SET lease_until = ? WHERE lease_owner = ?", (_ts(lease_until), owner))

    async def lease_owners(self, now: datetime) -> list[str]:
        """Owners holding a lease that has not run out."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT lease_owner FROM outbox WHERE lease_until >= ?", (_ts(now),))
        return [str(r[0]) for r in rows]

    async def prune(self, before: datetime) -> int:
        """Forget settled rows older than `before` (their key no longer guards anything)."""
        cursor = await self.db.execute(
            "DELETE FROM outbox WHERE status IN ('sent', 'unknown', 'failed') AND created_at < ?",
            (_ts(before),))
        return cursor.rowcount

    async def rows(self, report: str | None = None) -> list[dict[str, Any]]:
        """Outbox rows (for the CLI and tests)."""
        sql = "SELECT * FROM outbox" + (" WHERE report = ?" if report else "") + " ORDER BY id"
        return [dict(r) for r in await self.db.fetchall(sql, [report] if report else [])]
