"""The conversations aggregate: where each person is in a flow, the buttons they were offered,
and the updates already processed (so a re-delivered one is applied once)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from bot.models import Conversation
from storage.engine import Database, Row, Statement
from storage.values import ts


def conversation_from(row: Row) -> Conversation:
    """A conversations row as the project's Conversation."""
    return Conversation(row["flow"], row["step"], json.loads(row["data"]))


# Statements the start of an update also runs, in its one trip (Repositories.open_update).
def conversation_query(channel: str, external_id: str) -> Statement:
    """Where this person is in a flow."""
    return ("SELECT flow, step, data FROM conversations WHERE channel = ? AND external_id = ?",
            (channel, external_id))


def was_offered_query(channel: str, external_id: str, value: str) -> Statement:
    """Whether this button value is still remembered as offered to this person."""
    return ("SELECT 1 FROM button_offers WHERE channel = ? AND external_id = ? AND value = ?",
            (channel, external_id, value))


def latest_offers_query(channel: str, external_id: str) -> Statement:
    """Button values still remembered from the options last shown (a typed choice picks one
    of those)."""
    return ("SELECT b.value FROM button_offers b JOIN offered_options o"
            " ON o.channel = b.channel AND o.external_id = b.external_id"
            " WHERE b.channel = ? AND b.external_id = ? AND b.offered_at >= o.offered_at",
            (channel, external_id))


def claim_statement(channel: str, update_id: str, at: datetime) -> Statement:
    """Record an update as processed; it changes no row when it was processed before."""
    return ("INSERT INTO processed_updates (channel, update_id, processed_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING", (channel, update_id, ts(at)))


class ConversationStore(Protocol):
    """Flow states, offered buttons and processed updates: kept, read back and pruned."""

    async def conversation(self, channel: str, external_id: str) -> Conversation | None: ...

    async def save(self, channel: str, external_id: str, state: Conversation | None,
                   at: datetime) -> None: ...

    async def remember_options(self, channel: str, external_id: str, values: Iterable[str],
                               at: datetime, keep_since: datetime) -> None: ...

    async def was_offered(self, channel: str, external_id: str, value: str) -> bool: ...

    async def prune_processed_updates(self, before: datetime) -> int: ...

    async def prune_idle(self, before: datetime) -> int: ...


class ConversationRepository:
    """Every statement on conversations, button_offers and processed_updates."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def conversation(self, channel: str, external_id: str) -> Conversation | None:
        """Where this person is in a flow, if in one."""
        row = await self.db.fetchone(*conversation_query(channel, external_id))
        return conversation_from(row) if row else None

    async def save(self, channel: str, external_id: str, state: Conversation | None,
                   at: datetime) -> None:
        """Store where the user is, or forget it when the flow ended (state None); sent with
        the unit of work's next trip."""
        if state is None:
            await self.db.execute_later(
                "DELETE FROM conversations WHERE channel = ? AND external_id = ?",
                (channel, external_id))
            return
        await self.db.execute_later(
            "INSERT INTO conversations (channel, external_id, flow, step, data, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, external_id) DO UPDATE SET"
            " flow=excluded.flow, step=excluded.step, data=excluded.data,"
            " updated_at=excluded.updated_at",
            (channel, external_id, state.flow, state.step,
             json.dumps(state.data, ensure_ascii=False), ts(at)))

    async def remember_options(self, channel: str, external_id: str, values: Iterable[str],
                               at: datetime, keep_since: datetime) -> None:
        """Note the button values offered to someone; forget offers older than `keep_since`
        (with the unit of work's next trip: a few values, one statement each)."""
        for value in values:
            await self.db.execute_later(
                "INSERT INTO button_offers (channel, external_id, value, offered_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (channel, external_id, value)"
                " DO UPDATE SET offered_at=excluded.offered_at",
                (channel, external_id, value, ts(at)))
        await self.db.execute_later("DELETE FROM button_offers WHERE offered_at < ?",
                                    (ts(keep_since),))

    async def was_offered(self, channel: str, external_id: str, value: str) -> bool:
        """Whether this button value was offered to this person (and not yet forgotten)."""
        return bool(await self.db.fetchall(*was_offered_query(channel, external_id, value)))

    async def prune_processed_updates(self, before: datetime) -> int:
        """Forget update ids recorded before `before`."""
        cursor = await self.db.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?", (ts(before),))
        return cursor.rowcount

    async def prune_idle(self, before: datetime) -> int:
        """Drop conversations nobody touched since `before` (nothing of them was saved)."""
        cursor = await self.db.execute(
            "DELETE FROM conversations WHERE updated_at < ?", (ts(before),))
        return cursor.rowcount
