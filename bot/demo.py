"""The offline demo: a demo commune, volunteers driven through the real flows, progress printed."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

from bot.app import build_router, open_services
from bot.channels.console import ConsoleChannel, render
from bot.config import Settings
from bot.i18n import _, fmt_int, fmt_percent, use_language
from bot.messages import Reply
from bot.models import Role
from bot.services import Services
from storage.engine import open_database
from storage.repositories import Repositories

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
# Middle and given names by gender, so "Thị" never stands before a man's name.
_MEN = (["Văn", "Đức", "Hữu", "Minh", "Quang", "Xuân"],
        ["Bình", "Cường", "Dũng", "Hải", "Hùng", "Lâm", "Long", "Nam", "Phúc", "Sơn", "Thắng",
         "Tuấn", "Vinh"])
_WOMEN = (["Thị", "Ngọc", "Thu", "Thanh"],
          ["An", "Giang", "Hà", "Hạnh", "Hoa", "Lan", "Linh", "Mai", "Nga", "Thảo", "Trang",
           "Yến"])
HOUSEHOLDS_PER_HAMLET = 40


def demo_households(settings: Settings, seed: int = 0) -> list[dict[str, str]]:
    """Household rows, as a commune's CSV would hold them, for every configured hamlet."""
    rng = random.Random(seed)
    rows = []
    for commune in settings.communes:
        for hamlet in commune.hamlets:
            for n in range(1, HOUSEHOLDS_PER_HAMLET + 1):
                middles, givens = _MEN if rng.random() < 0.5 else _WOMEN
                name = f"{rng.choice(_FAMILY)} {rng.choice(middles)} {rng.choice(givens)}"
                rows.append({"code": f"{hamlet.code}-{n:03d}", "hamlet": hamlet.code,
                             "head_name": name, "members": str(rng.randint(2, 7))})
    return rows


def python_command() -> str:
    """The Python that runs this demo, as the user can type it from here (e.g. .venv/bin/python):
    a bare "python" may lack the bot's dependencies outside the virtual environment."""
    relative = os.path.relpath(sys.executable)
    if relative.startswith(".."):
        return sys.executable
    return relative if os.sep in relative else os.path.join(".", relative)


class _Script:
    """Drives one person through the console channel, printing the exchange when asked."""

    def __init__(self, channel: ConsoleChannel, user: str, name: str, echo: bool) -> None:
        self.channel, self.user, self.name, self.echo = channel, user, name, echo

    def _show(self, said: str, replies: list[Reply]) -> list[Reply]:
        if self.echo:
            print(f"\n{self.name} ▸ {said}")
            shown = render([r for r in replies if r.text])
            if shown:
                print("  " + shown.replace("\n", "\n  "))
        return replies

    async def say(self, text: str) -> list[Reply]:
        return self._show(text, await self.channel.send(self.user, text, name=self.name))

    async def tap(self, label: str) -> list[Reply]:
        return self._show(f"[{label}]", await self.channel.tap(self.user, label))


async def _volunteer_week(services: Services, channel: ConsoleChannel, hamlet_code: str,
                          user: str, name: str, rng: random.Random, language: str) -> None:
    invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code=hamlet_code)
    person = _Script(channel, user, name, echo=False)
    await person.say(f"/start {invite.code}")
    if language != services.settings.bot.default_language:
        await person.say(f"/lang {language}")
    households = await services.repos.households.households_in([hamlet_code])
    for household in rng.sample(households, k=rng.randint(10, 24)):
        await person.tap(_("Log activation"))
        await person.say(household.code)
        await person.tap(_("{n} activated").format(n=1))
        await person.tap(_("Save"))
    for household in rng.sample(households, k=rng.randint(4, 10)):
        await person.say("/visit")
        await person.say(household.code)
        await person.say("1 2")
        await person.tap(_("Done, all guided"))


class RealDataError(Exception):
    """The demo was pointed at a database that holds real records."""


async def _reset_demo_database(path: Path) -> None:
    """Delete a previous demo database; refuse to touch one that holds real records."""
    if not path.exists():
        return
    async with open_database(str(path)) as db:
        real = await Repositories(db).real_record_count()
    if real:
        raise RealDataError(str(path))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def run_demo(settings: Settings, *, database: str | None = None, language: str = "vi",
                   seed: int = 0) -> Path:
    """Build the demo commune in the configured database (a demo-only one), drive volunteers
    through the real flows and print progress; returns the database path."""
    path = Path(database or settings.database_path)
    await _reset_demo_database(path)
    async with open_services(settings, database_path=str(path)) as services:
        with use_language(language):
            await _demo(services, language, seed)
            command = f"{python_command()} -m bot digest --out out/"
            if Path(settings.database_path).resolve() != path.resolve():
                command = f"BOT_DATABASE={path} {command}"  # digest reads the configured file
            print("\n" + _("The demo data stays in {path}. Next: {command} writes this week's "
                           "report, chart and Excel file.").format(path=path, command=command))
    return path


async def _demo(services: Services, language: str, seed: int) -> None:
    settings = services.settings
    rng = random.Random(seed)
    report = await services.households.import_rows(demo_households(settings, seed), source="demo")
    commune = settings.communes[0]
    print(_("Demo commune: {commune} — {n} hamlets, {households} households imported.").format(
        commune=commune.name, n=len(commune.hamlets), households=fmt_int(report.added)))
    channel = ConsoleChannel(build_router(services))

    # One volunteer's conversation is shown in full, typed the way people type.
    first = commune.hamlets[0]
    lan = _Script(channel, "demo-lan", "Lan", echo=True)
    invite = await services.members.create_invite(Role.VOLUNTEER, hamlet_code=first.code)
    await lan.say(f"/start {invite.code}")
    if language != settings.bot.default_language:
        await lan.say(f"/lang {language}")
    households = await services.repos.households.households_in([first.code])
    target = households[0]
    given = target.head_name.split()[-1]
    await lan.tap(_("Log activation"))
    await lan.say(given.lower())  # part of the name, any case
    if not any(o for r in channel.last.get("demo-lan", []) for o in r.option_values()
               if o.startswith("act:counts")):
        await lan.say(target.code)
    await lan.say("-2 1 c")  # an impossible number is refused with the reason
    await lan.say("2 1 c")
    await lan.tap(_("Save"))
    await lan.say("/visit")
    await lan.say(households[1].code)
    await lan.say("1 3")
    await lan.tap(_("Follow up later"))
    await lan.tap(_("In 3 days"))
    await lan.say("/me")

    # Several volunteers log a week of work in other hamlets, quietly.
    for index, hamlet in enumerate(commune.hamlets[1:], start=2):
        if rng.random() < 0.85:
            await _volunteer_week(services, channel, hamlet.code, f"demo-{index}",
                                  f"TNV {index}", rng, language)

    print("\n" + _("Progress per hamlet:"))
    print_progress_table(await services.progress.hamlets(commune))


def print_progress_table(rows: list) -> None:
    """A plain-text table of hamlet progress for terminals."""
    header = (_("Hamlet"), _("Households able"), _("Level 2"), _("Activated"), _("Visits/wk"))
    lines = [header]
    for p in rows:
        m = p.measures
        lines.append((p.hamlet.name,
                       *(f"{fmt_int(i.done)}/{fmt_int(i.whole)} ({fmt_percent(i.share)})"
                         for i in (m.capable, m.level2, m.activation)),
                       fmt_int(p.visits_this_week)))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))
