"""The Telegram channel's HTTP client tells a call that surely never left from one that may
have reached Telegram: the first is retried, the second never sent twice."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram_http import AiohttpRequest, surely_not_sent


@pytest.fixture
async def client() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(timeout=0.3)
    await request.initialize()
    yield request
    await request.shutdown()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _message() -> RequestData:
    return RequestData([RequestParameter.from_input("chat_id", 1),
                        RequestParameter.from_input("text", "Xin chào")])


async def test_a_refused_connection_surely_did_not_send(client: AiohttpRequest) -> None:
    with pytest.raises(NetworkError) as caught:
        await client.do_request(f"http://127.0.0.1:{_free_port()}/bot1/sendMessage", "POST",
                                _message())
    assert surely_not_sent(caught.value)


async def test_an_answer_that_never_comes_may_have_sent(client: AiohttpRequest) -> None:
    received: list[bytes] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(65536))  # the request arrives; no answer follows
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TimedOut) as caught:
            await client.do_request(f"http://127.0.0.1:{port}/bot1/sendMessage", "POST",
                                    _message())
    finally:
        server.close()
    assert not surely_not_sent(caught.value)
    # The call did reach the server: sending it again could show the message twice.
    assert b"text=Xin+ch%C3%A0o" in received[0]
