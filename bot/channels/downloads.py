"""Charts and workbooks served by the bot's own HTTP server under unguessable, expiring links."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.clock import Clock
from storage.channels import ChannelRepository, Download
from storage.engine import Database

PATH = "/files"
LINK_DAYS = 7


class Downloads:
    """Publishes a file and gives its public link; None when the bot has no public URL."""

    def __init__(self, db: Database, clock: Clock, public_url: str | None,
                 ttl: timedelta = timedelta(days=LINK_DAYS)) -> None:
        self.db = db
        self.store = ChannelRepository(db)
        self.clock = clock
        self.public_url = public_url.rstrip("/") if public_url else None
        self.ttl = ttl

    async def publish(self, filename: str, mime_type: str, content: bytes) -> str | None:
        """Store the file and return a link to it that stops working after `ttl`."""
        if self.public_url is None:
            return None
        # 32 random bytes: a link cannot be guessed, and it is the only key to the file.
        token = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.db.transaction():
            await self.store.add_download(token, Download(filename, mime_type, content), now,
                                          now + self.ttl)
        return f"{self.public_url}{PATH}/{token}/{filename}"

    async def get(self, token: str) -> Download | None:
        """The file behind a link, unless it expired or never existed."""
        return await self.store.download(token, self.clock())
