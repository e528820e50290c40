"""Announcements: an officer's short message to the commune's citizens, its volunteers, or one
hamlet; who receives it, and how many it reached and why the others were not."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock
from bot.errors import Refusal
from bot.i18n import N_, _, fmt_int, ngettext, use_language
from bot.live_settings import LiveSettings, ReadsLiveSettings
from bot.models import Member, Role
from bot.reports.outbox import Undelivered
from bot.services.accounts import AccountService
from storage.announcements import Announcement
from storage.repositories import Repositories

MAX_TEXT_CHARS = 1000  # one message, and short enough for a photo caption (1,024)


class Audience(StrEnum):
    CITIZENS = "citizens"  # citizens of the commune who have written to the bot
    VOLUNTEERS = "volunteers"  # the commune's volunteers
    HAMLET = "hamlet"  # one hamlet: its volunteers and the citizens who live there


@dataclass(frozen=True)
class Recipient:
    """Someone an announcement goes to: a volunteer, or a citizen by the account they wrote
    from."""

    channel: str
    external_id: str


class AnnouncementService(ReadsLiveSettings):
    """Picks the audience, stores the announcement and tells its officer the outcome."""

    def __init__(self, repos: Repositories, settings: LiveSettings, clock: Clock,
                 accounts: AccountService) -> None:
        self.repos = repos
        self.live = settings
        self.clock = clock
        self.accounts = accounts
        self.store = repos.announcements

    async def recipients(self, commune_code: str, audience: Audience,
                         hamlet_code: str | None = None) -> list[Recipient]:
        """Everyone an announcement to this audience reaches, each once."""
        commune = self.settings.commune(commune_code)
        hamlets = [h.code for h in commune.hamlets]
        people: list[Recipient] = []
        if audience is Audience.HAMLET:
            if hamlet_code not in hamlets:
                raise Refusal(_("That hamlet is not in your commune."))
            hamlets = [str(hamlet_code)]
        if audience in (Audience.VOLUNTEERS, Audience.HAMLET):
            for member in await self.repos.members.matching(commune_code=commune_code,
                                                   role=Role.VOLUNTEER):
                if member.hamlet_code in hamlets:
                    people.append(Recipient(member.channel, member.external_id))
        if audience in (Audience.CITIZENS, Audience.HAMLET):
            # Citizens who never said where they live belong to the commune only when the
            # deployment has one commune.
            unplaced = audience is Audience.CITIZENS and len(self.settings.communes) == 1
            for contact in await self.store.citizens(hamlets, include_unplaced=unplaced):
                people.append(Recipient(contact.channel, contact.external_id))
        return people

    async def create(self, member: Member, audience: Audience, hamlet_code: str | None,
                     text: str, photo: tuple[str, str] | None
                     ) -> tuple[Announcement, list[Recipient]]:
        """Store an officer's announcement with its recipients counted now; the caller queues
        one message per recipient in the same transaction."""
        if member.role is not Role.OFFICER or member.commune_code is None:
            raise Refusal(_("Only commune officers can send announcements."))
        text = text.strip()
        if not text:
            raise Refusal(_("Please type the announcement."))
        if len(text) > MAX_TEXT_CHARS:
            raise Refusal(_("Please keep the announcement under {n} characters; it has "
                            "{m}.").format(n=MAX_TEXT_CHARS, m=len(text)))
        people = await self.recipients(member.commune_code, audience, hamlet_code)
        if not people:
            raise Refusal(_("Nobody can receive it yet."))
        now = self.clock()
        async with self.repos.db.transaction():
            announcement = await self.store.add(
                commune_code=member.commune_code, audience=audience.value,
                hamlet_code=hamlet_code if audience is Audience.HAMLET else None, text=text,
                photo_file_id=photo[1] if photo else None,
                photo_channel=photo[0] if photo else None,
                created_by=member.id, at=now, recipients=len(people))
            await self.repos.audit(member_id=member.id, action="announce",
                                   entity="announcement", entity_id=announcement.id,
                                   details={"audience": audience.value, "hamlet": hamlet_code,
                                            "recipients": len(people)}, at=now)
        return announcement, people

    async def report_finished(self) -> bool:
        """Tell each officer how their settled announcements went: how many were reached and
        why the others were not. True when a report was queued."""
        queued = False
        # One transaction: an announcement being written meanwhile is never seen half-queued.
        async with self.repos.db.transaction():
            for announcement in await self.store.settled_unreported():
                await self.store.mark_reported(announcement.id, self.clock())
                officer = await self.repos.members.member_by_id(announcement.created_by)
                if officer is None:
                    continue
                outcome = await self.repos.outbox.topic_outcome(announcement.topic)
                channel, chat_id = await self.accounts.reach(officer.channel,
                                                             officer.external_id)
                with use_language(officer.language):
                    text = outcome_text(announcement, outcome)
                await self.repos.outbox.queue_message(
                    channel, chat_id, {"text": text, "options": []}, self.clock())
                queued = True
        return queued


def outcome_text(announcement: Announcement, outcome: dict[tuple[str, str | None], int]) -> str:
    """"Announcement no. 3 reached 5 of 7 people. Not reached: 1 blocked the bot; …"."""
    reached = sum(n for (status, _reason), n in outcome.items() if status == "sent")
    total = sum(outcome.values())
    lines = [_("Announcement no. {id} reached {reached} of {total}.").format(
        id=announcement.id, reached=fmt_int(reached),
        total=ngettext("{n} person", "{n} people", total).format(n=fmt_int(total)))]
    missed: dict[str, int] = {}
    for (status, reason), n in outcome.items():
        if status == "failed":
            key = reason or Undelivered.FAILED
            missed[key] = missed.get(key, 0) + n
    why: dict[str, str] = {
        Undelivered.BLOCKED: N_("{n} had blocked the bot"),
        Undelivered.OUTSIDE_WINDOW: N_("{n} on Zalo had not written to us for more than 7 "
                                       "days, and Zalo does not let the bot write first"),
        Undelivered.IN_DOUBT: N_("{n} may have got it, but the app did not confirm it"),
        Undelivered.FAILED: N_("{n} could not be reached after several tries"),
    }
    if missed:
        lines.append(_("Not reached:"))
        lines += [f"• {_(why.get(reason, why[Undelivered.FAILED])).format(n=fmt_int(n))}"
                  for reason, n in sorted(missed.items())]
    return "\n".join(lines)
