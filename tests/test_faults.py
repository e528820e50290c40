"""Fault injection on the real process: SIGKILL mid-flow, a damaged, locked or missing
database or config, a refused token. Each must end with a clear message, a clean exit code
and nothing lost or doubled."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.textnorm import contains_citizen_id
from tests.bot_run import ROOT, BotProcess, bot_env
from tests.botapi_stub import BotApiStub

USER = 5550001
KILLS = 6  # SIGKILLs in the mid-flow test (one per household logged)


def _run(env: dict[str, str], *args: str, timeout: float = 60
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


def _query(database: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return conn.execute(sql, params).fetchall()


def _clean_exit(done: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    assert "Traceback" not in output, output
    assert words in output, output


async def test_a_damaged_database_stops_the_bot_with_a_message(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_bytes(b"this is not a database" * 500)
    async with BotApiStub() as stub:
        done = await asyncio.to_thread(_run, bot_env(stub, database), "run")
    _clean_exit(done, 3, "damaged")
    assert database.read_bytes().startswith(b"this is not")  # nothing was overwritten


async def test_a_database_locked_by_another_writer_stops_the_bot_cleanly(
        tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    created = _run(bot_env(None, database), "invite", "--role", "officer")
    assert created.returncode == 0, created.stderr
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        async with BotApiStub() as stub:
            done = await asyncio.to_thread(_run, bot_env(stub, database), "run")
    finally:
        other.rollback()
        other.close()
    _clean_exit(done, 3, "locked")
    assert _query(database, "SELECT COUNT(*) FROM invites") == [(1,)]  # nothing lost


@pytest.mark.parametrize("kind", ["not utf-8", "a folder", "missing", "not toml"])
def test_a_broken_config_names_the_problem(tmp_path: Path, kind: str) -> None:
    config = tmp_path / "config.toml"
    if kind == "not utf-8":
        config.write_bytes("[bot]\ndefault_language = \"vi\"\n# Hưng Đông\n".encode("cp1258"))
    elif kind == "a folder":
        config.mkdir()
    elif kind == "not toml":
        config.write_text("[bot\n", encoding="utf-8")
    done = _run(bot_env(None, tmp_path / "bot.sqlite3"), "--config", str(config), "run")
    _clean_exit(done, 2, str(config))


async def test_a_refused_token_is_never_printed(tmp_path: Path) -> None:
    async with BotApiStub() as stub:
        secret_part = "RealLookingSecretPartOfTheToken0123456"
        env = bot_env(stub, tmp_path / "bot.sqlite3",
                      TELEGRAM_BOT_TOKEN=f"987654321:{secret_part}")
        done = await asyncio.to_thread(_run, env, "run")
    _clean_exit(done, 2, "TELEGRAM_BOT_TOKEN")
    assert secret_part not in done.stdout + done.stderr


async def _reply(stub: BotApiStub, bot: BotProcess, push: object, seen: int,
                 timeout: float = 8) -> bool:
    """Wait for the bot to answer after a push; False if it did not (the update was lost)."""
    try:
        await stub.wait_for(lambda s: len(s.sent_to(USER)) > seen, timeout=timeout)
    except (AssertionError, TimeoutError):
        return False
    return True


def _save_button(stub: BotApiStub) -> tuple[int, str] | None:
    for sent in reversed(stub.sent_to(USER)):
        current = stub.message(USER, sent.message_id) or {}
        for _text, data in stub.buttons(current):
            if data and data.startswith("act:confirm:"):
                return sent.message_id, data
    return None


async def test_sigkill_mid_flow_loses_and_doubles_nothing(tmp_path: Path) -> None:
    """KILLS times: a volunteer logs a household; the bot is SIGKILLed at a random moment of a
    random step; it restarts and the volunteer carries on from where the bot says they are."""
    database = tmp_path / "bot.sqlite3"
    rng = random.Random(7)
    households = [f"X01-{n:03d}" for n in range(1, KILLS + 1)]
    async with BotApiStub() as stub:
        env = bot_env(stub, database)
        csv_file = tmp_path / "ho.csv"
        names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung",
                 "Hoàng Văn Em", "Đỗ Thị Giang"]
        csv_file.write_text("code,hamlet,head_name,members\n" + "".join(
            f"{code},X01,{name},4\n" for code, name in zip(households, names, strict=True)),
            encoding="utf-8")
        assert _run(env, "import-households", str(csv_file)).returncode == 0
        code = _run(env, "invite", "--role", "volunteer", "--hamlet", "X01").stdout.split()[-1]
        bot = BotProcess(stub, env)
        await bot.start()
        seen = len(stub.sent_to(USER))
        stub.push_text(USER, f"/start {code}")
        assert await _reply(stub, bot, None, seen)
        kills = 0
        try:
            for household in households:
                kill_at = rng.randrange(4)  # which step's update the kill follows
                step = 0
                while not _query(database, "SELECT 1 FROM activations a JOIN households h ON"
                                 " h.id = a.household_id WHERE h.code = ?", household):
                    state = _query(database, "SELECT step FROM conversations WHERE"
                                   " external_id = ?", str(USER))
                    where = state[0][0] if state else None
                    seen = len(stub.sent_to(USER))
                    if where == "confirm" and (button := _save_button(stub)) is not None:
                        stub.push_callback(USER, button[1], message_id=button[0])
                    else:
                        stub.push_text(USER, {None: "/activate", "household": household,
                                              "counts": "1 1 c"}.get(where, "/activate"))
                    if step == kill_at and kills < KILLS and bot.process is not None:
                        await asyncio.sleep(rng.uniform(0.0, 0.15))
                        await bot.kill()
                        kills += 1
                        await bot.start()
                        # Unconfirmed updates are delivered again to the new process.
                        await stub.wait_for(lambda s: not s.pending_updates, timeout=20)
                        await asyncio.sleep(0.5)
                    else:
                        await _reply(stub, bot, None, seen)
                    step += 1
                    assert step < 40, f"{household}: no progress\n{stub.describe_calls()}"
        finally:
            await bot.stop()
    assert kills == KILLS
    counts = _query(database, "SELECT h.code, COUNT(a.id) FROM households h LEFT JOIN"
                    " activations a ON a.household_id = h.id GROUP BY h.code ORDER BY h.code")
    assert counts == [(h, 1) for h in households]  # none lost, none doubled
    audits = _query(database, "SELECT COUNT(*) FROM audit_log WHERE entity = 'activation'")
    assert audits == [(KILLS,)]
    assert not contains_citizen_id(bot.output) and stub.token.split(":")[1] not in bot.output
