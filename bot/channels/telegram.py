"""Telegram adapter (python-telegram-bot): updates in, neutral replies rendered with keyboards."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.channels.telegram_http import AiohttpRequest, surely_not_sent
from bot.channels.telegram_limiter import TelegramLimiter, retry_seconds
from bot.channels.telegram_updates import PerChatUpdateProcessor
from bot.config import Secrets, Settings
from bot.i18n import LANGUAGES, use_language
from bot.messages import Command, Incoming, Kind, Reply
from bot.ratelimit import SharedChatPacing
from bot.reports.outbox import DeliveryError, DeliveryInDoubt, Undelivered
from handlers.menu import commands_for

if TYPE_CHECKING:
    from bot.runtime import Runtime

CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
log = logging.getLogger(__name__)
T = TypeVar("T")


class InDoubt(Exception):
    """The request may have reached Telegram but its answer was lost (timeout, dropped
    connection): sending it again could show the message twice."""


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split a long text on line breaks (or hard, for a single huge line) into sendable parts."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


async def check_token(secrets: Secrets) -> bool:
    """Whether Telegram accepts the token (False only when it refuses it; network trouble is
    left to the running bot's retries)."""
    assert secrets.telegram_token is not None
    bot = Bot(secrets.telegram_token.get_secret_value(),
              base_url=secrets.telegram_base_url or "https://api.telegram.org/bot",
              base_file_url=secrets.telegram_base_file_url or "https://api.telegram.org/file/bot")
    try:
        async with bot:
            return True
    except InvalidToken:
        return False
    except TelegramError:
        return True


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates instead of being polled."""

    url: str  # the public https URL Telegram calls
    listen: str = "127.0.0.1"
    port: int = 8443
    secret: str | None = None  # Telegram sends it back in X-Telegram-Bot-Api-Secret-Token

    def options(self) -> dict[str, Any]:
        """Keyword arguments for python-telegram-bot's webhook server."""
        return {"listen": self.listen, "port": self.port,
                "url_path": urlsplit(self.url).path.lstrip("/"), "webhook_url": self.url,
                "secret_token": self.secret}


def to_incoming(update: Update, deep_link: str | None) -> Incoming | None:
    """Reduce a Telegram update to a neutral message; None for what flows never see."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot or chat.type != chat.PRIVATE:
        return None
    if update.callback_query is not None:
        kind, text, option = Kind.OPTION, "", update.callback_query.data or ""
    elif update.message is not None:
        text = update.message.text or update.message.caption or ""
        kind, option = (Kind.TEXT if update.message.text is not None else Kind.OTHER), ""
    else:
        return None
    # The largest size of a photo is the last one; only its file id is kept, never the bytes.
    photo = update.message.photo if update.message is not None else ()
    return Incoming(channel=CHANNEL, user_id=str(user.id), chat_id=str(chat.id),
                    update_id=str(update.update_id), kind=kind, text=text, option=option,
                    display_name=user.full_name, deep_link=deep_link,
                    photo_id=photo[-1].file_id if photo else "")


class TelegramChannel:
    """Owns the python-telegram-bot Application; hands each update to the router."""

    def __init__(self, settings: Settings, secrets: Secrets, *, runtime: Runtime,
                 request_timeout: float = 10.0, retry_delays: Sequence[float] = (1.0, 3.0, 9.0),
                 chat_interval: float = 1.0, limiter: TelegramLimiter | None | bool = True,
                 concurrent: bool = True) -> None:
        if secrets.telegram_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.settings = settings
        self.retry_delays = tuple(retry_delays)
        # Telegram allows about one message a second per chat; broadcasts keep to it.
        self.chat_interval = chat_interval
        # Router, outboxes and reporting come from the composition root (bot.runtime).
        self.router = runtime.router
        self.reporting = runtime.reporting
        secret = secrets.telegram_webhook_secret
        self.webhook_secret = secret.get_secret_value() if secret else None
        builder: ApplicationBuilder = (
            Application.builder()
            .token(secrets.telegram_token.get_secret_value())
            # Different chats at the same time, each chat's updates in order (`concurrent`
            # False: one update at a time, as a benchmark's baseline).
            .concurrent_updates(PerChatUpdateProcessor() if concurrent else False)
            .request(AiohttpRequest(timeout=request_timeout))
            .get_updates_request(AiohttpRequest(pool_size=1, timeout=request_timeout))
        )
        if limiter is True and not secrets.telegram_limiter:
            log.warning("Telegram flood limiter off (TELEGRAM_LIMITER): only for a Bot API "
                        "server that enforces no limits")
            limiter = False
        if limiter is True:
            workers = secrets.workers
            shared = SharedChatPacing(runtime.services.db, CHANNEL) if workers > 1 else None
            limiter = TelegramLimiter(per_second=secrets.telegram_per_second,
                                      chat_interval=chat_interval, workers=workers,
                                      shared=shared)
        if limiter:
            # One limiter for replies and broadcasts alike (sliding windows, 429 retry_after);
            # _retrying() below covers 5xx answers and connections that never opened.
            builder = builder.rate_limiter(limiter)
        if secrets.telegram_base_url:
            builder = builder.base_url(secrets.telegram_base_url)
        if secrets.telegram_base_file_url:
            builder = builder.base_file_url(secrets.telegram_base_file_url)
        self.app = builder.build()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self.deep_link: str | None = None
        # How many updates were fully handled (replies delivered): lets callers wait on it.
        self.handled_count = 0

    # -- lifecycle -----------------------------------------------------------------------
    async def _on_start(self, app: Application) -> None:
        self.deep_link = f"https://t.me/{app.bot.username}?start="
        for language in LANGUAGES:
            with use_language(language):
                commands = [BotCommand(c.name, c.description) for c in commands_for(None)]
            code = None if language == self.settings.bot.default_language else language
            await self._retrying(partial(app.bot.set_my_commands, commands,
                                         scope=BotCommandScopeDefault(), language_code=code),
                                 idempotent=True)

    async def start(self, *, poll_timeout: int = 10, webhook: Webhook | None = None,
                    shared_webhook: str | None = None) -> None:
        """Start polling, python-telegram-bot's own webhook server, or the bot's shared HTTP
        server's /telegram route (`shared_webhook`: the public URL of that route)."""
        await self.app.initialize()
        await self._on_start(self.app)
        await self.app.start()
        assert self.app.updater is not None
        if shared_webhook is not None:
            await self._retrying(lambda: self.app.bot.set_webhook(
                shared_webhook, allowed_updates=ALLOWED_UPDATES,
                secret_token=self.webhook_secret))
        elif webhook is not None:
            await self.app.updater.start_webhook(allowed_updates=ALLOWED_UPDATES,
                                                 **webhook.options())
        else:
            await self.app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout,
                                                 allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        """Stop polling and close everything start() opened."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /telegram on the shared server: the secret header, then the update is handled;
        the answer comes after its transaction committed, so an update that failed halfway (a
        worker killed, a 5xx) is delivered again by Telegram and never half-applied."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not self.webhook_secret or not hmac.compare_digest(given.encode(),
                                                              self.webhook_secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.app.bot)
        except Exception:  # malformed JSON or not an update: refuse, never crash
            return web.Response(status=400)
        # Through the per-chat processor, as polled updates go; awaited, so the answer waits.
        await self.app.update_processor.process_update(update, self.app.process_update(update))
        return web.Response(status=200)

    # -- updates -------------------------------------------------------------------------
    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            # Stops the button's spinner; harmless if it fails (the answer window is short).
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        incoming = to_incoming(update, self.deep_link)
        try:
            if incoming is None:
                return
            replies = await self.router.handle(incoming)
            pressed = update.callback_query.message if update.callback_query else None
            await self.deliver(int(incoming.chat_id), replies,
                               pressed if isinstance(pressed, Message) else None)
        finally:
            self.handled_count += 1

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram handler error", exc_info=context.error)

    # -- rendering -----------------------------------------------------------------------
    async def deliver(self, chat_id: int, replies: Sequence[Reply],
                      pressed: Message | None = None) -> None:
        """Answer a user: the first reply may replace the message whose button was pressed.

        Failures are logged, not raised: the update's records are already saved.
        """
        for reply in replies:
            if reply.to is not None and reply.to[0] != CHANNEL:
                log.warning("reply for channel %s cannot go through Telegram", reply.to[0])
                continue
            target = int(reply.to[1]) if reply.to else chat_id
            try:
                if pressed is not None and reply.replace and reply.to is None \
                        and await self._replace(pressed, reply):
                    pressed = None
                    continue
                pressed = None
                await self._send(target, reply)
            except Forbidden:
                log.warning("chat %s blocked the bot; reply dropped", target)
            except InDoubt as exc:
                log.warning("reply to chat %s may not have arrived (%s); not sent again",
                            target, exc)
            except TelegramError:
                log.exception("could not deliver a reply to chat %s", target)

    async def send_queued(self, chat_id: str, replies: Sequence[Reply]) -> None:
        """Outbox delivery to someone who did not just write: DeliveryError when a message
        surely did not go out, DeliveryInDoubt when its answer was lost (not to be re-sent)."""
        chat = int(chat_id)
        for reply in replies:
            try:
                await self._send(chat, reply)
            except RetryAfter as exc:  # the limiter already waited and retried: come back later
                raise DeliveryError(str(exc), retry_after=retry_seconds(exc)) from exc
            except InDoubt as exc:
                raise DeliveryInDoubt(str(exc)) from exc
            except Forbidden as exc:
                raise DeliveryError(str(exc), permanent=True,
                                    reason=Undelivered.BLOCKED) from exc
            except BadRequest as exc:
                raise DeliveryError(str(exc), permanent=True) from exc
            except TelegramError as exc:
                raise DeliveryError(str(exc)) from exc

    async def _send(self, chat_id: int, reply: Reply) -> None:
        bot = self.app.bot
        if reply.commands is not None:
            await self._set_commands(chat_id, reply.commands)
        picture = reply.image if reply.image is not None else reply.photo_id
        if picture is not None:
            await self._retrying(lambda: bot.send_photo(
                chat_id, picture, caption=reply.text[:MessageLimit.CAPTION_LENGTH] or None))
        elif reply.document is not None:
            document = reply.document
            await self._retrying(lambda: bot.send_document(
                chat_id, document.content, filename=document.filename,
                caption=reply.text[:MessageLimit.CAPTION_LENGTH] or None))
        elif reply.text:
            parts = split_text(reply.text)
            markup = _keyboard(reply)
            for i, part in enumerate(parts):
                keyboard = markup if i == len(parts) - 1 else None
                await self._retrying(partial(bot.send_message, chat_id, part,
                                             reply_markup=keyboard))

    async def _replace(self, message: Message, reply: Reply) -> bool:
        """Edit the pressed message into this reply when it is plain text that fits."""
        if reply.image or reply.photo_id or reply.document or reply.commands is not None \
                or not reply.text:
            return False
        if len(split_text(reply.text)) > 1:
            return False
        return await self._edit(message, reply.text, _keyboard(reply))

    async def _edit(self, message: Message, text: str,
                    markup: InlineKeyboardMarkup | None) -> bool:
        try:
            await self._retrying(idempotent=True, call=lambda: self.app.bot.edit_message_text(
                text, chat_id=message.chat_id, message_id=message.message_id,
                reply_markup=markup))
        except BadRequest as exc:
            # Same content: the screen already shows it. Too old or deleted: send anew.
            return "not modified" in str(exc).lower()
        return True

    async def _set_commands(self, chat_id: int, commands: Sequence[Command]) -> None:
        await self._retrying(idempotent=True, call=lambda: self.app.bot.set_my_commands(
            [BotCommand(c.name, c.description) for c in commands],
            scope=BotCommandScopeChat(chat_id)))

    async def _retrying(self, call: Callable[[], Awaitable[T]], idempotent: bool = False) -> T:
        """Retry what surely did not reach Telegram (5xx answers, connections that never
        opened) with back-off; a timeout or a dropped answer raises InDoubt instead, because
        the message may be on the user's screen already. Idempotent calls (setting the command
        menu, editing a message to a given text) are retried in doubt too: doing them twice
        shows nothing twice, and skipping them would leave a stale screen or drop the reply."""
        for delay in (*self.retry_delays, None):
            try:
                return await call()
            except BadRequest:
                raise
            except NetworkError as exc:
                if not idempotent and not surely_not_sent(exc):
                    raise InDoubt(str(exc)) from exc
                if delay is None:
                    raise
                log.warning("Bot API error %s: retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.options:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(o.label, callback_data=o.value) for o in row]
         for row in reply.options])
