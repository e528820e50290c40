"""SQL of the limits every worker shares: sends to one chat spaced out, and each person's
message count per minute (the help desk's flood guard)."""

from __future__ import annotations

from storage.engine import Database


class PacingRepository:
    """Rows that several worker processes update atomically, so their limits add up to one."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def reserve_send(self, channel: str, chat_id: str, now: float, interval: float) -> float:
        """Book the chat's next send: returns its start (epoch seconds), at least `interval`
        after the send booked before it, by any worker (one atomic statement)."""
        row = await self.db.fetchone(
            "INSERT INTO send_pacing (channel, chat_id, free_at) VALUES (?, ?, ?)"
            " ON CONFLICT (channel, chat_id) DO UPDATE SET free_at = CASE"
            "   WHEN send_pacing.free_at > ? THEN send_pacing.free_at + ? ELSE ? END"
            " RETURNING free_at", (channel, chat_id, now + interval, now, interval,
                                   now + interval))
        assert row is not None
        return float(row[0]) - interval

    async def count_message(self, channel: str, external_id: str, minute: int) -> int:
        """Count one message from a person in `minute` (minutes since the epoch); returns how
        many they sent in that minute, this one included."""
        row = await self.db.fetchone(
            "INSERT INTO message_counts (channel, external_id, minute, messages)"
            " VALUES (?, ?, ?, 1) ON CONFLICT (channel, external_id) DO UPDATE SET"
            " messages = CASE WHEN message_counts.minute = excluded.minute"
            "   THEN message_counts.messages + 1 ELSE 1 END, minute = excluded.minute"
            " RETURNING messages", (channel, external_id, minute))
        assert row is not None
        return int(row[0])

    async def prune(self, sends_before: float, minute_before: int) -> int:
        """Forget chats nobody was sent anything since `sends_before`, and counts of minutes
        before `minute_before`: they no longer limit anything."""
        sends = await self.db.execute("DELETE FROM send_pacing WHERE free_at < ?",
                                      (sends_before,))
        counts = await self.db.execute("DELETE FROM message_counts WHERE minute < ?",
                                       (minute_before,))
        return sends.rowcount + counts.rowcount
