"""`python -m bot run` as a real process against the loopback Bot API stand-in: start, kill."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.botapi_stub import BotApiStub

ROOT = Path(__file__).resolve().parent.parent


def bot_env(stub: BotApiStub | None, database: Path, **extra: str) -> dict[str, str]:
    """The environment a deployment would set, pointed at the stub and a test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))}
    env["BOT_DATABASE"] = str(database)
    if stub is not None:
        env.update(TELEGRAM_BOT_TOKEN=stub.token, TELEGRAM_BASE_URL=stub.base_url,
                   TELEGRAM_BASE_FILE_URL=stub.base_file_url)
    env.update(extra)
    return env


class BotProcess:
    """One `python -m bot run`; its output is kept to check for leaks."""

    def __init__(self, stub: BotApiStub, env: dict[str, str]) -> None:
        self.stub = stub
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.output = ""

    async def start(self, timeout: float = 60) -> None:
        """Start and wait until it polls for updates."""
        polls = len(self.stub.calls_to("getUpdates"))
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        await self.stub.wait_for(lambda s: len(s.calls_to("getUpdates")) > polls
                                 or self.process is None or self.process.returncode is not None,
                                 timeout=timeout)

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a power cut or the OOM killer would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self._collect()

    async def stop(self) -> None:
        """SIGTERM and wait (python-telegram-bot stops cleanly on it)."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self._collect()

    async def _collect(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        out = await asyncio.wait_for(self.process.stdout.read(), timeout=30)
        await asyncio.wait_for(self.process.wait(), timeout=30)
        self.output += out.decode("utf-8", "replace")
