"""A Friday-morning burst: volunteers logging activations at a fixed rate, over HTTP webhooks on
127.0.0.1, against 1 bot process on SQLite and 1, 2 and 4 worker processes on PostgreSQL.

Each volunteer runs one activation (`/activate`, the household's code, `1 1 c`, `luu`), a step
after the previous one was answered; volunteers start at rate/4 a second, so updates arrive at
about `rate` a second. An update's latency is its POST until the worker answers (after the
commit and the reply). The load generator spreads updates over the workers round robin, as a
reverse proxy does; an update not answered within 30 s counts as an error. Every configuration
runs the same script with the same settings; the bot processes are `python -m bot run`, the Bot
API stand-in runs in this process.

The workers keep one message a second per chat between them (booked in the database), so one
chat's replies are a second apart. Telegram's overall budget (30 messages a second for one token,
divided among the workers) would cap every configuration at 30 updates a second whatever its
database, so the burst raises it to 1,000 (TELEGRAM_MESSAGES_PER_SECOND, as paid broadcasts
allow) on every side alike: the figures are the workers' and the database's.

    python -m benchmarks.friday_burst            # 300 updates/s for 60 s, 5,000 volunteers
    python -m benchmarks.friday_burst --quick    # 30 updates/s for 10 s, 300 volunteers
    python -m benchmarks.friday_burst --postgres postgresql://user@127.0.0.1/db   # own server
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import RESULTS, percentile
from benchmarks.procs import cpu_seconds
from bot.app import open_services
from bot.config import load_settings
from bot.models import Role
from tests.botapi_stub import BotApiStub
from tests.postgres_server import fresh_schema, postgres_server
from tests.zalo_world import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "friday-burst"
FIRST_USER = 100_000
BUDGET = 1000  # messages a second for the whole deployment (see above)



def _name(n: int) -> str:
    """A plausible person's name (names hold no digits: the import refuses those)."""
    families = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
    middles = ("Văn", "Thị", "Đức", "Minh", "Ngọc")
    givens = ("An", "Bình", "Cúc", "Dũng", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Long", "Mai",
              "Nam", "Oanh", "Phúc", "Quang", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vân", "Yến")
    return f"{families[n % 8]} {middles[n // 8 % 5]} {givens[n // 40 % len(givens)]}"


async def _prepare(database: str, volunteers: int) -> list[str]:
    """Volunteers (members already) and one household each; returns the households' codes."""
    settings = load_settings(ROOT / "config.toml")
    hamlets = [h.code for h in settings.communes[0].hamlets]
    codes = [f"{hamlets[n % len(hamlets)]}-{n + 1:05d}" for n in range(volunteers)]
    async with open_services(settings, database_path=database) as services:
        await services.households.import_rows([
            {"code": code, "hamlet": code.split("-")[0], "head_name": _name(n), "members": "4"}
            for n, code in enumerate(codes)])
        async with services.db.transaction():
            for n, code in enumerate(codes):
                await services.repos.members.upsert_member(
                    channel="telegram", external_id=str(FIRST_USER + n),
                    display_name=_name(n + 7), role=Role.VOLUNTEER,
                    commune_code="HD", hamlet_code=code.split("-")[0], language="vi",
                    at=services.clock())
    return codes


@contextlib.asynccontextmanager
async def _workers(stub: BotApiStub, database: str, count: int, logs: Path
                   ) -> AsyncIterator[tuple[list[int], list[int]]]:
    """Start `count` bot processes; their HTTP ports and process ids."""
    ports = [free_port() for _ in range(count)]
    env = {**os.environ, "BOT_DATABASE": database, "TELEGRAM_BOT_TOKEN": stub.token,
           "TELEGRAM_BASE_URL": stub.base_url, "TELEGRAM_BASE_FILE_URL": stub.base_file_url,
           "TELEGRAM_WEBHOOK_SECRET": SECRET, "BOT_PUBLIC_URL": "https://bot.example.vn",
           "BOT_WORKERS": str(count), "TELEGRAM_MESSAGES_PER_SECOND": str(BUDGET)}
    processes = [subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=(logs / f"worker{i}.log").open("w"),
        env={**env, "BOT_HTTP_LISTEN": f"127.0.0.1:{port}"}) for i, port in enumerate(ports)]
    try:
        async with aiohttp.ClientSession() as http:
            for port in ports:
                for _ in range(1200):
                    with contextlib.suppress(aiohttp.ClientConnectionError):
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                            if response.status == 200:
                                break
                    await asyncio.sleep(0.1)
        yield ports, [process.pid for process in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


async def _burst(stub: BotApiStub, ports: list[int], codes: list[str], rate: float,
                 seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    turn = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def post(update: dict[str, Any]) -> None:
            nonlocal errors, turn
            port = ports[turn % len(ports)]
            turn += 1
            start = time.perf_counter()
            try:
                async with http.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
                    if r.status != 200:
                        errors += 1
                        return
            except (TimeoutError, aiohttp.ClientError):
                errors += 1
                return
            latencies.append(time.perf_counter() - start)

        def update(user: int, text: str) -> dict[str, Any]:
            return stub.take_update(stub.push_text(user, text))

        async def volunteer(n: int) -> None:
            user = FIRST_USER + n
            for text in ("/activate", codes[n], "1 1 c", "luu"):
                await post(update(user, text))

        scripts = min(len(codes), int(rate * seconds / 4))
        started = time.perf_counter()
        tasks = []
        for n in range(scripts):
            delay = started + n * 4 / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(volunteer(n)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return {"scripts": scripts, "updates": 4 * scripts, "answered": len(latencies),
            "errors": errors, "seconds": round(elapsed, 2),
            "updates_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1)}


@contextlib.contextmanager
def _databases(postgres: str | None, folder: Path) -> Iterator[dict[str, Any]]:
    with contextlib.ExitStack() as stack:
        url = postgres or stack.enter_context(postgres_server())
        yield {"sqlite": lambda name: str(folder / f"{name}.sqlite3"),
               "postgresql": lambda name: stack.enter_context(fresh_schema(url))}


async def run(rate: float, seconds: float, volunteers: int, postgres: str | None
              ) -> dict[str, Any]:
    figures: dict[str, Any] = {"settings": {"rate_per_s": rate, "seconds": seconds,
                                            "volunteers": volunteers}}
    with tempfile.TemporaryDirectory() as tmp, _databases(postgres, Path(tmp)) as make:
        for engine, workers in (("sqlite", 1), ("postgresql", 1), ("postgresql", 2),
                                ("postgresql", 4)):
            name = f"{engine}_{workers}"
            database = make[engine](name)
            codes = await _prepare(database, volunteers)
            async with BotApiStub() as stub, \
                    _workers(stub, database, workers, Path(tmp)) as (ports, pids):
                cpu = sum(cpu_seconds(pid) for pid in pids)
                result = await _burst(stub, ports, codes, rate, seconds)
                # The bot processes' CPU (the database server's not included).
                result["workers_cpu_ms_per_update"] = round(
                    (sum(cpu_seconds(pid) for pid in pids) - cpu) / result["updates"] * 1000, 2)
            async with open_services(load_settings(ROOT / "config.toml"),
                                     database_path=database) as services:
                # Each finished script saved one activation: fewer means updates were lost.
                result["activations_saved"] = await services.repos.count("activations")
            figures[name] = result
            print(f"{name:14} {result['updates_per_s']:7.1f} updates/s  p50 {result['p50_ms']:8.1f} ms"
                  f"  p95 {result['p95_ms']:8.1f} ms  errors {result['errors']}"
                  f"  saved {result['activations_saved']}/{result['scripts']}"
                  f"  workers' CPU {result['workers_cpu_ms_per_update']:.2f} ms/update",
                  flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30 updates/s for 10 s, 300 volunteers")
    parser.add_argument("--postgres", help="server to use (default: a throw-away cluster)")
    args = parser.parse_args()
    rate, seconds, volunteers = (30, 10, 300) if args.quick else (300, 60, 5000)
    figures = asyncio.run(run(rate, seconds, volunteers, args.postgres))
    out = RESULTS / ("friday_burst_quick.json" if args.quick else "friday_burst.json")
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
