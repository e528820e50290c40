"""Scheduled reports over the real Telegram path: files, flood control, one message a second."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import openpyxl
import pytest

from bot.config import Settings
from bot.models import Role
from bot.services import Services
from tests.botapi_stub import BotApiStub
from tests.conftest import FakeClock
from tests.telegram_world import TelegramWorld

OFFICER = 7100


@pytest.fixture
async def world(settings: Settings, services: Services) -> AsyncIterator[TelegramWorld]:
    async with BotApiStub() as stub:
        started = await TelegramWorld.start(stub, settings, services, chat_interval=0.3)
        yield started
        await started.stop()


async def test_weekly_digest_reaches_the_officer_once_despite_429_and_5xx(
        world: TelegramWorld, services: Services, clock: FakeClock) -> None:
    stub = world.stub
    invite = await services.members.create_invite(Role.OFFICER)
    await world.say(OFFICER, f"/start {invite.code}")
    reporting = world.channel.reporting
    assert reporting is not None
    stub.fail_next("sendPhoto", status=429, retry_after=1)
    stub.fail_next("sendDocument", status=500)
    clock.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # Friday 15:00 in Vietnam
    before = len(stub.sent_to(OFFICER))
    await reporting.scheduler.run("digest-week", "HD")
    await reporting.scheduler.run("digest-week", "HD")  # fired twice: still sent once
    sent = stub.sent_to(OFFICER)[before:]
    assert [s.method for s in sent] == ["sendMessage", "sendPhoto", "sendDocument"]
    assert "Báo cáo tuần 47/2026" in (sent[0].text or "")
    photo = next(iter(sent[1].files.values())).data
    assert photo.startswith(b"\x89PNG") and len(photo) > 10_000
    workbook = next(iter(sent[2].files.values()))
    assert workbook.filename and workbook.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(workbook.data))
    assert "Xóm Kim Tân" in [c.value for row in book.worksheets[1].iter_rows() for c in row]
    # One message a second per chat (here 0.3 s, shortened for the test), retries included.
    times = [call.time for call in stub.calls if call.ok and call.method in (
        "sendMessage", "sendPhoto", "sendDocument") and call.params.get("chat_id") in (
        OFFICER, str(OFFICER))][-3:]
    assert all(b - a >= 0.27 for a, b in zip(times, times[1:], strict=False))
    rows = await reporting.outbox.store.rows("digest-week")
    assert [r["status"] for r in rows] == ["sent"]
    # "Chi tiết" under the short digest sends every hamlet as a new message; the short
    # digest stays as it was.
    short = sent[0].text or ""
    [detail] = await world.tap(OFFICER, "Chi tiết")
    assert detail.method == "sendMessage" and "Theo từng thôn/xóm:" in (detail.text or "")
    assert (stub.message(OFFICER, sent[0].message_id) or {}).get("text") == short
