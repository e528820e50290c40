"""Loopback stand-ins for Zalo, written from the public docs: the Bot Platform API and the
Official Account API v3 with its OAuth token endpoint, on one aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_TOKEN = "3051478210936128123:zalo-stand-in-secret"
OA_APP_ID = "3917712345678"
OA_APP_SECRET = "app-secret-for-refresh"
OA_SECRET_KEY = "oa-secret-key-for-signatures"
OA_ID = "579745863508352884"


def message_id() -> str:
    """An opaque 20-hex id, like Zalo's."""
    return secrets.token_hex(10)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ok: bool
    time: float = field(default_factory=time.monotonic)


class ZaloStub:
    """Both Zalo APIs. Tests push users' messages and read what the bot sent."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.webhook: dict[str, Any] | None = None
        self._fail: dict[str, list[tuple[int, str]]] = {}
        # OA: the current token pair (refresh tokens are single-use) and when each user wrote.
        self.access_token = "oa-access-1"
        self.refresh_token = "oa-refresh-1"
        self.refreshes = 0
        self.expired_tokens: set[str] = set()
        self.last_interaction: dict[str, float] = {}
        self.window_seconds = 7 * 24 * 3600
        self.now = time.time
        self.uploads: list[tuple[str, str, bytes]] = []
        self.oa_sent: list[dict[str, Any]] = []
        self.oa_delay = 0.0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- server ---------------------------------------------------------------------------
    async def __aenter__(self) -> ZaloStub:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._bot)
        app.router.add_get("/bot{token}/{method}", self._bot)
        app.router.add_post("/v3.0/oa/message/cs", self._oa_send)
        app.router.add_post("/v2.0/oa/upload/image", self._oa_upload)
        app.router.add_post("/v2.0/oa/upload/file", self._oa_upload)
        app.router.add_post("/v4/oa/access_token", self._oauth)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, method: str, code: int, description: str = "stand-in failure") -> None:
        """Make the next call of `method` fail with this error code."""
        self._fail.setdefault(method, []).append((code, description))

    # -- Bot Platform ---------------------------------------------------------------------
    async def _bot(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await request.json() if request.can_read_body else {}
        except json.JSONDecodeError:
            params = dict(await request.post())
        if request.match_info["token"] != BOT_TOKEN:
            self.calls.append(Call(method, params, False))
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        if self._fail.get(method):
            code, description = self._fail[method].pop(0)
            self.calls.append(Call(method, params, False))
            return web.json_response({"ok": False, "error_code": code,
                                      "description": description}, status=code)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            self.calls.append(Call(method, params, False))
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request"}, status=400)
        result = await handler(params)
        ok = result.get("ok", False)
        self.calls.append(Call(method, params, ok))
        return web.json_response(result, status=200 if ok else int(result["error_code"]))

    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "result": {"id": "b0757b1ee52e0c70553f", "account_name": "bot.tocnscd",
                                       "account_type": "BASIC", "can_join_groups": False}}

    async def _m_getUpdates(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook is not None:
            return {"ok": False, "error_code": 400, "description": "webhook is set"}
        timeout = float(params.get("timeout", 30))
        try:
            event = await asyncio.wait_for(self.events.get(), timeout)
        except TimeoutError:
            return {"ok": False, "error_code": 408, "description": "Request timeout"}
        return {"ok": True, "result": event}  # one event per call, wrapped

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text")
        if not params.get("chat_id") or not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return {"ok": False, "error_code": 400, "description": "text must be 1-2000 chars"}
        return {"ok": True, "result": {"message_id": message_id(), "date": int(time.time() * 1000)}}

    async def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = params.get("photo")
        if not params.get("chat_id") or not isinstance(photo, str) or "://" not in photo:
            return {"ok": False, "error_code": 400, "description": "photo must be a URL"}
        return {"ok": True, "result": {"message_id": message_id(), "date": int(time.time() * 1000)}}

    async def _m_sendChatAction(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    async def _m_setWebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        secret = params.get("secret_token") or ""
        if not str(params.get("url", "")).startswith("https://") or not 8 <= len(secret) <= 256:
            return {"ok": False, "error_code": 400, "description": "bad webhook"}
        self.webhook = {"url": params["url"], "secret_token": secret,
                        "updated_at": int(time.time() * 1000)}
        return {"ok": True, "result": {"url": params["url"],
                                       "updated_at": self.webhook["updated_at"]}}

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook = None
        return {"ok": True, "result": {"url": "", "updated_at": int(time.time() * 1000)}}

    def text_event(self, user: str, text: str, *, name: str = "Nguyen Van A",
                   is_bot: bool = False) -> dict[str, Any]:
        """A `message.text.received` event as the docs show it (the inner part)."""
        return {"event_name": "message.text.received", "message": {
            "message_id": message_id(), "date": int(time.time() * 1000),
            "from": {"id": user, "display_name": name, "is_bot": is_bot},
            "chat": {"id": user, "chat_type": "PRIVATE"}, "text": text}}

    def media_event(self, user: str, kind: str, **extra: Any) -> dict[str, Any]:
        """An image, sticker, voice or unsupported event."""
        message: dict[str, Any] = {
            "message_id": message_id(), "date": int(time.time() * 1000),
            "from": {"id": user, "display_name": "Nguyen Van A", "is_bot": False},
            "chat": {"id": user, "chat_type": "PRIVATE"}, **extra}
        return {"event_name": f"message.{kind}.received", "message": message}

    def push(self, event: dict[str, Any]) -> dict[str, Any]:
        """Queue an event for getUpdates."""
        self.events.put_nowait(event)
        return event

    def bot_sent(self, chat: str) -> list[Call]:
        """Successful sendMessage / sendPhoto calls to one chat, in order."""
        return [c for c in self.calls if c.ok and c.method in ("sendMessage", "sendPhoto")
                and str(c.params.get("chat_id")) == chat]

    # -- OA -------------------------------------------------------------------------------
    def _oa_error(self, code: int, message: str) -> web.Response:
        return web.json_response({"error": code, "message": message})  # HTTP 200, as Zalo does

    def _token_problem(self, request: web.Request) -> web.Response | None:
        token = request.headers.get("access_token", "")
        if token in self.expired_tokens:
            return self._oa_error(-220, "Access token has expired")
        if token != self.access_token:
            return self._oa_error(-216, "Access token is invalid")
        return None

    async def _oa_send(self, request: web.Request) -> web.Response:
        if self.oa_delay:
            await asyncio.sleep(self.oa_delay)
        problem = self._token_problem(request)
        body = await request.json()
        if problem is not None:
            self.calls.append(Call("oa.cs", body, False))
            return problem
        if self._fail.get("oa.cs"):
            code, description = self._fail["oa.cs"].pop(0)
            self.calls.append(Call("oa.cs", body, False))
            return self._oa_error(code, description)
        user = str(body.get("recipient", {}).get("user_id", ""))
        text = body.get("message", {}).get("text")
        last = self.last_interaction.get(user)
        if last is None or self.now() - last > self.window_seconds:
            self.calls.append(Call("oa.cs", body, False))
            return self._oa_error(-230, "User has not interacted with the OA in the last 7 days")
        if text is not None and not 1 <= len(text) <= 2000:
            self.calls.append(Call("oa.cs", body, False))
            return self._oa_error(-201, "text must be 1-2000 characters")
        self.calls.append(Call("oa.cs", body, True))
        self.oa_sent.append(body)
        return web.json_response({"error": 0, "message": "Success", "data": {
            "message_id": message_id(), "user_id": user}})

    async def _oa_upload(self, request: web.Request) -> web.Response:
        problem = self._token_problem(request)
        if problem is not None:
            return problem
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return self._oa_error(-201, "file is required")
        content = upload.file.read()
        kind = "image" if request.path.endswith("/image") else "file"
        self.uploads.append((kind, upload.filename, content))
        if kind == "image":
            if len(content) > 1024 * 1024:
                return self._oa_error(-210, "image larger than 1 MB")
            return web.json_response({"error": 0, "message": "Success",
                                      "data": {"attachment_id": message_id()}})
        return web.json_response({"error": 0, "message": "Success",
                                  "data": {"token": secrets.token_urlsafe(16)}})

    async def _oauth(self, request: web.Request) -> web.Response:
        form = await request.post()
        valid = (request.headers.get("secret_key") == OA_APP_SECRET
                 and form.get("app_id") == OA_APP_ID
                 and form.get("grant_type") == "refresh_token"
                 and form.get("refresh_token") == self.refresh_token)
        self.calls.append(Call("oauth.refresh", dict(form), valid))
        if not valid:
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token",
                                      "error_reason": "refresh token is invalid or used"})
        self.refreshes += 1
        self.expired_tokens.add(self.access_token)
        self.access_token = f"oa-access-{self.refreshes + 1}"
        self.refresh_token = f"oa-refresh-{self.refreshes + 1}"  # single use: the old is gone
        return web.json_response({"access_token": self.access_token,
                                  "refresh_token": self.refresh_token, "expires_in": "90000"})

    def oa_event(self, user: str, text: str | None = None, *, event_name: str = "user_send_text",
                 msg_id: str | None = None) -> dict[str, Any]:
        """A webhook body from the OA docs; the user counts as having just interacted."""
        timestamp = str(int(self.now() * 1000))
        if event_name == "follow":
            body: dict[str, Any] = {"app_id": OA_APP_ID, "oa_id": OA_ID, "event_name": "follow",
                                    "follower": {"id": user}, "source": "oa_profile",
                                    "timestamp": timestamp, "user_id_by_app": "app-" + user}
        else:
            message: dict[str, Any] = {"msg_id": msg_id or message_id()}
            if text is not None:
                message["text"] = text
            body = {"app_id": OA_APP_ID, "user_id_by_app": "app-" + user,
                    "sender": {"id": user}, "recipient": {"id": OA_ID},
                    "event_name": event_name, "message": message, "timestamp": timestamp}
        self.last_interaction[user] = self.now()
        return body

    def oa_texts(self, user: str) -> list[str]:
        """Texts the OA sent to a user."""
        return [b["message"].get("text", "") for b in self.oa_sent
                if b["recipient"]["user_id"] == user]


def oa_signature(raw: bytes, timestamp: str, *, app_id: str = OA_APP_ID,
                 key: str = OA_SECRET_KEY) -> str:
    """The `X-ZEvent-Signature` header value Zalo computes for a body."""
    return "mac=" + hashlib.sha256(app_id.encode() + raw + timestamp.encode()
                                   + key.encode()).hexdigest()


async def post_oa(session: aiohttp.ClientSession, url: str, body: dict[str, Any], *,
                  signature: str | None = None) -> aiohttp.ClientResponse:
    """POST a signed OA event the way Zalo does."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    sign = signature if signature is not None else oa_signature(raw, str(body.get("timestamp", "")))
    async with session.post(url, data=raw, headers={
            "Content-Type": "application/json", "X-ZEvent-Signature": sign}) as response:
        await response.read()
        return response
