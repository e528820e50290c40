"""The country's administrative units from a CSV: a generated list of 3,300 communes with four
hamlets each is imported by the command line, re-imported without change, and then served: a
volunteer joins a hamlet of an imported commune, logs an activation, and its digest is built."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.app import build_reporting, build_router, open_services
from bot.channels.console import ConsoleChannel
from bot.config import load_settings
from bot.reports.periods import PeriodKind
from bot.reports.text import render_text
from bot.services import Services
from bot.services.places import IMPORTED_TIMEZONE, import_places, read_places_csv
from tests.conftest import ON_BOTH_ENGINES, FakeClock, join
from tests.test_cli import ROOT, bot
from tests.test_reports import RecordingSender

COMMUNES, HAMLETS = 3300, 4
HEADER = "Mã tỉnh,Tên tỉnh,Mã xã,Tên xã,Mã thôn,Tên thôn,Số hộ,Số dân đủ tuổi\n"


def country_csv(path: Path) -> Path:
    """The list of units as a province would export it: 34 provinces, 3,300 communes."""
    lines = [HEADER]
    for c in range(1, COMMUNES + 1):
        province = 1 + c % 34
        for h in range(1, HAMLETS + 1):
            lines.append(f"{province:02d},Tỉnh số {province},{c:05d},Xã Đồng Tâm {c},"
                         f"{c:05d}-{h:02d},Thôn Đông {h},{100 + h},{250 + h}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_the_country_is_imported_once_and_again_changes_nothing(env: dict[str, str],
                                                                tmp_path: Path) -> None:
    csv = country_csv(tmp_path / "don-vi-hanh-chinh.csv")
    started = time.perf_counter()
    first = bot("places", "import", str(csv), env=env, timeout=300)
    took = time.perf_counter() - started
    assert first.returncode == 0, first.stderr
    print(f"import of {COMMUNES:,} communes × {HAMLETS} hamlets: {took:.1f} s (whole command)")
    counts = [int(n) for n in re.findall(r"\d+", first.stdout.splitlines()[0])]
    assert counts == [COMMUNES, COMMUNES * HAMLETS, COMMUNES, COMMUNES * HAMLETS, 0]
    again = bot("places", "import", str(csv), env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    counts = [int(n) for n in re.findall(r"\d+", again.stdout.splitlines()[0])]
    assert counts == [COMMUNES, COMMUNES * HAMLETS, 0, 0, 0]
    # A volunteer is invited to a hamlet of an imported commune, as for a configured one.
    invite = bot("invite", "--role", "volunteer", "--hamlet", "01234-02", env=env)
    assert invite.returncode == 0, invite.stderr


def test_a_national_deployment_needs_no_commune_in_its_configuration(
        env: dict[str, str], tmp_path: Path) -> None:
    """config.toml keeps the deployment's settings only; the communes come from the list."""
    config = tmp_path / "national.toml"
    config.write_text('[bot]\ndefault_language = "vi"\n', encoding="utf-8")
    before = bot("--config", str(config), "invite", "--role", "officer", env=env)
    assert before.returncode == 2 and "places import" in before.stderr, before.stderr
    assert "Traceback" not in before.stderr
    imported = bot("--config", str(config), "places", "import",
                   str(country_csv(tmp_path / "units.csv")), env=env, timeout=300)
    assert imported.returncode == 0, imported.stderr
    invite = bot("--config", str(config), "invite", "--role", "volunteer", "--hamlet",
                 "03300-04", env=env)
    assert invite.returncode == 0 and "03300-04" in invite.stdout, invite.stderr


def test_bad_rows_are_listed_with_their_reason(env: dict[str, str], tmp_path: Path) -> None:
    csv = tmp_path / "units.csv"
    csv.write_text(HEADER + "01,Tỉnh A,00001,Xã A,00001-01,Thôn 1,120,300\n"
                   "01,Tỉnh A,00001,Xã A,00001-01,Thôn 1 lặp,120,300\n"
                   "01,Tỉnh A,00002,,00002-01,Thôn 1,120,300\n"
                   "01,Tỉnh A,00003,Xã C,00003 01,Thôn 1,120,300\n"
                   "01,Tỉnh A,00004,Xã D,00004-01,Thôn 1,không rõ,300\n", encoding="utf-8")
    done = bot("places", "import", str(csv), env=env)
    assert done.returncode == 0, done.stderr
    assert [line.split(":")[0].strip() for line in done.stdout.splitlines()[1:5]] == [
        "dòng 3", "dòng 4", "dòng 5", "dòng 6"], done.stdout
    missing = tmp_path / "missing.csv"
    missing.write_text("Mã xã,Tên xã\n00001,Xã A\n", encoding="utf-8")
    refused = bot("places", "import", str(missing), env=env)
    assert refused.returncode == 2 and "hamlet_code" in refused.stderr


@ON_BOTH_ENGINES
async def test_an_imported_commune_is_served_like_a_configured_one(
        database_target: str, clock: FakeClock, tmp_path: Path) -> None:
    settings = load_settings(ROOT / "config.toml")
    rows, missing = read_places_csv(country_csv(tmp_path / "units.csv").read_bytes())
    assert missing == []
    async with open_services(settings, clock=clock, database_path=database_target) as services:
        report = await import_places(services.db, rows)
        assert (report.communes, report.new_hamlets, report.rejected) == (
            COMMUNES, COMMUNES * HAMLETS, [])
    # A worker started after the import serves the imported communes beside the configured.
    async with open_services(settings, clock=clock, database_path=database_target) as services:
        assert len(services.settings.communes) == len(settings.communes) + COMMUNES
        commune, hamlet = services.settings.hamlet("01234-02") or (None, None)
        assert commune is not None and hamlet is not None
        assert (commune.name, hamlet.name, hamlet.households) == ("Xã Đồng Tâm 1234",
                                                                  "Thôn Đông 2", 102)
        added = await services.households.import_rows(
            [{"code": "01234-02-001", "hamlet": "01234-02", "head_name": "Nguyễn Thị Lan"}])
        assert added.added == 1
        console = ConsoleChannel(build_router(services))
        await join(services, console, "v1", hamlet="01234-02")
        for text in ("/activate", "01234-02-001", "1 1 c", "luu"):
            replies = await console.send("v1", text)
        assert "✅" in replies[0].text
        digest = await services.report_builds.build(PeriodKind.WEEK, ["01234"])
        [built] = digest.communes
        assert built.name == "Xã Đồng Tâm 1234" and len(built.hamlets) == HAMLETS
        [line] = [h for h in built.hamlets if h.code == "01234-02"]
        assert (line.name, line.households, line.activation.done) == ("Thôn Đông 2", 102, 1)
        assert "Xã Đồng Tâm 1234" in render_text(digest)


def units_csv(path: Path, *, households: int) -> Path:
    """One new commune of two hamlets; the first hamlet's household count as given."""
    path.write_text(HEADER + f"01,Tỉnh Mới,90001,Xã Tân Lập,90001-01,Thôn Bắc,{households},300\n"
                    "01,Tỉnh Mới,90001,Xã Tân Lập,90001-02,Thôn Nam,30,80\n", encoding="utf-8")
    return path


@ON_BOTH_ENGINES
async def test_a_running_worker_follows_imports_made_by_another_process(
        services: Services, console: ConsoleChannel, clock: FakeClock, database_target: str,
        tmp_path: Path) -> None:
    """The worker's services were opened before any import; the import (and the invites)
    run as their own commands. The worker's next update serves the new commune, and its next
    scheduled digest counts a hamlet's household figure as re-imported meanwhile."""
    env = {**os.environ, "BOT_DATABASE": database_target}
    imported = bot("places", "import", str(units_csv(tmp_path / "a.csv", households=40)),
                   env=env)
    assert imported.returncode == 0, imported.stderr
    codes = [bot("invite", *args, env=env).stdout.split()[-1]
             for args in (("--role", "volunteer", "--hamlet", "90001-01"),
                          ("--role", "officer", "--commune", "90001"))]
    welcome = await console.send("v9", f"/start {codes[0]}", name="Hằng")
    assert "Thôn Bắc" in welcome[0].text, welcome[0].text
    welcome = await console.send("o9", f"/start {codes[1]}", name="Tâm")
    assert "Xã Tân Lập" in welcome[0].text, welcome[0].text

    sender = RecordingSender()
    reporting = build_reporting(services, {"console": sender})
    clock.now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # Friday 15:00 in Vietnam
    await reporting.scheduler.run("digest-week", zone=IMPORTED_TIMEZONE)
    again = bot("places", "import", str(units_csv(tmp_path / "b.csv", households=55)), env=env)
    assert again.returncode == 0, again.stderr
    clock.advance(days=7)
    await reporting.scheduler.run("digest-week", zone=IMPORTED_TIMEZONE)
    first, second = (report[0].text or "" for report in sender.to("o9"))
    # The commune's households: 40 + 30 in the first list, 55 + 30 in the second.
    assert "Xã Tân Lập" in first and "VNeID: 0/70" in first, first
    assert "VNeID: 0/85" in second, second
