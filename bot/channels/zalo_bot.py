"""Zalo Bot Platform adapter: long polling or webhook in, numbered plain text out.

The Bot Platform is shaped like Telegram's Bot API but has no buttons, no files and one event
per getUpdates call without offsets; see the module's tests for the payloads it accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.chat_tasks import ChatTasks
from bot.channels.downloads import Downloads
from bot.channels.plain import render_replies, split_text
from bot.i18n import _, fmt_datetime, use_language
from bot.messages import Incoming, Kind, Reply
from bot.reports.outbox import DeliveryError, DeliveryInDoubt
from handlers.router import Router

CHANNEL = "zalo_bot"
DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
TEXT_LIMIT = 2000
MAX_WEBHOOK_BYTES = 64 * 1024
SECRET_HEADER = "X-Bot-Api-Secret-Token"
log = logging.getLogger(__name__)


class ZaloBotError(Exception):
    """An answer with ok=false (or an HTTP failure); `code` is Zalo's error_code."""

    def __init__(self, code: int, description: str, *, in_doubt: bool = False) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        # The request went out but its answer was lost: the message may have arrived.
        self.in_doubt = in_doubt

    @property
    def retryable(self) -> bool:
        """Timeouts, quota and server errors may pass; a bad request or token will not."""
        return self.code in (0, 408, 429) or self.code >= 500


class ZaloBotApi:
    """POST + JSON calls to `<base>/bot<TOKEN>/<method>`; reads `ok`, whatever the HTTP status."""

    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, *,
                 request_timeout: float = 15.0) -> None:
        self._url = f"{base_url.rstrip('/')}/bot{token}/"
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, payload: dict[str, Any] | None = None, *,
                   timeout: float | None = None) -> Any:
        """The `result` of a call; ZaloBotError when `ok` is false or the call failed."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        wait = aiohttp.ClientTimeout(total=timeout or self.request_timeout)
        try:
            async with self._session.post(self._url + method, json=payload or {},
                                          timeout=wait) as response:
                status = response.status
                try:
                    body = await response.json(content_type=None)
                except (json.JSONDecodeError, aiohttp.ContentTypeError, UnicodeDecodeError):
                    body = None
        except aiohttp.ClientConnectorError as exc:
            raise ZaloBotError(0, f"network: {exc!r}") from exc  # it never got there
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ZaloBotError(0, f"no answer: {exc!r}", in_doubt=True) from exc
        if not isinstance(body, dict):
            raise ZaloBotError(status if status >= 400 else 502, "answer is not JSON")
        if body.get("ok") is True:
            return body.get("result")
        code = body.get("error_code")
        return _raise(int(code) if isinstance(code, int) else status,
                      str(body.get("description") or ""))


def _raise(code: int, description: str) -> Any:
    raise ZaloBotError(code, description)


def unwrap(body: Any) -> list[dict[str, Any]]:
    """The events of a webhook body or a getUpdates result: flat, or wrapped in ok/result."""
    if isinstance(body, dict) and "result" in body and "event_name" not in body:
        body = body["result"]
    # One event per call is documented; a list is tolerated all the same.
    items = body if isinstance(body, list) else [body]
    return [item for item in items
            if isinstance(item, dict) and isinstance(item.get("message"), dict)]


def to_incoming(event: dict[str, Any]) -> Incoming | None:
    """A Zalo event as a neutral message; None for the bot's own echoes and group chatter."""
    message = event["message"]
    sender = message.get("from") or {}
    chat = message.get("chat") or {}
    message_id = str(message.get("message_id") or "")
    user_id = str(sender.get("id") or chat.get("id") or "")
    if not message_id or not user_id or sender.get("is_bot"):
        return None
    if str(chat.get("chat_type", "PRIVATE")).upper() != "PRIVATE":
        return None  # the flows are one-to-one; groups are a beta the bot stays out of
    name = str(event.get("event_name") or "")
    text = message.get("text")
    photo = ""
    if name.endswith("image.received"):
        text = message.get("caption")  # a photo's caption is read as a typed message
        # The docs say `photo`, real traffic has `photo_url`; the URL expires after a while.
        photo = str(message.get("photo_url") or message.get("photo") or "")
    kind = Kind.TEXT if isinstance(text, str) and text.strip() else Kind.OTHER
    return Incoming(channel=CHANNEL, user_id=user_id, chat_id=str(chat.get("id") or user_id),
                    update_id=message_id, kind=kind,
                    text=text if isinstance(text, str) and kind is Kind.TEXT else "",
                    display_name=str(sender.get("display_name") or ""), photo_id=photo)


class ZaloBotChannel:
    """Hands each Zalo event to the router and renders the replies as numbered plain text."""

    name = CHANNEL

    def __init__(self, api: ZaloBotApi, router: Router, downloads: Downloads, *,
                 webhook_secret: str | None = None,
                 retry_delays: Sequence[float] = (1.0, 3.0, 9.0),
                 poll_timeout: int = 30,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.api = api
        self.router = router
        self.downloads = downloads
        self.webhook_secret = webhook_secret
        self.retry_delays = tuple(retry_delays)
        self.poll_timeout = poll_timeout
        self._sleep = sleep
        # Recently seen message ids: a cheap first filter; the router's claim is the real one.
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.tasks = ChatTasks(self._process, self._deliver_to)
        self.stopped_reason: str | None = None

    # -- receiving ------------------------------------------------------------------------
    async def poll_forever(self) -> None:
        """Long-poll until cancelled or the token is refused; each event handled once."""
        failures = 0
        while self.stopped_reason is None:
            try:
                event = await self.api.call("getUpdates", {"timeout": self.poll_timeout},
                                            timeout=self.poll_timeout + 10)
            except ZaloBotError as exc:
                if exc.code == 408:
                    failures = 0
                    continue  # nothing arrived within the timeout
                if exc.code == 401:
                    self._stop(exc)
                    return
                failures += 1
                delay = min(60.0, 2.0 ** min(failures, 6))
                log.warning("Zalo Bot getUpdates failed (%s); retrying in %.0fs", exc, delay)
                await self._sleep(delay)
                continue
            failures = 0
            for found in unwrap(event):
                self.accept(found)

    def accept(self, event: dict[str, Any]) -> bool:
        """Start handling one polled event in the background; False when it is ignored."""
        incoming = to_incoming(event)
        if incoming is None or incoming.update_id in self._seen:
            return False
        self._seen[incoming.update_id] = None
        while len(self._seen) > 5000:
            self._seen.popitem(last=False)
        self.tasks.submit(incoming)
        return True

    async def _process(self, incoming: Incoming) -> list[Reply]:
        return await self.router.handle(incoming)

    async def _deliver_to(self, incoming: Incoming, replies: list[Reply]) -> None:
        await self.deliver(incoming.chat_id, replies)

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /zalo/bot: checks the secret header, then answers once the events' transactions
        committed (replies are sent after); a re-delivered event is applied once by the
        router's claim, on whichever worker it lands."""
        given = request.headers.get(SECRET_HEADER, "")
        expected = self.webhook_secret or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=403, text="forbidden")
        if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
            return web.Response(status=413, text="too large")
        try:
            raw = await request.content.read(MAX_WEBHOOK_BYTES + 1)
        except (aiohttp.ClientError, ValueError):
            return web.Response(status=400, text="unreadable body")
        if len(raw) > MAX_WEBHOOK_BYTES:
            return web.Response(status=413, text="too large")
        if not raw.strip():
            return web.json_response({"ok": True})  # Zalo's probe of a new webhook
        if request.content_type not in ("application/json", "text/json"):
            return web.Response(status=415, text="expected application/json")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="malformed JSON")
        events = unwrap(body)
        if not events and not isinstance(body, dict):
            return web.Response(status=400, text="not an event")
        found = [incoming for incoming in map(to_incoming, events) if incoming is not None]
        await asyncio.gather(*(self.tasks.submit(incoming) for incoming in found))
        return web.json_response({"ok": True})

    # -- sending --------------------------------------------------------------------------
    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> None:
        """Answer the sender; failures are logged, since the update's records are saved."""
        try:
            await self._send_all(chat_id, [r for r in replies if r.to is None])
        except ZaloBotError as exc:
            log.error("could not answer Zalo chat %s: %s", chat_id, exc)

    async def send_queued(self, chat_id: str, replies: Sequence[Reply]) -> None:
        """Outbox delivery to a chat; DeliveryError tells the outbox whether to retry."""
        try:
            await self._send_all(chat_id, replies)
        except ZaloBotError as exc:
            if exc.in_doubt:
                raise DeliveryInDoubt(str(exc)) from exc
            raise DeliveryError(str(exc), permanent=not exc.retryable) from exc

    async def _send_all(self, chat_id: str, replies: Sequence[Reply]) -> None:
        # Hints and file notes are added here, outside any update: in the reader's language.
        language = await self.router.services.members.language_of(CHANNEL, chat_id)
        with use_language(language):
            await self._send_rendered(chat_id, replies)

    async def _send_rendered(self, chat_id: str, replies: Sequence[Reply]) -> None:
        texts = render_replies(replies)
        missing_files = False
        for reply, text in zip(replies, texts, strict=True):
            if reply.photo_id and reply.photo_id.startswith("https://"):
                # A photo someone sent on Zalo, passed on by its (public, expiring) URL.
                await self._call("sendPhoto", {"chat_id": chat_id, "photo": reply.photo_id})
                await self._text(chat_id, text)
            elif reply.image is not None:
                url = await self.downloads.publish("chart.png", "image/png", reply.image)
                if url is None:
                    missing_files = True
                    continue
                caption = text if len(text) <= 500 else ""
                if not caption:
                    await self._text(chat_id, text)
                await self._call("sendPhoto", {"chat_id": chat_id, "photo": url,
                                               **({"caption": caption} if caption else {})})
            elif reply.document is not None:
                document = reply.document
                url = await self.downloads.publish(document.filename, document.mime_type,
                                                   document.content)
                if url is None:
                    missing_files = True
                    continue
                until = self.downloads.clock() + self.downloads.ttl
                await self._text(chat_id, _("{title}\nExcel file: {url}\n(The link works until "
                                            "{until}.)").format(title=text, url=url,
                                                                until=fmt_datetime(until)))
            else:
                await self._text(chat_id, text)
        if missing_files:
            await self._text(chat_id, _(
                "The chart and the Excel file cannot be sent here yet, because the bot has no "
                "public web address. Ask whoever runs the bot to set one, or get the files "
                "with /digest on Telegram."))

    async def _text(self, chat_id: str, text: str) -> None:
        for part in split_text(text, TEXT_LIMIT - 50):
            await self._call("sendMessage", {"chat_id": chat_id, "text": part})

    async def _call(self, method: str, payload: dict[str, Any]) -> Any:
        """Retry timeouts, 429 and 5xx with back-off (Zalo sends no retry_after); a refused
        token stops this channel only."""
        for delay in (*self.retry_delays, None):
            try:
                return await self.api.call(method, payload)
            except ZaloBotError as exc:
                if exc.code == 401:
                    self._stop(exc)
                    raise
                # A send whose answer was lost may have arrived: not repeated blindly.
                if not exc.retryable or exc.in_doubt or delay is None:
                    raise
                log.warning("Zalo Bot %s failed (%s): retrying in %.1fs", method, exc, delay)
                await self._sleep(delay)
        raise AssertionError("unreachable")

    def _stop(self, exc: ZaloBotError) -> None:
        if self.stopped_reason is None:
            self.stopped_reason = str(exc)
            log.error("Zalo Bot Platform refused the token (%s): the Zalo Bot channel stops; "
                      "check ZALO_BOT_TOKEN. Other channels keep running.", exc)

    # -- lifecycle ------------------------------------------------------------------------
    async def set_webhook(self, url: str) -> None:
        """Register the webhook (webhook mode)."""
        await self._call("setWebhook", {"url": url, "secret_token": self.webhook_secret})

    async def prepare_polling(self) -> None:
        """getUpdates does not work while a webhook is set: remove it first."""
        with contextlib.suppress(ZaloBotError):
            await self._call("deleteWebhook", {})

    async def close(self) -> None:
        await self.tasks.idle()
        await self.api.close()

