"""`python -m bot run` as a separate process against the in-test Bot API stand-in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import open_services
from bot.config import WEEKDAYS, load_settings
from bot.models import Role
from tests.botapi_stub import BotApiStub

ROOT = Path(__file__).resolve().parent.parent
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def write_config(folder: Path) -> Path:
    """One commune whose weekly digest was due two minutes ago (so a start catches it up)."""
    due = datetime.now(VN) - timedelta(minutes=2)
    path = folder / "config.toml"
    path.write_text(f"""
[schedule]
digest_day = "{WEEKDAYS[due.weekday()]}"
digest_time = "{due:%H:%M}"

[[communes]]
code = "HD"
name = "Xã Hưng Đông"

[[communes.hamlets]]
code = "X01"
name = "Xóm Kim Tân"
households = 100
eligible_citizens = 250
""", encoding="utf-8")
    return path


async def add_officers(config: Path, database: Path | str, count: int, first: int = 8000
                       ) -> list[int]:
    """Officers of the commune, straight into the database the bot will open."""
    settings = load_settings(config)
    async with open_services(settings, database_path=str(database)) as services, services.db.transaction():
        for n in range(count):
            await services.repos.members.upsert_member(
                channel="telegram", external_id=str(first + n), display_name=f"Cán bộ {n}",
                role=Role.OFFICER, commune_code="HD", hamlet_code=None, language="vi",
                at=services.clock())
    return [first + n for n in range(count)]


class BotProcess:
    """A bot process on a SQLite file or a PostgreSQL URL; its log goes next to the config."""

    def __init__(self, stub: BotApiStub, config: Path, database: Path | str, name: str) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": stub.token,
               "TELEGRAM_BASE_URL": stub.base_url, "TELEGRAM_BASE_FILE_URL": stub.base_file_url,
               "BOT_DATABASE": str(database)}
        self.log_path = config.parent / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT, env=env,
            stdout=self._log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        self.process.kill()
        self.process.wait(10)
        self._log.close()

    def stop(self) -> int:
        """SIGTERM and wait: a clean stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
