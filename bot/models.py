"""Plain data objects shared by storage, services and flows (no chat-library types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.messages import Option


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    OFFICER = "officer"
    PROVINCE = "province"  # a province officer: every commune, read-only


class Outcome(StrEnum):
    DONE = "done"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True)
class Member:
    """Someone who joined with an invite: a volunteer of a hamlet or an officer of a commune."""

    id: int
    channel: str
    external_id: str
    display_name: str
    role: Role
    commune_code: str | None
    hamlet_code: str | None
    language: str
    joined_at: datetime


@dataclass(frozen=True)
class Invite:
    code: str
    role: Role
    commune_code: str | None
    hamlet_code: str | None
    created_at: datetime
    expires_at: datetime
    used_by: int | None


@dataclass(frozen=True)
class Household:
    id: int
    code: str
    hamlet_code: str
    head_name: str
    members: int | None
    address: str | None


@dataclass(frozen=True)
class Activation:
    id: int
    household_id: int
    member_id: int
    hamlet_code: str
    level2_registered: int
    activated: int
    household_capable: bool
    recorded_at: datetime


@dataclass(frozen=True)
class Visit:
    id: int
    household_id: int
    member_id: int
    hamlet_code: str
    topics: tuple[str, ...]
    outcome: Outcome
    follow_up_on: date | None
    recorded_at: datetime


@dataclass(frozen=True)
class Entry:
    """One of a volunteer's recent records, for the correct/undo list."""

    kind: str  # "activation" or "visit"
    id: int
    household_id: int
    household_code: str
    head_name: str
    recorded_at: datetime
    # What was recorded, so the volunteer can tell entries apart before changing one.
    level2_registered: int = 0
    activated: int = 0
    household_capable: bool = False
    topics: tuple[str, ...] = ()
    follow_up_on: date | None = None


@dataclass(frozen=True)
class HouseholdTotals:
    """What has been logged so far for one household (non-voided records)."""

    level2_registered: int
    activated: int
    capable: bool


@dataclass(frozen=True)
class HamletCounts:
    """Raw counts logged for one hamlet, before comparing with targets."""

    hamlet_code: str
    capable_households: int
    level2_registered: int
    activated: int
    visits: int


@dataclass
class Conversation:
    """Where a user is in a flow; kept in storage so a restart resumes it."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenedUpdate:
    """An update just claimed, and its sender as the router first needs them."""

    claimed: bool  # False: a duplicate, already handled
    member: Member | None
    chosen_language: str | None  # chosen before joining (a member's is on the member)
    conversation: Conversation | None
    offered: list[Option]  # the options last shown, for a typed choice
    button_pressed: str | None  # the value of the button pressed, if one was
    # Button values known to be offered to this person (and not yet forgotten): the pressed
    # one if it was, and those of the options last shown.
    offered_values: frozenset[str]
    # The places' version in the database: a worker whose places are older reloads them.
    places_version: int
