"""The command line as a new user runs it: invite, import, digest, ask, run, bad config."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from tests.botapi_stub import BotApiStub

ROOT = Path(__file__).resolve().parent.parent


def bot(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


def test_invite_prints_the_code_alone_on_the_last_line(env: dict[str, str]) -> None:
    done = bot("invite", "--role", "volunteer", "--hamlet", "X03", env=env)
    assert done.returncode == 0, done.stderr
    code = done.stdout.strip().splitlines()[-1]
    assert code.isalnum() and len(code) == 10
    wrong = bot("invite", "--role", "volunteer", "--hamlet", "NOPE", env=env)
    assert wrong.returncode == 2 and "NOPE" in wrong.stderr


def test_import_households_reports_rejected_rows_and_is_repeatable(
        env: dict[str, str], tmp_path: Path) -> None:
    csv_file = tmp_path / "ho.csv"
    csv_file.write_text("code;hamlet;head_name;members\nX01-001;X01;Nguyễn Văn An;4\n"
                        "X01-002;X99;Lê Thị Bình;3\nX01-003;X01;;2\n", encoding="utf-8-sig")
    first = bot("import-households", str(csv_file), env=env)
    assert first.returncode == 0, first.stderr
    assert "1" in first.stdout and "line 3" not in first.stdout
    assert "dòng 3" in first.stdout and "dòng 4" in first.stdout
    again = bot("import-households", str(csv_file), env=env)
    assert "0" in again.stdout.split(",")[0]  # nothing added twice


def test_demo_then_digest_writes_text_chart_and_workbook(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    demo = bot("demo", env=env, timeout=120)
    assert demo.returncode == 0, demo.stderr
    assert "Xóm Trung Thuận" in demo.stdout
    # The command the demo suggests last is run exactly as printed (same Python, from here).
    suggested = re.search(r"(\S+) -m bot digest --out out/", demo.stdout.splitlines()[-1])
    assert suggested is not None, demo.stdout.splitlines()[-1]
    assert Path(ROOT, suggested.group(1)).resolve() == Path(sys.executable).resolve()
    out = tmp_path / "out"
    digest = subprocess.run([suggested.group(1), "-m", "bot", "digest", "--out", str(out)],
                            cwd=ROOT, env=env, text=True, capture_output=True, timeout=120,
                            check=False)
    assert digest.returncode == 0, digest.stderr
    names = sorted(p.suffix for p in out.iterdir())
    assert names == [".png", ".txt", ".txt", ".xlsx"]
    # The short digest is printed; the detail (every hamlet) is written beside it.
    assert "Báo cáo tuần" in digest.stdout and len(digest.stdout.split("\n\n")[0]) < 900
    [detail] = out.glob("*-chi-tiet.txt")
    assert "12. Xóm" in detail.read_text(encoding="utf-8")
    assert (out / next(p.name for p in out.iterdir() if p.suffix == ".png")).read_bytes()[:4] \
        == b"\x89PNG"


def test_ask_prints_the_citizens_answer(env: dict[str, str]) -> None:
    done = bot("ask", "quen passcode vneid thi lam sao", env=env)
    assert done.returncode == 0 and "passcode" in done.stdout.lower()
    assert "1." in done.stdout


def test_bad_config_names_the_field(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[communes]]\ncode = "C"\nname = "X"\ntimezone = "Nowhere/City"\n'
                      '[[communes.hamlets]]\ncode = "A"\nname = "T"\nhouseholds = 5\n'
                      'eligible_citizens = 9\n', encoding="utf-8")
    done = bot("--config", str(config), "run", env=env)
    assert done.returncode == 2 and "timezone" in done.stderr and "Nowhere/City" in done.stderr


def test_every_command_meets_a_damaged_database_with_one_line(env: dict[str, str],
                                                             tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    env["BOT_DATABASE"] = str(damaged)
    out = tmp_path / "out"
    for command in (["invite", "--role", "officer"], ["digest", "--out", str(out)],
                    ["export-person", "--channel", "telegram", "--user", "1"]):
        done = bot(*command, env=env, timeout=30)
        assert done.returncode == 3, (command, done.stderr)
        assert "damaged" in done.stderr and "Traceback" not in done.stderr, command
    assert damaged.read_bytes().startswith(b"SQLite format 3")  # left as it was found


def test_run_without_token_explains(env: dict[str, str]) -> None:
    done = bot("run", env=env)
    assert done.returncode == 2 and "TELEGRAM_BOT_TOKEN" in done.stderr


def test_several_workers_need_postgresql_and_a_number(env: dict[str, str]) -> None:
    """BOT_WORKERS is checked before anything starts: a number, and PostgreSQL behind it."""
    with_token = {**env, "TELEGRAM_BOT_TOKEN": "123:abc"}
    on_sqlite = bot("run", env={**with_token, "BOT_WORKERS": "3"})
    not_a_number = bot("run", env={**with_token, "BOT_WORKERS": "three"})
    assert (on_sqlite.returncode, not_a_number.returncode) == (2, 2)
    assert "PostgreSQL" in on_sqlite.stderr and "Traceback" not in on_sqlite.stderr
    assert "BOT_WORKERS" in not_a_number.stderr and "Traceback" not in not_a_number.stderr


async def test_run_serves_a_bot_api_server(env: dict[str, str]) -> None:
    async with BotApiStub() as stub:
        invite = bot("invite", "--role", "volunteer", "--hamlet", "X01", env=env)
        code = invite.stdout.strip().splitlines()[-1]
        env = {**env, "TELEGRAM_BOT_TOKEN": stub.token, "TELEGRAM_BASE_URL": stub.base_url,
               "TELEGRAM_BASE_FILE_URL": stub.base_file_url}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            stub.push_text(42, f"/start {code}")
            await stub.wait_for(lambda s: any("Chào mừng" in (m.text or "")
                                              for m in s.sent_to(42)), timeout=30)
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=30)
