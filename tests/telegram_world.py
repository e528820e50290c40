"""A running bot on python-telegram-bot, talking HTTP to the Bot API stand-in on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.channels.console import best_label
from bot.channels.telegram import TelegramChannel
from bot.config import Secrets, Settings
from bot.runtime import Runtime
from bot.services import Services
from tests.botapi_stub import BotApiStub, SentMessage


class TelegramWorld:
    """Users that write and tap; the bot's answers as the stub saw them."""

    def __init__(self, stub: BotApiStub, channel: TelegramChannel, runtime: Runtime) -> None:
        self.stub = stub
        self.channel = channel
        self.runtime = runtime

    @classmethod
    async def start(cls, stub: BotApiStub, settings: Settings, services: Services,
                    **options: Any) -> TelegramWorld:
        secrets = Secrets(telegram_token=stub.token, telegram_base_url=stub.base_url,
                          telegram_base_file_url=stub.base_file_url)
        runtime = options.pop("runtime", None) or Runtime(services)
        channel = TelegramChannel(settings, secrets, runtime=runtime,
                                  request_timeout=options.pop("request_timeout", 2.0),
                                  retry_delays=options.pop("retry_delays", (0.05, 0.1, 0.2)),
                                  chat_interval=options.pop("chat_interval", 0.0))
        await channel.start(poll_timeout=1)
        runtime.add_channel("telegram", channel)
        await runtime.start(scheduler=False)
        return cls(stub, channel, runtime)

    async def stop(self) -> None:
        await self.runtime.stop()
        await self.channel.stop()

    async def _handled(self, count: int, push: Any) -> None:
        before = self.channel.handled_count
        push()
        deadline = time.monotonic() + 10
        while self.channel.handled_count < before + count:
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not handle the update in time:\n"
                                     + self.stub.describe_calls())
            await asyncio.sleep(0.01)
        # Messages the update queued for other people go out through the outbox; wait for them.
        await self.runtime.messages.deliver_due()

    async def say(self, user: int, text: str) -> list[SentMessage]:
        """The user sends text; returns what the bot sent or edited in that chat meanwhile."""
        seen = len(self.stub.sent_to(user))
        await self._handled(1, lambda: self.stub.push_text(user, text))
        return self.stub.sent_to(user)[seen:]

    async def send_photo(self, user: int, caption: str | None = None) -> list[SentMessage]:
        """The user sends a photo (with an optional caption); returns what the bot sent."""
        seen = len(self.stub.sent_to(user))
        await self._handled(1, lambda: self.stub.push_photo(user, caption=caption))
        return self.stub.sent_to(user)[seen:]

    async def tap(self, user: int, label_part: str) -> list[SentMessage]:
        """The user taps the newest button whose label contains the text."""
        for sent in reversed(self.stub.sent_to(user)):
            current = self.stub.message(user, sent.message_id) or {}
            buttons = [(t, d) for t, d in self.stub.buttons(current) if d]
            chosen = best_label([t for t, _d in buttons], label_part)
            if chosen is not None:
                data = buttons[chosen][1]
                seen = len(self.stub.sent_to(user))
                await self._handled(1, lambda d=data, m=sent.message_id: self.stub.push_callback(
                    user, d, message_id=m))
                return self.stub.sent_to(user)[seen:]
        raise AssertionError(f"no button {label_part!r} in chat {user}:\n"
                             + self.stub.describe_calls())

    async def push(self, update: dict[str, Any], count: int = 1) -> None:
        """Deliver a raw update (e.g. the same one twice) and wait until handled."""
        await self._handled(count, lambda: self.stub.push_update(update))

    def screen(self, user: int) -> str:
        """Every text the chat shows now (edited messages in their final state)."""
        seen: dict[int, str] = {}
        for sent in self.stub.sent_to(user):
            current = self.stub.message(user, sent.message_id) or {}
            seen[sent.message_id] = current.get("text") or current.get("caption") or ""
        return "\n".join(seen.values())


def texts(sent: list[SentMessage]) -> str:
    """The texts (or captions) of sent messages, one per line."""
    return "\n".join(s.text or "" for s in sent)


def labels(sent: list[SentMessage]) -> list[str]:
    """The button labels of sent messages, in order."""
    return [label for s in sent for label, _data in BotApiStub.buttons(s)]
