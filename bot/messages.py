"""Channel-neutral messages: what flows receive and what they answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    OPTION = "option"  # a button press (Telegram) or a numbered choice matched back (Zalo)
    OTHER = "other"  # sticker, photo, voice…: nothing a flow can read


@dataclass(frozen=True)
class Incoming:
    """One update from any channel, reduced to what the flows need."""

    channel: str
    user_id: str
    chat_id: str
    update_id: str
    kind: Kind
    text: str = ""
    option: str = ""
    display_name: str = ""
    # Prefix of a link that opens the bot with a start code (Telegram: https://t.me/<bot>?start=).
    deep_link: str | None = None
    # A photo the user sent (kind OTHER, its caption in `text`): the platform's file id.
    photo_id: str = ""


@dataclass(frozen=True)
class Option:
    label: str
    value: str


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Command:
    name: str
    description: str


@dataclass
class Reply:
    """A neutral answer: text with option rows, or a picture, or a file, or a command menu."""

    text: str = ""
    options: list[list[Option]] = field(default_factory=list)
    image: bytes | None = None
    # A picture already on the platform, by its file id (the reply's text is its caption).
    photo_id: str | None = None
    document: Document | None = None
    commands: list[Command] | None = None
    # A reply to a button press may replace the message that carried the button.
    replace: bool = True
    # Set when the reply goes to someone else than the sender (channel, chat id).
    to: tuple[str, str] | None = None
    # Groups messages to others whose outcome is counted ("announcement:12"): one outside a
    # channel's reply window is recorded as not sent instead of warning the sender.
    topic: str | None = None

    def option_values(self) -> list[str]:
        """Every option value, row by row."""
        return [option.value for row in self.options for option in row]
