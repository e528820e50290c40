"""A console channel: drives the real flows from code (the demo, tests) or a terminal."""

from __future__ import annotations

import itertools

from bot.messages import Incoming, Kind, Reply
from handlers.router import Router

CHANNEL = "console"


class ConsoleChannel:
    """Sends text or button presses as a given user and returns the replies."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._ids = itertools.count(1)
        self.last: dict[str, list[Reply]] = {}

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
        return replies

    async def tap(self, user_id: str, label_part: str) -> list[Reply]:
        """Press the button of the user's last replies that best matches the text."""
        options = [o for r in self.last.get(user_id, []) for row in r.options for o in row]
        chosen = best_label([o.label for o in options], label_part)
        if chosen is None:
            raise LookupError(f"no button with {label_part!r} for {user_id}")
        return await self.send(user_id, option=options[chosen].value)


def best_label(labels: list[str], wanted: str) -> int | None:
    """Index of the label equal to, else starting with, else containing the text (any case)."""
    folded = [label.lower() for label in labels]
    needle = wanted.lower()
    for test in (str.__eq__, str.startswith, str.__contains__):
        for index, label in enumerate(folded):
            if test(label, needle):
                return index
    return None


def render(reply: Reply) -> str:
    """A reply as plain text with numbered options, the way a text-only channel shows it."""
    parts = [reply.text] if reply.text else []
    number = 0
    for row in reply.options:
        for option in row:
            number += 1
            parts.append(f"  [{number}] {option.label}")
    if reply.image:
        parts.append(f"  (picture, {len(reply.image)} bytes)")
    if reply.document:
        parts.append(f"  (file {reply.document.filename})")
    return "\n".join(parts)
