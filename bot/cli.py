"""Command line: run the bot, the offline demo, invites and household import."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.app import DatabaseProblem, check_database, open_services, setup_logging
from bot.clock import system_clock
from bot.config import ConfigError, Secrets, Settings, load_settings
from bot.errors import Refusal
from bot.i18n import _, fmt_date, use_language
from bot.models import Role
from bot.reports.periods import PeriodKind
from bot.services.households import read_csv
from storage.engine import is_postgres

TOKEN_REFUSED = ("error: Telegram refused the bot token (TELEGRAM_BOT_TOKEN). Check it with "
                 "@BotFather and start again.")
EXIT_DATABASE = 3  # the database file is damaged, locked by another program, or unwritable
ROLE_NAMES = {Role.VOLUNTEER: lambda: _("a hamlet volunteer"),
              Role.OFFICER: lambda: _("a commune officer"),
              Role.PROVINCE: lambda: _("a province officer")}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", default="config.toml", help="configuration file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="serve every channel whose credentials are in the environment "
                   "(Telegram, Zalo Bot Platform, Zalo OA)")
    sub.add_parser("migrate", help="apply the database's pending migrations (SQLite or "
                   "PostgreSQL, from BOT_DATABASE) and print its schema version")
    demo = sub.add_parser("demo", help="offline demo: no token; (re)builds a demo database")
    demo.add_argument("--lang", choices=("vi", "en"), default="vi")
    demo.add_argument("--database", help="demo database file (default: the configured one, "
                      "which must hold demo data only)")
    invite = sub.add_parser("invite", help="print a one-time invite code (last line)")
    invite.add_argument("--role", choices=[r.value for r in Role], required=True,
                        help="volunteer (needs --hamlet), officer, or province")
    invite.add_argument("--hamlet", help="hamlet code (required for volunteers)")
    invite.add_argument("--commune", help="commune code (officers, when there are several)")
    places = sub.add_parser("places", help="the country's administrative units")
    places_sub = places.add_subparsers(dest="places_command", required=True)
    places_import = places_sub.add_parser(
        "import", help="import communes and hamlets from a CSV (province, commune, hamlet "
        "codes and names, households, eligible_citizens); repeatable")
    places_import.add_argument("file", type=Path)
    households = sub.add_parser("import-households", help="import a household CSV")
    households.add_argument("file", type=Path)
    backup = sub.add_parser("backup", help="copy the database to a file while the bot runs "
                            "(SQLite: a database file; PostgreSQL: a pg_dump custom-format file)")
    backup.add_argument("destination", type=Path)
    export = sub.add_parser("export-person", help="print (JSON) everything held about one "
                            "chat account, for a request under Decree 13/2023")
    export.add_argument("--channel", default="telegram")
    export.add_argument("--user", required=True, help="the account's id on that channel")
    ask = sub.add_parser("ask", help="print the answer a citizen would get")
    ask.add_argument("question")
    ask.add_argument("--lang", choices=("vi", "en"),
                     help="answer in this language (default: the language of the question)")
    digest = sub.add_parser("digest", help="write a digest (text, chart, workbook); sends nothing")
    digest.add_argument("--commune", action="append", help="commune code (repeatable; "
                        "default: every commune)")
    digest.add_argument("--period", choices=[k.value for k in PeriodKind], default="week")
    digest.add_argument("--previous", action="store_true",
                        help="the period before the current one (a finished month, say)")
    digest.add_argument("--lang", choices=("vi", "en"))
    digest.add_argument("--out", type=Path, required=True, help="folder to write into")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bot`."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        return _command(settings, args)
    except ConfigError as exc:  # e.g. no commune in the configuration nor imported
        print(exc, file=sys.stderr)
        return 2
    except DatabaseProblem as exc:
        # Every command meets a damaged, locked or full database the same way: one line, no trace.
        print(exc, file=sys.stderr)
        return EXIT_DATABASE


def _command(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "run":
        return _run(settings, args)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "demo":
        from bot.demo import RealDataError, run_demo

        try:
            asyncio.run(run_demo(settings, database=args.database, language=args.lang))
        except RealDataError as exc:
            print(f"error: {exc} holds real records; the demo will not touch it. "
                  "Choose another file with --database.", file=sys.stderr)
            return 2
        return 0
    if args.command == "invite":
        return asyncio.run(_invite(settings, args))
    if args.command == "places":
        return asyncio.run(_import_places(settings, args.file))
    if args.command == "import-households":
        return asyncio.run(_import(settings, args.file))
    if args.command == "digest":
        return asyncio.run(_digest(settings, args))
    if args.command == "backup":
        return asyncio.run(_backup(settings, args.destination))
    if args.command == "export-person":
        return asyncio.run(_export_person(settings, args.channel, args.user))
    if args.command == "ask":
        return _ask(settings, args.question, args.lang)
    return 2


async def _migrate(settings: Settings) -> int:
    from storage.engine import open_database

    # Opening migrates (under a lock on PostgreSQL, so workers starting together wait).
    async with open_database(settings.database_path) as db:
        print(f"{db.engine}: schema version {await db.schema_version()}")
    return 0


def _ask(settings: Settings, question: str, language: str | None) -> int:
    from bot.helpdesk.service import HelpdeskService
    from bot.live_settings import LiveSettings
    from handlers.citizen import render_answer
    from storage.engine import open_database
    from storage.repositories import Repositories

    # Answering needs the knowledge base only; the database is never opened. Without --lang the
    # answer is in the question's language, as a citizen who never chose one gets in the chat.
    service = HelpdeskService(Repositories(open_database(":memory:")), LiveSettings(settings),
                              system_clock)
    print(render_answer(service, question, language))
    return 0


async def _digest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.reports.jobs import digest_files
    from bot.reports.text import render_detail

    language = args.lang or settings.bot.default_language
    async with open_services(settings) as services:
        try:
            digest = await services.digests.build(PeriodKind(args.period), args.commune,
                                                  previous=args.previous)
        except KeyError:
            known = ", ".join(c.code for c in services.settings.communes)
            print(f"error: unknown commune {args.commune}; known: {known}", file=sys.stderr)
            return 2
        with use_language(language):
            files = digest_files(digest)
            detail = render_detail(digest)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = files.filename.removesuffix(".xlsx")
    written = [(args.out / f"{stem}.txt", files.text.encode("utf-8")),
               (args.out / f"{stem}-chi-tiet.txt", detail.encode("utf-8")),
               (args.out / f"{stem}.png", files.chart),
               (args.out / files.filename, files.workbook)]
    for path, content in written:
        path.write_bytes(content)
    print(files.text)
    print()
    for path, content in written:
        print(f"wrote {path} ({len(content):,} bytes)")
    return 0


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import serve

    try:
        secrets = Secrets.from_env()
    except ValidationError:
        print("error: BOT_WORKERS must be the number of worker processes, 1 to 64, and "
              "TELEGRAM_MESSAGES_PER_SECOND a number from 1 to 1000.", file=sys.stderr)
        return 2
    setup_logging(secrets=secrets.hidden_values())
    if secrets.workers > 1 and not is_postgres(settings.database_path):
        print("error: several workers (BOT_WORKERS) need a PostgreSQL database in "
              "BOT_DATABASE; SQLite serves one process.", file=sys.stderr)
        return 2
    if not (secrets.telegram_token or secrets.zalo_bot_token or secrets.zalo_oa_ready):
        print("No channel is configured: set TELEGRAM_BOT_TOKEN, ZALO_BOT_TOKEN or the "
              "ZALO_OA_* variables. For a try without a token: python -m bot demo",
              file=sys.stderr)
        return 2
    # A damaged or locked database stops the bot here, with a message, before it connects.
    problem = asyncio.run(check_database(settings))
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_DATABASE
    from telegram.error import InvalidToken

    from bot.channels.telegram import check_token

    if secrets.telegram_token is not None and not asyncio.run(check_token(secrets)):
        print(TOKEN_REFUSED, file=sys.stderr)
        return 2
    try:
        return asyncio.run(serve(settings, secrets))
    except InvalidToken:
        # The library's message holds the token itself: say what to do instead.
        print(TOKEN_REFUSED, file=sys.stderr)
        return 2
    except DatabaseProblem as exc:
        print(exc, file=sys.stderr)
        return EXIT_DATABASE


async def _backup(settings: Settings, destination: Path) -> int:
    from storage.backup import dump_postgres
    from storage.db import Database as SqliteDatabase

    if destination.exists():
        print(f"error: {destination} exists; choose a new file name", file=sys.stderr)
        return 2
    try:
        async with open_services(settings) as services:
            if isinstance(services.db, SqliteDatabase):
                await services.db.backup(destination)
                restore = "stop the bot, put this file at the database path"
            else:
                dump_postgres(services.db.target, destination)
                # The URL is not printed: it may hold a password.
                restore = (f'stop the workers, then pg_restore --no-owner --dbname '
                           f'"$BOT_DATABASE" {destination} (into an empty database)')
            households = await services.repos.count("households")
            members = await services.repos.count("members")
    except DatabaseProblem as exc:
        print(exc, file=sys.stderr)
        return EXIT_DATABASE
    print(f"wrote {destination} ({destination.stat().st_size:,} bytes: {households} households, "
          f"{members} members). Restore: {restore}.")
    return 0


async def _export_person(settings: Settings, channel: str, user: str) -> int:
    async with open_services(settings) as services:
        held = await services.privacy.export(channel, user)
    print(json.dumps(held, ensure_ascii=False, indent=2, default=str))
    return 0


async def _invite(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as services:
        settings = services.settings  # with the communes imported from the list of units
        with use_language(settings.bot.default_language):
            try:
                invite = await services.members.create_invite(
                    Role(args.role), hamlet_code=args.hamlet, commune_code=args.commune)
            except Refusal as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            except KeyError:
                known = ", ".join(c.code for c in settings.communes)
                print(f"error: unknown commune {args.commune!r}; known: {known}", file=sys.stderr)
                return 2
            tz = (settings.commune(invite.commune_code).tz if invite.commune_code
                  else settings.communes[0].tz)
            print(_("One-time invite for {role} ({place}); it expires on {date}.").format(
                role=ROLE_NAMES[invite.role](), place=invite.hamlet_code or invite.commune_code
                or _("every commune"), date=fmt_date(invite.expires_at.astimezone(tz))))
            print(_("The person opens the bot and sends: /start {code}").format(code=invite.code))
            print(invite.code)
    return 0


async def _import_places(settings: Settings, path: Path) -> int:
    from bot.services.places import COLUMNS, import_places, read_places_csv
    from storage.engine import open_database

    try:
        rows, missing = read_places_csv(path.read_bytes())
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    if missing:
        print(f"error: {path} lacks the column(s): {', '.join(missing)} (expected: "
              f"{', '.join(COLUMNS)})", file=sys.stderr)
        return 2
    async with open_database(settings.database_path) as db:  # opening migrates
        report = await import_places(db, rows)
    with use_language(settings.bot.default_language):
        print(_("{communes} communes and {hamlets} hamlets in the list: {new_communes} new "
                "communes, {new_hamlets} new hamlets, rejected {rejected}.").format(
                    communes=report.communes, hamlets=report.hamlets,
                    new_communes=report.new_communes, new_hamlets=report.new_hamlets,
                    rejected=len(report.rejected)))
        for row in report.rejected:
            print(_("  line {line}: {reason}").format(line=row.line, reason=row.reason))
    return 1 if report.rejected and not report.hamlets else 0


async def _import(settings: Settings, path: Path) -> int:
    from tqdm import tqdm

    try:
        rows, missing = read_csv(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    if missing:
        print(f"error: {path} lacks the column(s): {', '.join(missing)}", file=sys.stderr)
        return 2
    async with open_services(settings) as services:
        with use_language(settings.bot.default_language), tqdm(
                total=len(rows), unit=" rows", desc=path.name) as bar:
            report = await services.households.import_rows(rows, progress=bar.update)
        with use_language(settings.bot.default_language):
            print(_("Added {added}, updated {updated}, unchanged {unchanged}, "
                    "rejected {rejected}.").format(added=report.added, updated=report.updated,
                                                    unchanged=report.unchanged,
                                                    rejected=len(report.rejected)))
            for row in report.rejected:
                print(_("  line {line}: {reason}").format(line=row.line, reason=row.reason))
    return 1 if report.rejected and not (report.added or report.updated or report.unchanged) \
        else 0
