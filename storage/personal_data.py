"""SQL behind a person's rights over their data: what is held about them, and erasing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.engine import Database

# Tables keyed by the chat account, removed whole on erasure: they say nothing the commune
# must keep (where a conversation stands, a language choice, buttons offered, wrong codes,
# when the person last wrote).
_ACCOUNT_TABLES = ("conversations", "user_languages", "offered_options", "button_offers",
                   "invite_failures", "citizen_profiles", "contacts", "message_counts")


@dataclass
class ErasureCounts:
    """How many rows an erasure removed or de-attributed, by kind."""

    removed: dict[str, int] = field(default_factory=dict)
    kept_without_name: dict[str, int] = field(default_factory=dict)


class PersonalDataRepository:
    """Everything stored about one chat account, read or erased."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def held_about(self, channel: str, external_id: str) -> dict[str, Any]:
        """Every row linked to the account, by table (members' records as well)."""
        account = (channel, external_id)
        held: dict[str, Any] = {}
        for table in (*_ACCOUNT_TABLES, "members", "citizen_questions", "ratings", "petitions"):
            rows = await self.db.fetchall(
                f"SELECT * FROM {table} WHERE channel = ? AND external_id = ?", account)
            held[table] = [dict(r) for r in rows]
        member_ids = [m["id"] for m in held["members"]] or [
            r["member_id"] for r in await self.db.fetchall(
                "SELECT member_id FROM member_accounts WHERE channel = ? AND external_id = ?",
                account)]
        held["linked_accounts"] = [dict(r) for member_id in member_ids for r in
                                   await self.db.fetchall(
                                       "SELECT * FROM member_accounts WHERE member_id = ?",
                                       (member_id,))]
        for table, column in (("activations", "member_id"), ("visits", "member_id"),
                              ("audit_log", "member_id"), ("outbox", "member_id"),
                              ("office_figures", "entered_by"),
                              ("households", "created_by")):
            rows = []
            for member_id in member_ids:
                rows += await self.db.fetchall(f"SELECT * FROM {table} WHERE {column} = ?",
                                               (member_id,))
            held[table] = [dict(r) for r in rows]
        held["answers_given"] = [dict(r) for member_id in member_ids for r in
                                 await self.db.fetchall(
                                     "SELECT id, answered_at, answer FROM citizen_questions"
                                     " WHERE answered_by = ?", (member_id,))]
        return held

    async def erase(self, channel: str, external_id: str) -> ErasureCounts:
        """Remove what is only about the person; keep the commune's records without their name.

        Call inside a transaction.
        """
        account = (channel, external_id)
        counts = ErasureCounts()
        # Questions passed on to the team were copied into the messages that carried them.
        for question in await self.db.fetchall(
                "SELECT id FROM citizen_questions WHERE channel = ? AND external_id = ?", account):
            await self.db.execute(
                "DELETE FROM outbox WHERE payload LIKE ?",
                (f'%"ans:pick:{question["id"]}"%',))
        for table in (*_ACCOUNT_TABLES, "citizen_questions"):
            cursor = await self.db.execute(
                f"DELETE FROM {table} WHERE channel = ? AND external_id = ?", account)
            counts.removed[table] = cursor.rowcount
        # Ratings feed the commune's satisfaction figure: the vote stays, the account goes.
        cursor = await self.db.execute(
            "UPDATE ratings SET external_id = 'erased-' || id WHERE channel = ?"
            " AND external_id = ?", account)
        counts.kept_without_name["ratings"] = cursor.rowcount
        # A petition is an administrative record the commune must keep and answer; the
        # account and chat that sent it are cut off (no more updates reach the person).
        cursor = await self.db.execute(
            "UPDATE petitions SET external_id = 'erased-' || id, chat_id = 'erased-' || id,"
            " photo_file_id = NULL WHERE channel = ? AND external_id = ?", account)
        counts.kept_without_name["petitions"] = cursor.rowcount
        cursor = await self.db.execute(
            "DELETE FROM outbox WHERE channel = ? AND chat_id = ? AND payload IS NOT NULL",
            account)
        counts.removed["messages"] = cursor.rowcount
        cursor = await self.db.execute(
            "DELETE FROM send_pacing WHERE channel = ? AND chat_id = ?", account)
        counts.removed["send_pacing"] = cursor.rowcount
        member = await self.db.fetchone(
            "SELECT id FROM members WHERE channel = ? AND external_id = ? UNION"
            " SELECT member_id FROM member_accounts WHERE channel = ? AND external_id = ?",
            (*account, *account))
        if member is not None:
            member_id = member[0]
            cursor = await self.db.execute(
                "DELETE FROM outbox WHERE member_id = ? AND status <> 'sent'", (member_id,))
            counts.removed["outbox"] = cursor.rowcount
            for table in ("member_accounts", "link_codes"):
                cursor = await self.db.execute(f"DELETE FROM {table} WHERE member_id = ?",
                                               (member_id,))
                counts.removed[table] = cursor.rowcount
            # Records a volunteer logged are the commune's statistics: they stay, no longer
            # linked to a name or a chat account.
            await self.db.execute(
                "UPDATE members SET display_name = '', channel = 'erased',"
                " external_id = 'erased-' || id, preferred_channel = NULL WHERE id = ?",
                (member_id,))
            for table in ("activations", "visits"):
                row = await self.db.fetchone(
                    f"SELECT COUNT(*) AS n FROM {table} WHERE member_id = ?", (member_id,))
                counts.kept_without_name[table] = int(row["n"]) if row else 0
        return counts
