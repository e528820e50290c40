"""Several bot processes on one PostgreSQL database behind one webhook, driven over HTTP on
127.0.0.1 as Telegram drives them: each worker is `python -m bot run` with its own port."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from tests.botapi_stub import BotApiStub, FloodLimits
from tests.postgres_server import fresh_schema
from tests.zalo_world import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "webhook-secret-for-tests"
USER = 5001
OFFICER = 5002



@dataclass
class Workers:
    """N worker processes and the database they share."""

    url: str
    ports: list[int]
    stub: BotApiStub
    http: aiohttp.ClientSession

    async def post(self, worker: int, update: dict[str, Any]) -> int:
        """Deliver an update to one worker's webhook; returns the HTTP status (after commit)."""
        async with self.http.post(
                f"http://127.0.0.1:{self.ports[worker]}/telegram", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            return response.status

    def text_update(self, text: str, user: int = USER) -> dict[str, Any]:
        """A message from the test volunteer (or another user), as Telegram would POST it."""
        return self.stub.take_update(self.stub.push_text(user, text))

    def count(self, sql: str) -> int:
        with psycopg.connect(self.url) as conn:
            row = conn.execute(sql).fetchone()
            assert row is not None
            return int(row[0])


async def _cli(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


@pytest.fixture
async def workers(stub: BotApiStub, postgres_url: str, tmp_path: Path) -> AsyncIterator[Workers]:
    with fresh_schema(postgres_url) as url:
        base = {**os.environ, "BOT_DATABASE": url, "TELEGRAM_BOT_TOKEN": stub.token,
                "TELEGRAM_BASE_URL": stub.base_url, "TELEGRAM_BASE_FILE_URL": stub.base_file_url,
                "TELEGRAM_WEBHOOK_SECRET": SECRET, "BOT_WORKERS": "3"}
        households = tmp_path / "households.csv"
        households.write_text("code,hamlet,head_name,members\nX01-001,X01,Nguyễn Thị Lan,4\n",
                              encoding="utf-8")
        await _cli(base, "import-households", str(households))
        ports = [free_port() for _ in range(3)]
        processes = [await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
            stderr=(tmp_path / f"worker{i}.log").open("w"),
            # The public URL is only registered with the stand-in (Telegram wants https).
            env={**base, "BOT_HTTP_LISTEN": f"127.0.0.1:{port}",
                 "BOT_PUBLIC_URL": "https://bot.example.vn"}) for i, port in enumerate(ports)]
        try:
            async with aiohttp.ClientSession() as http:
                for port, process in zip(ports, processes, strict=True):
                    await _until_healthy(http, port, process)
                yield Workers(url, ports, stub, http)
        finally:
            for process in processes:
                if process.returncode is None:
                    process.terminate()
            for process in processes:
                await process.wait()


async def _until_healthy(http: aiohttp.ClientSession, port: int,
                         process: asyncio.subprocess.Process) -> None:
    for _ in range(600):  # a worker starts in a few seconds; 60 s on a loaded machine
        assert process.returncode is None, f"worker on port {port} exited"
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"worker on port {port} never became healthy")


async def _join(workers: Workers) -> None:
    env = {**os.environ, "BOT_DATABASE": workers.url}
    code = (await _cli(env, "invite", "--role", "volunteer", "--hamlet", "X01")).split()[-1]
    assert await workers.post(0, workers.text_update(f"/start {code}")) == 200
    assert workers.count("SELECT COUNT(*) FROM members") == 1


async def test_one_chat_spread_over_workers_stays_in_order(workers: Workers) -> None:
    await _join(workers)
    steps = ["/activate", "X01-001", "1 1 c", "luu"]
    for i, text in enumerate(steps):  # each step to another worker, as a load balancer would
        assert await workers.post(i % 3, workers.text_update(text)) == 200
    assert workers.count("SELECT COUNT(*) FROM activations") == 1
    assert "✅" in workers.stub.last_message(USER).text


async def test_same_update_to_every_worker_at_once_takes_effect_once(workers: Workers) -> None:
    await _join(workers)
    for text in ["/activate", "X01-001", "1 1 c"]:
        assert await workers.post(0, workers.text_update(text)) == 200
    save = workers.text_update("luu")
    seen = len(workers.stub.sent_to(USER))
    statuses = await asyncio.gather(*(workers.post(i, save) for i in range(3)))
    assert statuses == [200, 200, 200]
    assert workers.count("SELECT COUNT(*) FROM activations") == 1
    receipts = [m.text for m in workers.stub.sent_to(USER)[seen:]]
    assert len(receipts) == 1 and "✅" in receipts[0], receipts


def _arrivals(stub: BotApiStub, chat: int) -> list[float]:
    """When each message the stub accepted for one chat arrived."""
    return [call.time for call in stub.calls if call.ok and call.method == "sendMessage"
            and str(call.params.get("chat_id")) == str(chat)]


async def test_one_chat_answered_by_three_workers_at_once_keeps_its_second(
        workers: Workers) -> None:
    """Three messages of one chat reach three workers in the same instant: their answers are
    still a second apart at Telegram, so none is refused with 429."""
    await _join(workers)
    workers.stub.flood_limits = FloodLimits()
    before = len(_arrivals(workers.stub, USER))
    updates = [workers.text_update("/help") for _ in range(3)]
    statuses = await asyncio.gather(*(workers.post(i, update)
                                      for i, update in enumerate(updates)))
    assert statuses == [200, 200, 200]
    times = _arrivals(workers.stub, USER)[before:]
    assert len(times) == 3, times
    assert workers.stub.flood_rejections == 0
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[1:], strict=False))


async def test_three_workers_together_keep_to_thirty_messages_a_second(workers: Workers) -> None:
    """45 people write at once, 15 to each worker: each worker keeps to its third of the
    budget, so Telegram never sees more than 30 messages in one second and refuses none."""
    workers.stub.flood_limits = FloodLimits()
    people = range(6001, 6046)
    updates = [workers.stub.take_update(workers.stub.push_text(person, "xin chào"))
               for person in people]
    statuses = await asyncio.gather(*(workers.post(i % 3, update)
                                      for i, update in enumerate(updates)))
    assert statuses == [200] * len(updates)
    assert all(workers.stub.sent_to(person) for person in people)
    assert workers.stub.flood_rejections == 0
    times = sorted(call.time for call in workers.stub.calls
                   if call.ok and call.method.startswith("send"))
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert 10 < busiest <= 30, busiest


def _units(path: Path, households: int) -> str:
    """A list of units adding one commune of two hamlets (the first one's households given)."""
    path.write_text("Mã tỉnh,Tên tỉnh,Mã xã,Tên xã,Mã thôn,Tên thôn,Số hộ,Số dân đủ tuổi\n"
                    f"01,Tỉnh Mới,90001,Xã Tân Lập,90001-01,Thôn Bắc,{households},300\n"
                    "01,Tỉnh Mới,90001,Xã Tân Lập,90001-02,Thôn Nam,30,80\n", encoding="utf-8")
    return str(path)


async def test_places_imported_while_workers_run_reach_every_worker(
        workers: Workers, tmp_path: Path) -> None:
    """The workers started before the import: none is restarted. The officer joins through
    one worker, the volunteer through another, and a re-import of a hamlet's households
    shows in the next digest, asked of a third."""
    env = {**os.environ, "BOT_DATABASE": workers.url}
    await _cli(env, "places", "import", _units(tmp_path / "units.csv", 40))
    officer = (await _cli(env, "invite", "--role", "officer", "--commune", "90001")).split()[-1]
    volunteer = (await _cli(env, "invite", "--role", "volunteer", "--hamlet",
                            "90001-01")).split()[-1]
    assert await workers.post(0, workers.text_update(f"/start {officer}", OFFICER)) == 200
    assert "Xã Tân Lập" in (workers.stub.last_message(OFFICER).text or "")
    assert await workers.post(1, workers.text_update(f"/start {volunteer}")) == 200
    assert "Thôn Bắc" in (workers.stub.last_message(USER).text or "")

    async def digest(worker: int) -> str:
        seen = len(workers.stub.sent_to(OFFICER))
        assert await workers.post(worker, workers.text_update("/digest", OFFICER)) == 200
        return "\n".join(m.text or "" for m in workers.stub.sent_to(OFFICER)[seen:])

    assert "VNeID: 0/70" in await digest(2)  # 40 + 30 households
    await _cli(env, "places", "import", _units(tmp_path / "again.csv", 55))
    for worker in range(3):
        assert "VNeID: 0/85" in await digest(worker)  # 55 + 30, on every worker
