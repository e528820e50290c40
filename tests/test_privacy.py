"""Personal data: erasure on request, export for an officer, backups that restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.app import open_services
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.models import Role
from bot.services import Services
from tests.conftest import FakeClock, dump_database, join
from tests.test_flows import texts

ROOT = Path(__file__).resolve().parent.parent


async def _log_one_activation(console: ConsoleChannel, user: str) -> None:
    await console.send(user, "/activate")
    await console.send(user, "X01-001")
    await console.send(user, "1 1 c")
    assert "✅" in texts(await console.tap(user, "Lưu"))


async def test_a_volunteer_erases_their_data_and_the_figures_stay(
        services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "v1", name="Trần Thị Hoa")
    await _log_one_activation(console, "v1")
    replies = await console.send("v1", "/xoadulieu")
    assert "vẫn được giữ" in texts(replies) or "không còn" in texts(replies)
    await console.send("v1", "để tôi nghĩ đã")  # not a yes: nothing happens
    assert await services.repos.members.member("console", "v1") is not None
    replies = await console.tap("v1", "Đồng ý xóa")
    assert "✅" in texts(replies)
    assert await services.repos.members.member("console", "v1") is None
    assert await services.repos.count("activations") == 1  # the commune's figure stays
    dump = dump_database(Path(services.db.path))
    assert "Trần Thị Hoa" not in dump and "'v1'" not in dump
    # Writing again: a citizen, welcomed by the help desk.
    assert "Anh/Chị" in texts(await console.send("v1", "/start"))


async def test_a_citizen_erases_questions_by_typing(services: Services,
                                                    console: ConsoleChannel) -> None:
    await join(services, console, "o1", role=Role.OFFICER, hamlet=None)
    await console.send("c1", "nhà tôi bị ngập nước thì báo ai")
    await console.tap("c1", "Xóm Kim Tân")
    await console.send("c1", "xóa dữ liệu")
    await console.tap("c1", "Đồng ý xóa")
    dump = dump_database(Path(services.db.path))
    assert "ngập nước" not in dump and "'c1'" not in dump


async def test_cancel_keeps_everything(services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "v1")
    await console.send("v1", "/erase")
    await console.tap("v1", "Dừng lại")
    assert await services.repos.members.member("console", "v1") is not None


async def test_an_officer_exports_what_is_held_about_a_person(
        services: Services, console: ConsoleChannel) -> None:
    await join(services, console, "v1", name="Hoa")
    await _log_one_activation(console, "v1")
    held = await services.privacy.export("console", "v1")
    data = held["data"]
    assert data["members"][0]["display_name"] == "Hoa"
    assert len(data["activations"]) == 1 and data["audit_log"]
    json.dumps(held, default=str)  # what the command prints


def _bot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120, check=False)


async def test_backup_then_the_bot_runs_on_the_copy(
        services: Services, console: ConsoleChannel, settings: Settings, clock: FakeClock,
        tmp_path: Path) -> None:
    await join(services, console, "v1", name="Hoa")
    await _log_one_activation(console, "v1")
    env = {**os.environ, "BOT_DATABASE": services.db.path}
    copy = tmp_path / "backups" / "copy.sqlite3"
    done = _bot("backup", str(copy), env=env)
    assert done.returncode == 0, done.stderr
    assert "5 households" in done.stdout
    again = _bot("backup", str(copy), env=env)
    assert again.returncode == 2 and "exists" in again.stderr
    exported = _bot("export-person", "--channel", "console", "--user", "v1", env=env)
    assert json.loads(exported.stdout)["data"]["members"][0]["display_name"] == "Hoa"
    # Restore: the bot on the copy sees the records and carries on.
    async with open_services(settings, clock=clock, database_path=str(copy)) as restored:
        assert await restored.repos.count("activations") == 1
        from bot.app import build_router
        restored_console = ConsoleChannel(build_router(restored))
        restored_console._ids = iter(range(5000, 6000))  # noqa: SLF001 - new process's ids
        await _log_one_activation(restored_console, "v1")
        assert await restored.repos.count("activations") == 2
