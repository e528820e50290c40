"""The Telegram channel's HTTP client: python-telegram-bot's request interface over aiohttp."""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# aiohttp errors raised before any byte of a request left: retrying cannot double a message.
_NOT_SENT: tuple[type[BaseException], ...] = (aiohttp.ClientConnectorError,
                                              aiohttp.ConnectionTimeoutError)


def surely_not_sent(exc: NetworkError) -> bool:
    """A NetworkError Telegram answered (5xx) or whose connection never opened."""
    cause = exc.__cause__
    return cause is None or isinstance(cause, _NOT_SENT)


class AiohttpRequest(BaseRequest):
    """python-telegram-bot's BaseRequest over one aiohttp session.

    python-telegram-bot's own HTTPXRequest goes through httpcore's connection pool, which
    checks every pooled connection, and counts them all once per connection, each time a
    request starts or ends (encode/httpcore#1035, unfixed in 1.0.9). Answering 50 chats at
    once keeps about 50 connections open, and that scan took a fifth of the bot's CPU.
    aiohttp's connector takes an idle connection from a per-host queue instead.
    """

    __slots__ = ("_connect", "_media_write", "_pool", "_pool_size", "_read", "_session",
                 "_write")

    def __init__(self, *, pool_size: int = 256, timeout: float = 10.0,
                 media_write_timeout: float = 20.0) -> None:
        self._pool_size = pool_size
        self._read = self._write = self._connect = self._pool = timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call sets none (getUpdates adds its long poll)."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (inside the running event loop, as aiohttp requires)."""
        if self._session is None or self._session.closed:
            # keepalive_timeout: idle connections are closed well before a server would.
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=5)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        """Send one call; its HTTP status and body. TimedOut or NetworkError on failure,
        caused by the aiohttp error (see `surely_not_sent`)."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        body: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            body = aiohttp.FormData(fields or {})
            for name, (filename, content, mimetype) in files.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        read = _given(read_timeout, self._read)
        write = _given(write_timeout, self._media_write if files else self._write)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        # aiohttp has no write timeout: the sum of the four bounds the whole call instead.
        parts = (read, write, connect, pool)
        timeout = aiohttp.ClientTimeout(
            total=None if None in parts else sum(p for p in parts if p is not None),
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(method, url, data=body, timeout=timeout,
                                             headers={"User-Agent": self.USER_AGENT}) as res:
                return res.status, await res.read()
        except TimeoutError as err:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


def _given(value: ODVInput[float], default: float) -> float | None:
    return default if isinstance(value, DefaultValue) else value
