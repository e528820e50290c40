"""A console channel: drives the real flows from code (the demo, tests) or a terminal."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from bot.channels.plain import render_replies
from bot.messages import Incoming, Kind, Reply
from bot.models import Member
from bot.reports.outbox import Outbox
from handlers.router import Router
from storage.outbox import OutboxItem

CHANNEL = "console"


class ConsoleChannel:
    """Sends text or button presses as a given user and returns the replies.

    Messages the router queued for other console users are delivered at once and returned
    with the sender's replies, marked with `to`, so a script sees the whole exchange.
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self._ids = itertools.count(1)
        self.last: dict[str, list[Reply]] = {}
        services = router.services
        # Only messages between console users, one at a time so a script sees them in order;
        # reports are delivered by the reporting side's own outbox.
        self.outbox = Outbox(services.db, services.repos, services.clock, _no_reports,
                             {CHANNEL: self}, workers=1, chat_interval=0.0, messages_only=True)
        self._delivered: list[Reply] = []

    async def send(self, user_id: str, text: str = "", *, option: str = "",
                   name: str = "", other: bool = False) -> list[Reply]:
        """Deliver one message (or a button press when `option` is set) from a user."""
        kind = Kind.OTHER if other else Kind.OPTION if option else Kind.TEXT
        msg = Incoming(channel=CHANNEL, user_id=user_id, chat_id=user_id,
                       update_id=str(next(self._ids)), kind=kind, text=text, option=option,
                       display_name=name)
        replies = await self.router.handle(msg)
        if any(r.options for r in replies):
            self.last[user_id] = replies
        await self.outbox.deliver_due()
        delivered, self._delivered = self._delivered, []
        return replies + delivered

    async def tap(self, user_id: str, label_part: str) -> list[Reply]:
        """Press the button of the user's last replies that best matches the text."""
        options = [o for r in self.last.get(user_id, []) for row in r.options for o in row]
        chosen = best_label([o.label for o in options], label_part)
        if chosen is None:
            raise LookupError(f"no button with {label_part!r} for {user_id}")
        return await self.send(user_id, option=options[chosen].value)

    async def send_queued(self, chat_id: str, replies: Sequence[Reply]) -> None:
        """The outbox's sender: collect the messages for the current exchange."""
        for reply in replies:
            self._delivered.append(Reply(reply.text, reply.options, to=(CHANNEL, chat_id),
                                         replace=False))
            if reply.options:
                self.last[chat_id] = [reply]


async def _no_reports(item: OutboxItem, member: Member) -> list[Reply]:
    raise AssertionError("the console's outbox delivers messages only")


def best_label(labels: list[str], wanted: str) -> int | None:
    """Index of the label equal to, else starting with, else containing the text (any case)."""
    folded = [label.lower() for label in labels]
    needle = wanted.lower()
    for test in (str.__eq__, str.startswith, str.__contains__):
        for index, label in enumerate(folded):
            if test(label, needle):
                return index
    return None


def render(replies: Sequence[Reply]) -> str:
    """Replies as plain text with numbered options, the way a text-only channel shows them."""
    parts = render_replies(replies)
    for reply in replies:
        if reply.image:
            parts.append(f"  (picture, {len(reply.image)} bytes)")
        if reply.document:
            parts.append(f"  (file {reply.document.filename})")
    return "\n".join(part for part in parts if part)
