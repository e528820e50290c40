"""One person, several apps: link accounts to one membership, pick where messages go."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.clock import Clock
from bot.errors import Refusal
from bot.i18n import _
from bot.models import Member
from bot.services.members import clean_code
from storage.repositories import Repositories

LINK_CODE_LENGTH = 8
LINK_MINUTES = 30
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class AccountService:
    """Link codes, linked accounts and each member's preferred channel."""

    def __init__(self, repos: Repositories, clock: Clock) -> None:
        self.repos = repos
        self.store = repos.channels
        self.clock = clock

    async def new_link_code(self, member: Member) -> str:
        """A one-time code the member types in the other app within 30 minutes."""
        code = "".join(secrets.choice(_ALPHABET) for _ in range(LINK_CODE_LENGTH))
        async with self.repos.db.transaction():
            await self.store.add_link_code(code, member.id,
                                           self.clock() + timedelta(minutes=LINK_MINUTES))
        return code

    async def link(self, channel: str, external_id: str, typed_code: str) -> Member:
        """Attach this account to the membership the code belongs to; the code is spent."""
        async with self.repos.db.transaction():
            if await self.repos.members.member(channel, external_id) is not None:
                raise Refusal(_("This account is already a team member's account, so there is "
                                "nothing to link."))
            member_id = await self.store.use_link_code(clean_code(typed_code), self.clock())
            if member_id is None:
                raise Refusal(_("That link code is not valid or has expired. In the app where "
                                "you joined, send /link to get a new one."))
            await self.store.link_account(channel, external_id, member_id, self.clock())
            await self.repos.audit(member_id=member_id, action="link", entity="account",
                                   entity_id=f"{channel}:{external_id}", details={},
                                   at=self.clock())
        member = await self.repos.members.member_by_id(member_id)
        assert member is not None
        return member

    async def channels_of(self, member: Member) -> list[str]:
        """The channels a member can be reached on."""
        return [channel for channel, _id in await self.store.accounts(member.id)]

    async def prefer(self, member: Member, channel: str) -> None:
        """Send reminders and digests on this channel from now on."""
        await self.store.set_preferred_channel(member.id, channel)

    async def reach(self, channel: str, external_id: str) -> tuple[str, str]:
        """Where to write to the owner of an account: their preferred linked account, if any."""
        member = await self.repos.members.member(channel, external_id)
        if member is None:
            return channel, external_id
        preferred = await self.store.preferred_channel(member.id)
        for account in await self.store.accounts(member.id):
            if account[0] == preferred:
                return account
        return channel, external_id
