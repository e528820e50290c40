"""The bot's one HTTP server: webhooks of every channel, file downloads and /healthz."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.downloads import PATH as FILES_PATH
from bot.channels.downloads import Downloads
from storage.engine import Database

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Webhook bodies are small; anything bigger is refused before it is read.
MAX_BODY = 1024 * 1024


def build_app(db: Database, downloads: Downloads, webhooks: dict[str, Handler]) -> web.Application:
    """Routes: POST webhooks (e.g. /telegram, /zalo/bot, /zalo/oa), GET /healthz and files."""
    app = web.Application(client_max_size=MAX_BODY)

    async def healthz(request: web.Request) -> web.Response:
        try:
            await db.fetchone("SELECT 1")
        except Exception:
            log.exception("health check: the database does not answer")
            return web.json_response({"ok": False}, status=503)
        return web.json_response({"ok": True})

    async def download(request: web.Request) -> web.StreamResponse:
        found = await downloads.get(request.match_info["token"])
        if found is None:
            return web.Response(status=404, text="This link has expired or does not exist.")
        return web.Response(body=found.content, content_type=found.mime_type, headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "private, no-store"})

    app.router.add_get("/healthz", healthz)
    app.router.add_get(FILES_PATH + "/{token}/{name}", download)
    for path, handler in webhooks.items():
        app.router.add_post(path, handler)
    return app


class HttpServer:
    """Runs the aiohttp app on `host:port` inside the bot's event loop."""

    def __init__(self, app: web.Application, listen: str) -> None:
        host, _sep, port = listen.rpartition(":")
        self.host = host or "0.0.0.0"
        self.port = int(port)
        self._runner = web.AppRunner(app, access_log=None)

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("HTTP server on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()
