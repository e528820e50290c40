"""A person's rights over their data (Decree 13/2023/NĐ-CP): see what is held, have it erased.

What erasure does, and why:
- removed: the account's conversation, language choice, offered buttons, wrong invite codes,
  home hamlet, and a citizen's questions (with any answer given to them);
- kept without a name: activations and visits a volunteer logged, answers they gave and
  ratings a citizen gave stay in the commune's figures, which the plans require it to report;
  the member row that owns them loses its name and chat account, so nothing links them back
  to the person. Office figures an officer entered stay for the same reason; petitions
  (phản ánh, kiến nghị) are administrative records the commune must keep and answer: they
  stay, cut off from the account and chat that sent them, without the photo reference;
- the audit trail keeps one row saying an erasure happened (no name, no chat id).
"""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from storage.personal_data import ErasureCounts
from storage.repositories import Repositories


class PrivacyService:
    """Export and erase everything held about one chat account."""

    def __init__(self, repos: Repositories, clock: Clock) -> None:
        self.repos = repos
        self.store = repos.personal_data
        self.clock = clock

    async def export(self, channel: str, external_id: str) -> dict[str, Any]:
        """Every row held about the account, by table, for an officer to hand over."""
        return {"channel": channel, "user": external_id,
                "exported_at": self.clock().isoformat(),
                "data": await self.store.held_about(channel, external_id)}

    async def erase(self, channel: str, external_id: str) -> ErasureCounts:
        """Erase the account's personal data (see the module's docstring for what stays)."""
        member = await self.repos.members.member(channel, external_id)
        async with self.repos.db.transaction():
            counts = await self.store.erase(channel, external_id)
            await self.repos.audit(member_id=member.id if member else None, action="erase",
                                   entity="person", entity_id=None,
                                   details={"role": member.role.value if member else "citizen"},
                                   at=self.clock())
        return counts
