"""Bot API faults on every method the bot calls: flood control (429), server errors (5xx) and
timeouts. The person still gets their answer, once where that can be known, and records
are saved once."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.channels.telegram import TelegramChannel
from bot.config import Secrets, Settings
from bot.models import Role
from bot.runtime import Runtime
from bot.services import Services
from tests.botapi_stub import BotApiStub
from tests.telegram_world import TelegramWorld

USER = 7770001
OFFICER = 7770002
FAULTS = ["429", "500", "timeout"]


def inject(stub: BotApiStub, method: str, fault: str) -> None:
    if fault == "timeout":
        stub.delay_next(method, 2.5)  # longer than the client's 2 s timeout
    else:
        stub.fail_next(method, status=int(fault), retry_after=1 if fault == "429" else None)


async def _joined(world: TelegramWorld, services: Services, user: int, role: Role) -> None:
    invite = await services.members.create_invite(role, hamlet_code="X01"
                                                  if role is Role.VOLUNTEER else None)
    await world.say(user, f"/start {invite.code}")


def _count(stub: BotApiStub, user: int, needle: str) -> int:
    return sum(needle in (m.text or "") for m in stub.sent_to(user))


@pytest.mark.parametrize("fault", FAULTS)
async def test_send_edit_answer_and_commands_survive_faults(
        world: TelegramWorld, stub: BotApiStub, services: Services, fault: str) -> None:
    """429 and 5xx: retried, the answer arrives once. A timeout: the call may have reached
    Telegram, so a new message is not sent again (the stand-in, like Telegram, still carries
    it out: it arrives once, late); menus and edits are idempotent and are retried."""
    await _joined(world, services, USER, Role.VOLUNTEER)
    # sendMessage
    before = _count(stub, USER, "/activate")
    inject(stub, "sendMessage", fault)
    await world.say(USER, "/help")
    await stub.wait_for(lambda s: _count(s, USER, "/activate") > before, timeout=10)
    # setMyCommands (sent with the menu on /start), then the menu itself
    inject(stub, "setMyCommands", fault)
    sent = await world.say(USER, "/start")
    assert sent and sent[-1].text
    # answerCallbackQuery and editMessageText (a tapped button replaces its message)
    inject(stub, "answerCallbackQuery", fault)
    inject(stub, "editMessageText", fault)
    await world.tap(USER, "Trợ giúp")
    await stub.wait_for(lambda s: _count(s, USER, "/activate") > before + 1, timeout=10)
    # A record saved while the reply path fails: saved once, confirmed once.
    await world.say(USER, "/activate")
    await world.say(USER, "X01-001")
    await world.say(USER, "1 1 c")
    inject(stub, "editMessageText", fault)
    await world.tap(USER, "Lưu")
    await stub.wait_for(lambda s: _count(s, USER, "✅") >= 1, timeout=10)
    assert await services.repos.count("activations") == 1
    assert _count(stub, USER, "✅") == 1
    help_answers = _count(stub, USER, "/activate")
    assert help_answers == before + 2  # each answer once, none repeated


@pytest.mark.parametrize("fault", ["429", "500"])
async def test_photo_and_document_survive_faults(world: TelegramWorld, stub: BotApiStub,
                                                 services: Services, fault: str) -> None:
    await _joined(world, services, OFFICER, Role.OFFICER)
    inject(stub, "sendPhoto", fault)
    inject(stub, "sendDocument", fault)
    await world.say(OFFICER, "/digest")
    ok = [c for c in stub.calls if c.method in ("sendPhoto", "sendDocument") and c.ok]
    assert sorted(c.method for c in ok) == ["sendDocument", "sendPhoto"]


@pytest.mark.parametrize("fault", ["502", "timeout"])
async def test_polling_survives_faults(world: TelegramWorld, stub: BotApiStub,
                                       services: Services, fault: str) -> None:
    await _joined(world, services, USER, Role.VOLUNTEER)
    inject(stub, "getUpdates", fault)
    sent = await world.say(USER, "/help")
    assert "/activate" in (sent[-1].text or "")


class DroppingProxy:
    """A TCP proxy in front of the stand-in that cuts the connection of the next request to a
    chosen method before any answer: what a dropped mobile or NAT connection looks like."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.armed: list[str] = []
        self.dropped = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def client_to_server() -> None:
            while data := await reader.read(65536):
                head = data[:200].decode("latin-1")
                method = next((m for m in self.armed if f"/{m} HTTP" in head), None)
                if method is not None:
                    self.armed.remove(method)
                    self.dropped += 1
                    writer.transport.abort()
                    up_writer.transport.abort()
                    return
                up_writer.write(data)
                await up_writer.drain()

        async def server_to_client() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()

        with contextlib.suppress(ConnectionError, OSError):
            await asyncio.gather(client_to_server(), server_to_client())
        for w in (writer, up_writer):
            w.transport.abort()


async def test_dropped_connections_are_retried(stub: BotApiStub, settings: Settings,
                                               services: Services) -> None:
    proxy = DroppingProxy(stub.port)
    port = await proxy.start()
    secrets = Secrets(telegram_token=stub.token,
                      telegram_base_url=f"http://127.0.0.1:{port}/bot",
                      telegram_base_file_url=f"http://127.0.0.1:{port}/file/bot")
    runtime = Runtime(services)
    channel = TelegramChannel(settings, secrets, runtime=runtime, request_timeout=2.0,
                              retry_delays=(0.05, 0.1, 0.2), chat_interval=0.0)
    await channel.start(poll_timeout=1)
    runtime.add_channel("telegram", channel)
    await runtime.start(scheduler=False)
    world = TelegramWorld(stub, channel, runtime)
    try:
        await _joined(world, services, USER, Role.VOLUNTEER)
        # A dropped new message may have arrived: it is not sent again (at most once); the
        # next message is answered.
        proxy.armed.append("sendMessage")
        assert await world.say(USER, "/help") == []
        assert "/activate" in (await world.say(USER, "/help"))[-1].text
        # Polling and idempotent calls (command menu, edits) carry on as if nothing happened.
        proxy.armed.append("getUpdates")
        assert "/activate" in (await world.say(USER, "/help"))[-1].text
        proxy.armed.append("setMyCommands")
        assert (await world.say(USER, "/start"))[-1].text
        await world.say(USER, "/activate")
        await world.say(USER, "X01-001")
        await world.say(USER, "1 1 c")
        proxy.armed += ["answerCallbackQuery", "editMessageText"]
        await world.tap(USER, "Lưu")
        assert "✅" in (stub.last_message(USER).text or "")
        assert await services.repos.count("activations") == 1
        assert _count(stub, USER, "✅") == 1
        assert proxy.dropped == 5
    finally:
        await world.stop()
        await proxy.stop()
