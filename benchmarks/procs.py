"""Processes of a benchmark: the stand-in and the bots, each on its own, and what they cost."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


class Process:
    """A child process that runs until its stdin is closed; `ready` is its first line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.popen = subprocess.Popen([sys.executable, *args], cwd=ROOT, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      env={**os.environ, **(env or {})})
        assert self.popen.stdout is not None
        self.first_line = self.popen.stdout.readline().strip()
        if not self.first_line.startswith("ready"):
            self.close()
            raise RuntimeError(f"{' '.join(args)} did not start: {self.first_line!r}")

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu_seconds(self) -> float:
        """User and system CPU time used so far."""
        return cpu_seconds(self.pid)

    def peak_rss_mib(self) -> float:
        """The most resident memory the process has had (VmHWM)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self, timeout: float = 30) -> None:
        """Close stdin (a clean stop), then make sure it is gone."""
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            self.popen.stdin.close()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)


class StandIn(Process):
    """benchmarks.standin in its own process, driven over its control port."""

    def __init__(self, *, latency: float = 0.0, flood_limits: bool = False) -> None:
        args = ["-m", "benchmarks.standin", "--latency", str(latency)]
        super().__init__(*args, *(["--flood-limits"] if flood_limits else []))
        _word, api, control = self.first_line.split()
        self.base_url = f"http://127.0.0.1:{api}/bot"
        self.base_file_url = f"http://127.0.0.1:{api}/file/bot"
        self.control = f"http://127.0.0.1:{control}"

    async def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        timeout = aiohttp.ClientTimeout(total=None)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            if body is None:
                async with session.get(self.control + path) as answer:
                    return await answer.json()
            async with session.post(self.control + path, json=body) as answer:
                return await answer.json()

    async def wait_polling(self, before: int, timeout: float = 60) -> None:
        """Until a bot has asked for updates (more getUpdates than `before`)."""
        deadline = time.monotonic() + timeout
        while await self.call("/polling") <= before:
            if time.monotonic() > deadline:
                raise TimeoutError("the bot never polled")
            await asyncio.sleep(0.05)
