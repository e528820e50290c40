"""The benchmarks' Bot API stand-in, in its own process, with the simulated users beside it.

python -m benchmarks.standin [--latency 0.1] [--flood-limits]
prints `ready <api port> <control port>` and serves until stdin closes. The bot under test
talks to the API port like to Telegram; the benchmark driver uses the control port to make
closed-loop users talk to the bot (each sends, waits for the answer, sends again) and to read
what reached which chat. Nothing here is timed inside the bot's process.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from typing import Any

from aiohttp import web

from tests.botapi_stub import BotApiStub, FloodLimits, SentMessage


class Users:
    """Closed-loop users: each sends a step, waits for its answers, then sends the next."""

    def __init__(self, stub: BotApiStub) -> None:
        self.stub = stub
        self.received: Counter[int] = Counter()
        self.position: Counter[int] = Counter()  # each user's next step, for `resume`
        self.waiting: dict[int, tuple[int, asyncio.Future[None]]] = {}
        stub.sent_listeners.append(self._on_sent)

    def _on_sent(self, sent: SentMessage) -> None:
        chat = int(sent.chat_id)
        self.received[chat] += 1
        waiting = self.waiting.get(chat)
        if waiting is not None and self.received[chat] >= waiting[0] and not waiting[1].done():
            waiting[1].set_result(None)

    async def step(self, user: int, text: str, answers: int) -> float:
        """Send one message and wait for its `answers` messages; the latency in seconds."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[user] = (self.received[user] + answers, future)
        started = time.perf_counter()
        self.stub.push_text(user, text)
        await asyncio.wait_for(future, 60)
        return time.perf_counter() - started

    async def calibrate(self, user: int, texts: list[str], settle: float) -> list[int]:
        """How many messages the bot sends for each step (one user, waiting `settle` after)."""
        counts = []
        for text in texts:
            before = self.received[user]
            self.stub.push_text(user, text)
            await asyncio.sleep(settle)
            counts.append(self.received[user] - before)
        return counts

    async def run(self, users: list[int], script: list[list[str]], answers: list[int],
                  seconds: float, resume: bool = False) -> dict[str, Any]:
        """Every user loops over its own script until `seconds` pass; latencies of each step.

        `resume`: each user goes on from the step its previous run stopped at (a flow is
        never cut short by a run's end), its script read round and round."""
        latencies: list[float] = []
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()

        async def one(index: int, user: int) -> None:
            steps = script[index]
            n = self.position[user] if resume else 0
            end = n + len(steps)
            while time.perf_counter() < stop_at and n < end:
                latencies.append(await self.step(user, steps[n % len(steps)],
                                                 answers[n % len(answers)]))
                n += 1
            self.position[user] = n

        await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
        return {"updates": len(latencies), "seconds": time.perf_counter() - started,
                "latencies": latencies}


def _control(stub: BotApiStub, users: Users) -> web.Application:
    async def run(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(await users.run(body["users"], body["script"], body["answers"],
                                                 body["seconds"], body.get("resume", False)))

    async def calibrate(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(await users.calibrate(body["user"], body["texts"],
                                                       body.get("settle", 0.5)))

    async def polling(request: web.Request) -> web.Response:
        return web.json_response(sum(1 for c in stub.calls if c.method == "getUpdates"))

    async def delivered(request: web.Request) -> web.Response:
        """What reached each chat: messages per (chat, method, first line), flood figures."""
        counts: Counter[str] = Counter()
        for chat in (await request.json())["chats"]:
            for sent in stub.sent_to(chat):
                title = (sent.text or "").split("\n", 1)[0]
                counts[f"{chat}|{sent.method}|{title}"] += 1
        times = stub.message_times
        return web.json_response({
            "counts": counts, "flood_rejections": stub.flood_rejections,
            "first": min(times) if times else None, "last": max(times) if times else None,
            "messages": len(times), "most_in_one_second": _most_in_window(times, 1.0)})

    app = web.Application(client_max_size=64 * 2**20)  # the users' scripts
    app.router.add_post("/run", run)
    app.router.add_post("/calibrate", calibrate)
    app.router.add_get("/polling", polling)
    app.router.add_post("/delivered", delivered)
    return app


def _most_in_window(times: list[float], period: float) -> int:
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= period:
            start += 1
        best = max(best, end - start + 1)
    return best


async def serve(latency: float, flood: bool) -> None:
    # Update ids keep growing from one stand-in to the next, as Telegram's do for one bot:
    # the bot under test ignores ids it has already handled.
    stub = BotApiStub(latency=latency, flood_limits=FloodLimits() if flood else None,
                      first_update_id=int(time.time() * 1000) % 2**31)
    await stub.start()
    users = Users(stub)
    runner = web.AppRunner(_control(stub, users), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    control_port = runner.addresses[0][1]
    print(f"ready {stub.port} {control_port}", flush=True)
    # Serve until the driver closes our stdin (or dies).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
    await stub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="round trip added, seconds")
    parser.add_argument("--flood-limits", action="store_true",
                        help="refuse messages over Telegram's limits with 429 retry_after")
    args = parser.parse_args()
    asyncio.run(serve(args.latency, args.flood_limits))


if __name__ == "__main__":
    main()
