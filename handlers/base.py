"""What every flow shares: the context of one incoming message and the result of a turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bot.messages import Incoming, Kind, Option, Reply
from bot.models import Conversation, Member
from bot.services import Services


@dataclass
class Ctx:
    """One incoming message with who sent it and the services to act on it."""

    services: Services
    msg: Incoming
    member: Member | None

    @property
    def text(self) -> str:
        return self.msg.text.strip() if self.msg.kind is Kind.TEXT else ""

    @property
    def option(self) -> str:
        return self.msg.option if self.msg.kind is Kind.OPTION else ""


@dataclass
class Turn:
    """The replies to send and where the user is afterwards (None: no flow in progress)."""

    replies: list[Reply]
    state: Conversation | None
    # A flow may hand over to another flow (e.g. "correct" starts the activation flow).
    then: tuple[str, dict[str, Any]] | None = field(default=None)


class Flow(Protocol):
    """A conversation: begins, re-prompts its current step, handles input at a step."""

    name: str

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn: ...

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]: ...

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn: ...


@runtime_checkable
class Stoppable(Protocol):
    """A flow that may have saved something before it is stopped (/cancel)."""

    async def stopped(self, ctx: Ctx, state: Conversation) -> str | None:
        """Undo what the flow started if it can; say exactly what was kept (None: nothing)."""
        ...


def option_value(flow: str, step: str, value: object = "") -> str:
    """Button data: flow, step and value, short enough for Telegram's 64-byte limit."""
    return f"{flow}:{step}:{value}"


def parse_option(data: str) -> tuple[str, str, str]:
    """Split button data into (flow, step, value); empty parts when it does not fit."""
    parts = data.split(":", 2)
    while len(parts) < 3:
        parts.append("")
    return parts[0], parts[1], parts[2]


def opt(label: str, flow: str, step: str, value: object = "") -> Option:
    """One button."""
    return Option(label, option_value(flow, step, value))


def stay(replies: list[Reply], state: Conversation) -> Turn:
    """A turn that keeps the user at the same step."""
    return Turn(replies, state)


def with_reason(replies: list[Reply], reason: str) -> list[Reply]:
    """Put why the user is asked again in front of the repeated question."""
    if replies:
        replies[0].text = f"{reason}\n\n{replies[0].text}" if replies[0].text else reason
    return replies
