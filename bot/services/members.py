"""Joining with one-time invites, roles and each person's language."""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.errors import Refusal
from bot.i18n import _, normalize_language
from bot.live_settings import LiveSettings, ReadsLiveSettings
from bot.models import Invite, Member, Role
from bot.textnorm import redact_citizen_ids
from storage.repositories import Repositories

# No 0/O, 1/I/L: codes are read aloud and typed on small keyboards.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
MAX_DISPLAY_NAME = 40
_CODE_SHAPE = re.compile(r"^[A-Za-z0-9]{6,32}$")


def clean_code(text: str) -> str:
    """Normalise a typed code: drop spaces and dashes, upper-case."""
    return re.sub(r"[\s\-_.]", "", text).upper()


def clean_display_name(name: str) -> str:
    """The part of a chat name worth keeping: no ID number, no control characters, short.

    Only members' names are kept (reports name the most active volunteers); citizens'
    names are never stored.
    """
    name, _found = redact_citizen_ids(name)
    printable = "".join(ch for ch in name if ch.isprintable())
    return " ".join(printable.split())[:MAX_DISPLAY_NAME]


class JoinStatus(StrEnum):
    JOINED = "joined"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    PAUSED = "paused"
    ALREADY = "already"  # a member sent a code for what they already are: the code stays valid


@dataclass(frozen=True)
class JoinResult:
    status: JoinStatus
    member: Member | None = None
    wait_minutes: int = 0


class MembershipService(ReadsLiveSettings):
    """Rules for invites and joining."""

    def __init__(self, repos: Repositories, settings: LiveSettings, clock: Clock) -> None:
        self.repos = repos
        self.live = settings
        self.clock = clock

    async def create_invite(self, role: Role, *, hamlet_code: str | None = None,
                            commune_code: str | None = None,
                            created_by: Member | None = None) -> Invite:
        """Store a new one-time code; volunteers need a hamlet, officers a commune."""
        if role is Role.PROVINCE:
            if created_by is not None and created_by.role is not Role.PROVINCE:
                raise Refusal(_("Only province officers can invite province officers."))
            hamlet_code = commune_code = None
        elif hamlet_code:
            found = self.settings.hamlet(hamlet_code)
            if found is None:
                raise Refusal(_("unknown hamlet code {hamlet!r}").format(hamlet=hamlet_code))
            commune_code, hamlet_code = found[0].code, found[1].code
        elif role is Role.VOLUNTEER:
            raise Refusal(_("A volunteer invite needs a hamlet."))
        if role is not Role.PROVINCE:
            if commune_code is None:
                if len(self.settings.communes) > 1:
                    raise Refusal(_("There are several communes: say which one (--commune)."))
                commune_code = self.settings.communes[0].code
            self.settings.commune(commune_code)
            if created_by is not None and created_by.role is Role.OFFICER and \
                    created_by.commune_code != commune_code:
                raise Refusal(_("Officers can invite people to their own commune only."))
        now = self.clock()
        invite = Invite(
            code="".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH)),
            role=role, commune_code=commune_code,
            hamlet_code=hamlet_code if role is Role.VOLUNTEER else None,
            created_at=now, expires_at=now + timedelta(days=self.settings.bot.invite_ttl_days),
            used_by=None,
        )
        async with self.repos.db.transaction():
            await self.repos.invites.add(invite, created_by.id if created_by else None)
            await self.repos.audit(member_id=created_by.id if created_by else None,
                                   action="create", entity="invite", entity_id=invite.code,
                                   details={"role": role.value, "hamlet": hamlet_code,
                                            "commune": commune_code}, at=now)
        return invite

    async def join(self, *, channel: str, external_id: str, display_name: str,
                   typed_code: str) -> JoinResult:
        """Join with a code, slowing down repeated wrong guesses."""
        now = self.clock()
        cfg = self.settings.bot
        window_start = now - timedelta(minutes=cfg.invite_failure_window_minutes)
        # Per account, and across all accounts: many accounts guessing together are slowed
        # down as much as one.
        for failures, limit in (
                (await self.repos.invites.failures_since(channel, external_id, window_start),
                 cfg.max_invite_failures),
                (await self.repos.invites.all_failures_since(window_start),
                 cfg.max_invite_failures_global)):
            if len(failures) >= limit:
                unlock = failures[-limit] + timedelta(minutes=cfg.invite_failure_window_minutes)
                minutes = max(1, math.ceil((unlock - now).total_seconds() / 60))
                return JoinResult(JoinStatus.PAUSED, wait_minutes=minutes)

        code = clean_code(typed_code)
        invite = await self.repos.invites.get(code) if _CODE_SHAPE.match(code) else None
        if invite is None:
            await self.repos.invites.add_failure(channel, external_id, now)
            return JoinResult(JoinStatus.UNKNOWN)
        existing = await self.repos.members.member(channel, external_id)
        if invite.used_by is not None:
            if existing is not None and existing.id == invite.used_by:
                return JoinResult(JoinStatus.JOINED, existing)
            return JoinResult(JoinStatus.USED)
        if invite.expires_at <= now:
            return JoinResult(JoinStatus.EXPIRED)
        if existing is not None and (existing.role, existing.commune_code,
                                     existing.hamlet_code) == (
                invite.role, invite.commune_code, invite.hamlet_code):
            # Using it would change nothing for them and lock out the person it was meant for.
            return JoinResult(JoinStatus.ALREADY, existing)

        language = await self.language_of(channel, external_id)
        member = await self.repos.members.upsert_member(
            channel=channel, external_id=external_id,
            display_name=clean_display_name(display_name),
            role=invite.role, commune_code=invite.commune_code, hamlet_code=invite.hamlet_code,
            language=language, at=now)
        if not await self.repos.invites.use(code, member.id, now):
            raise RuntimeError("invite was used concurrently")  # rolls the whole update back
        await self.repos.audit(member_id=member.id, action="join", entity="member",
                               entity_id=member.id,
                               details={"invite": code, "role": invite.role.value,
                                        "hamlet": invite.hamlet_code}, at=now)
        return JoinResult(JoinStatus.JOINED, member)

    async def language_of(self, channel: str, external_id: str) -> str:
        """The language to answer in: the person's own choice, else the deployment default."""
        # The client's language hint is ignored on purpose: many Vietnamese phones run in
        # English, and the product speaks Vietnamese until the person asks otherwise (/lang).
        member = await self.repos.members.member(channel, external_id)
        chosen = None if member else await self.repos.members.user_language(channel, external_id)
        return self.language_from(member, chosen)

    def language_from(self, member: Member | None, chosen: str | None) -> str:
        """A member's language, else the one chosen before joining, else the default."""
        if member is not None:
            return member.language
        return chosen or self.settings.bot.default_language

    async def set_language(self, channel: str, external_id: str, language: str) -> None:
        """Remember someone's language choice."""
        language = normalize_language(language)
        member = await self.repos.members.member(channel, external_id)
        if member is not None:
            await self.repos.members.set_member_language(member.id, language)
        else:
            await self.repos.members.set_user_language(channel, external_id, language)
