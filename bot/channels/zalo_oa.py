"""Zalo Official Account (OA API v3) adapter for citizens: signed webhook in, CS messages out.

Tokens: the access token lives 25 h and the refresh token is single-use, so every refresh stores
the new pair in the database (committed) before it is used, and a refused token (-216/-220)
triggers one refresh and one retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.chat_tasks import ChatTasks
from bot.channels.downloads import Downloads
from bot.channels.plain import render_replies, split_text
from bot.clock import Clock
from bot.config import Secrets
from bot.i18n import _, use_language
from bot.messages import Incoming, Kind, Reply
from bot.reports.outbox import DeliveryError, DeliveryInDoubt, Undelivered
from handlers.router import Router
from storage.channels import ChannelRepository, OaTokens
from storage.engine import Database

CHANNEL = "zalo_oa"
TEXT_LIMIT = 2000
MAX_WEBHOOK_BYTES = 64 * 1024
SIGNATURE_HEADER = "X-ZEvent-Signature"
TOKEN_ERRORS = (-216, -220)  # invalid / expired access token
OUTSIDE_WINDOW = -230  # the citizen has not interacted within 7 days
RATE_LIMITED = -32
REFRESH_MARGIN = timedelta(minutes=30)
log = logging.getLogger(__name__)


class ZaloOaError(Exception):
    """A negative `error` in an answer (HTTP 200), or code 0 for a network or HTTP failure."""

    def __init__(self, code: int, message: str, *, in_doubt: bool = False) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        # The request went out but its answer was lost: the message may have arrived.
        self.in_doubt = in_doubt

    @property
    def retryable(self) -> bool:
        return self.code in (0, RATE_LIMITED)


@dataclass(frozen=True)
class OaSettings:
    app_id: str
    app_secret: str  # the `secret_key` header of a token refresh
    secret_key: str  # checks webhook signatures
    oa_id: str
    access_token: str | None
    refresh_token: str | None
    api_base_url: str = "https://openapi.zalo.me"
    oauth_base_url: str = "https://oauth.zaloapp.com"

    @classmethod
    def from_secrets(cls, secrets: Secrets) -> OaSettings:
        """The OA's settings from the ZALO_OA_* environment variables."""
        def value(field: Any) -> str | None:
            return field.get_secret_value() if field is not None else None

        return cls(app_id=str(secrets.zalo_oa_app_id), app_secret=str(value(secrets.zalo_oa_app_secret)),
                   secret_key=str(value(secrets.zalo_oa_secret_key)),
                   oa_id=secrets.zalo_oa_id or "", access_token=value(secrets.zalo_oa_access_token),
                   refresh_token=value(secrets.zalo_oa_refresh_token),
                   api_base_url=secrets.zalo_oa_api_base_url,
                   oauth_base_url=secrets.zalo_oa_oauth_base_url)


class ZaloOaApi:
    """OA API calls with the `access_token` header; keeps the tokens fresh and stored."""

    def __init__(self, settings: OaSettings, db: Database, clock: Clock, *,
                 request_timeout: float = 15.0) -> None:
        self.settings = settings
        self.db = db
        self.store = ChannelRepository(db)
        self.clock = clock
        self.request_timeout = request_timeout
        self.key = settings.oa_id or settings.app_id
        self.tokens: OaTokens | None = None
        self._refreshing = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        return self._session

    async def load_tokens(self) -> None:
        """Tokens from the database; the environment's only the first time."""
        self.tokens = await self.store.oa_tokens(self.key)
        if self.tokens is not None:
            return
        if self.settings.access_token:
            # Its age is unknown: assume it was just issued; a refusal refreshes it anyway.
            self.tokens = OaTokens(self.settings.access_token, self.settings.refresh_token or "",
                                   self.clock() + timedelta(hours=24))
            async with self.db.transaction():
                await self.store.save_oa_tokens(self.key, self.tokens, self.clock())
        elif self.settings.refresh_token:
            self.tokens = OaTokens("", self.settings.refresh_token, self.clock())
            await self.refresh(self.tokens)

    async def refresh(self, stale: OaTokens | None = None) -> None:
        """Trade the refresh token for a new pair; the pair is committed before it is used."""
        async with self._refreshing:
            if self.tokens is not None and stale is not None and self.tokens != stale:
                return  # another call refreshed meanwhile
            if self.tokens is None or not self.tokens.refresh_token:
                raise ZaloOaError(-216, "no refresh token: an OA admin must grant access again")
            form = {"app_id": self.settings.app_id, "grant_type": "refresh_token",
                    "refresh_token": self.tokens.refresh_token}
            url = f"{self.settings.oauth_base_url.rstrip('/')}/v4/oa/access_token"
            try:
                async with self._http().post(url, data=form, headers={
                        "secret_key": self.settings.app_secret}) as response:
                    body = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
                raise ZaloOaError(0, f"token refresh failed: {exc!r}") from exc
            if not isinstance(body, dict) or not body.get("access_token") \
                    or not body.get("refresh_token"):
                code = body.get("error") if isinstance(body, dict) else None
                log.error("Zalo OA refused the refresh token (%s): an OA admin must grant "
                          "access again", body)
                raise ZaloOaError(int(code) if isinstance(code, int) else -216,
                                  "refresh refused")
            fresh = OaTokens(str(body["access_token"]), str(body["refresh_token"]),
                             self.clock() + timedelta(seconds=int(body.get("expires_in") or 90000)))
            async with self.db.transaction():
                await self.store.save_oa_tokens(self.key, fresh, self.clock())
            self.tokens = fresh
            log.info("Zalo OA access token refreshed")

    async def call(self, path: str, *, payload: dict[str, Any] | None = None,
                   upload: tuple[str, bytes, str] | None = None) -> dict[str, Any]:
        """POST to the OA API; a refused token is refreshed once and the call repeated."""
        if self.tokens is None:
            await self.load_tokens()
        assert self.tokens is not None
        if self.tokens.expires_at - self.clock() < REFRESH_MARGIN:
            await self.refresh(self.tokens)
        for attempt in (1, 2):
            used = self.tokens
            assert used is not None
            body = await self._post(path, used.access_token, payload, upload)
            code = body.get("error", 0)
            if code == 0:
                data = body.get("data")
                return data if isinstance(data, dict) else {}
            if code in TOKEN_ERRORS and attempt == 1:
                await self.refresh(used)
                continue
            raise ZaloOaError(int(code), str(body.get("message", "")))
        raise AssertionError("unreachable")

    async def _post(self, path: str, token: str, payload: dict[str, Any] | None,
                    upload: tuple[str, bytes, str] | None) -> dict[str, Any]:
        url = self.settings.api_base_url.rstrip("/") + path
        headers = {"access_token": token}
        data: aiohttp.FormData | None = None
        if upload is not None:
            data = aiohttp.FormData()
            data.add_field("file", upload[1], filename=upload[0], content_type=upload[2])
        try:
            async with self._http().post(url, json=payload if data is None else None, data=data,
                                         headers=headers) as response:
                if response.status >= 500 or response.status == 429:
                    raise ZaloOaError(0, f"HTTP {response.status}")
                body = await response.json(content_type=None)
        except aiohttp.ClientConnectorError as exc:
            raise ZaloOaError(0, f"network: {exc!r}") from exc  # it never got there
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            raise ZaloOaError(0, f"no answer: {exc!r}", in_doubt=True) from exc
        if not isinstance(body, dict):
            raise ZaloOaError(0, "answer is not a JSON object")
        return body

    async def send(self, user_id: str, message: dict[str, Any]) -> None:
        """A customer-service message (allowed within 7 days of the citizen's last message)."""
        await self.call("/v3.0/oa/message/cs",
                        payload={"recipient": {"user_id": user_id}, "message": message})


def signature_ok(raw: bytes, header: str, app_id: str, timestamp: str, secret_key: str) -> bool:
    """`X-ZEvent-Signature: mac=<hex>`, hex = SHA-256 of app_id + raw body + timestamp + key."""
    given = header.strip().removeprefix("mac=").strip().lower()
    digest = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret_key.encode())
    return bool(given) and hmac.compare_digest(given.encode(), digest.hexdigest().encode())


def to_incoming(event: dict[str, Any]) -> Incoming | None:
    """An OA event as a neutral message; None for the OA's own sends and unfollows."""
    name = str(event.get("event_name") or "")
    timestamp = str(event.get("timestamp") or "")
    if name == "follow":
        follower = str((event.get("follower") or {}).get("id") or "")
        if not follower:
            return None
        # Following the OA greets the citizen, as /start does.
        return Incoming(channel=CHANNEL, user_id=follower, chat_id=follower,
                        update_id=f"follow:{follower}:{timestamp}", kind=Kind.TEXT, text="/start")
    if not name.startswith("user_send_"):
        return None
    sender = str((event.get("sender") or {}).get("id") or "")
    message = event.get("message")
    if not isinstance(message, dict):
        return None
    msg_id = str(message.get("msg_id") or "")
    if not sender or not msg_id:
        return None
    text = message.get("text")
    photo = ""
    if name == "user_send_image":
        attachments = message.get("attachments") or [{}]
        payload = attachments[0].get("payload") if isinstance(attachments[0], dict) else None
        photo = str((payload or {}).get("url") or "")
    kind = Kind.TEXT if isinstance(text, str) and text.strip() else Kind.OTHER
    return Incoming(channel=CHANNEL, user_id=sender, chat_id=sender, update_id=msg_id, kind=kind,
                    text=text if isinstance(text, str) and kind is Kind.TEXT else "",
                    photo_id=photo)


def _media(element: dict[str, Any], caption: str) -> dict[str, Any]:
    """A CS message showing one picture (uploaded, or by URL) with an optional caption."""
    message: dict[str, Any] = {"attachment": {"type": "template", "payload": {
        "template_type": "media", "elements": [element]}}}
    if caption:
        message["text"] = caption[:TEXT_LIMIT - 50]
    return message


class ZaloOaChannel:
    """Answers each webhook once its message is committed (well within Zalo's 2 s) and sends
    the replies after; sends CS messages."""

    name = CHANNEL

    def __init__(self, api: ZaloOaApi, router: Router, downloads: Downloads) -> None:
        self.api = api
        self.router = router
        self.downloads = downloads
        self.tasks = ChatTasks(router.handle, self._answer)

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /zalo/oa: signature over the raw body, then 200 once the message committed;
        idempotent on msg_id (a re-delivery changes nothing)."""
        header = request.headers.get(SIGNATURE_HEADER, "")
        if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
            return web.Response(status=413, text="too large")
        raw = await request.content.read(MAX_WEBHOOK_BYTES + 1)
        if len(raw) > MAX_WEBHOOK_BYTES:
            return web.Response(status=413, text="too large")
        if not header:
            return web.Response(status=403, text="missing signature")
        if request.content_type not in ("application/json", "text/json"):
            return web.Response(status=415, text="expected application/json")
        try:
            event = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="malformed JSON")
        if not isinstance(event, dict):
            return web.Response(status=400, text="not an event")
        app_id = str(event.get("app_id") or "")
        if app_id != self.api.settings.app_id or not signature_ok(
                raw, header, app_id, str(event.get("timestamp") or ""),
                self.api.settings.secret_key):
            return web.Response(status=403, text="bad signature")
        incoming = to_incoming(event)
        if incoming is not None:
            await self.tasks.submit(incoming)
        return web.json_response({"error": 0})

    async def _answer(self, incoming: Incoming, replies: list[Reply]) -> None:
        try:
            await self._send_all(incoming.chat_id, [r for r in replies if r.to is None])
        except ZaloOaError as exc:
            log.error("could not answer OA user %s: %s", incoming.chat_id, exc)

    async def send_queued(self, chat_id: str, replies: Sequence[Reply]) -> None:
        """Outbox delivery; outside the 7-day window the message is not retried."""
        try:
            await self._send_all(chat_id, replies)
        except ZaloOaError as exc:
            if exc.in_doubt:
                raise DeliveryInDoubt(str(exc)) from exc
            reason = (Undelivered.OUTSIDE_WINDOW if exc.code == OUTSIDE_WINDOW
                      else Undelivered.FAILED)
            raise DeliveryError(str(exc), permanent=not exc.retryable, reason=reason) from exc

    async def _send_all(self, user_id: str, replies: Sequence[Reply]) -> None:
        language = await self.router.services.members.language_of(CHANNEL, user_id)
        with use_language(language):
            for reply, text in zip(replies, render_replies(replies), strict=True):
                if reply.photo_id and reply.photo_id.startswith("https://"):
                    await self.api.send(user_id, _media({"media_type": "image",
                                                         "url": reply.photo_id}, text))
                elif reply.image is not None:
                    await self._image(user_id, reply.image, text)
                elif reply.document is not None:
                    await self._file(user_id, reply, text)
                else:
                    await self._text(user_id, text)

    async def _text(self, user_id: str, text: str) -> None:
        for part in split_text(text, TEXT_LIMIT - 50):
            await self.api.send(user_id, {"text": part})

    async def _image(self, user_id: str, image: bytes, caption: str) -> None:
        uploaded = await self.api.call("/v2.0/oa/upload/image",
                                       upload=("chart.png", image, "image/png"))
        await self.api.send(user_id, _media({"media_type": "image",
                                             "attachment_id": uploaded.get("attachment_id")},
                                            caption))

    async def _file(self, user_id: str, reply: Reply, text: str) -> None:
        document = reply.document
        assert document is not None
        try:
            uploaded = await self.api.call("/v2.0/oa/upload/file", upload=(
                document.filename, document.content, document.mime_type))
        except ZaloOaError as exc:
            if exc.retryable:
                raise
            # Some file types are refused: a link from the bot's own server instead.
            url = await self.downloads.publish(document.filename, document.mime_type,
                                               document.content)
            note = (_("Excel file: {url}").format(url=url) if url else _(
                "The Excel file cannot be sent here. Ask whoever runs the bot to set a "
                "public web address, or get it with /digest on Telegram."))
            await self._text(user_id, f"{text}\n{note}" if text else note)
            return
        if text:
            await self._text(user_id, text)
        await self.api.send(user_id, {"attachment": {"type": "file",
                                                     "payload": {"token": uploaded.get("token")}}})

    async def close(self) -> None:
        await self.tasks.idle()
        await self.api.close()
