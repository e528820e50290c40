"""Province digest build and render time, memory and peak RSS as the records grow.

1,000 hamlets in 70 communes, 200,000 households, then 100k, 300k and 1M visits over a year
(and a third as many activation entries, one record in fifty voided), with no ANALYZE
statistics, as a real database would be. At each size, two fresh processes open the same
database: one times the build and the rendering (text, chart, workbook) with nothing traced,
then a volunteer's /me sent while a province officer's /digest is built and drawn (both through
the router), and reports its peak RSS; the other traces Python's memory peaks (tracemalloc
slows allocation, so its times are not used).
Run: python -m benchmarks.digest_scale [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import measured, write
from bot.app import open_services
from bot.config import Settings
from bot.i18n import use_language
from bot.messages import Incoming, Kind
from bot.models import Role
from bot.reports.digest import Digest
from bot.reports.periods import PeriodKind
from bot.services import Services
from handlers.router import Router

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # a Friday, 15:00 in Vietnam
TOPICS = ("install", "activate", "level2", "portal", "dossier", "payment", "scams", "documents")
SIZES = (100_000, 300_000, 1_000_000)


def province(hamlets: int, communes: int) -> Settings:
    """A province configuration with the hamlets spread over the communes."""
    per = hamlets // communes
    return Settings.model_validate({
        "province": {"name": "Tỉnh Thử Nghiệm"},
        "communes": [{
            "code": f"C{c:03d}", "name": f"Xã Số {c}",
            "hamlets": [{"code": f"C{c:03d}H{h:03d}", "name": f"Thôn {h}",
                         "households": 200, "eligible_citizens": 520,
                         "level2_baseline": 300, "activated_baseline": 250}
                        for h in range(per + (1 if c < hamlets % communes else 0))],
        } for c in range(communes)],
    })


def seed(path: Path, settings: Settings, households_per_hamlet: int
         ) -> list[tuple[int, str, int]]:
    """Members and households written straight with sqlite3 (fast); returns
    (household id, hamlet, volunteer id) for each household."""
    rng = random.Random(1)
    conn = sqlite3.connect(path)
    at = (NOW - timedelta(days=400)).isoformat()
    members: list[tuple[Any, ...]] = []
    homes: list[tuple[Any, ...]] = []
    member_id = 0
    for commune in settings.communes:
        member_id += 1
        members.append((member_id, "bench", f"o{member_id}", "Cán bộ", "officer", commune.code,
                        None, "vi", at))
        for hamlet in commune.hamlets:
            member_id += 1
            members.append((member_id, "bench", f"v{member_id}", f"TNV {member_id}",
                            "volunteer", commune.code, hamlet.code, "vi", at))
            for n in range(households_per_hamlet):
                homes.append((f"{hamlet.code}-{n:04d}", hamlet.code, f"Hộ {n}", f"ho {n}",
                              rng.randint(1, 8), "import", at, member_id))
    conn.executemany("INSERT INTO members (id, channel, external_id, display_name, role,"
                     " commune_code, hamlet_code, language, joined_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", members)
    conn.executemany("INSERT INTO households (code, hamlet_code, head_name, head_name_folded,"
                     " members, source, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     homes)
    conn.commit()
    keys = [(int(row[0]), str(row[1]), int(row[2])) for row in conn.execute(
        "SELECT id, hamlet_code, created_by FROM households")]
    conn.close()
    return keys


def add_records(path: Path, keys: list[tuple[int, str, int]], visits: int,
                activations: int, rng: random.Random) -> None:
    """Visits and activations spread over the past year; one in fifty is voided."""
    conn = sqlite3.connect(path)

    def when() -> datetime:
        return NOW - timedelta(seconds=rng.randint(60, 365 * 86400))

    rows = []
    for _ in range(visits):
        household, hamlet, member = rng.choice(keys)
        follow = rng.random() < 0.1
        at = when()
        rows.append((household, member, hamlet, ",".join(rng.sample(TOPICS, 2)),
                     "follow_up" if follow else "done",
                     (at.date() + timedelta(days=rng.randint(1, 14))).isoformat()
                     if follow else None, at.isoformat(),
                     at.isoformat() if rng.random() < 0.02 else None))
    conn.executemany("INSERT INTO visits (household_id, member_id, hamlet_code, topics, outcome,"
                     " follow_up_on, recorded_at, voided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     rows)
    acts = []
    for _ in range(activations):
        household, hamlet, member = rng.choice(keys)
        at = when()
        acts.append((household, member, hamlet, rng.randint(0, 1), 1, rng.randint(0, 1),
                     at.isoformat(), at.isoformat() if rng.random() < 0.02 else None))
    conn.executemany("INSERT INTO activations (household_id, member_id, hamlet_code,"
                     " level2_registered, activated, household_capable, recorded_at, voided_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", acts)
    conn.commit()
    conn.close()


async def measure(path: Path, settings: Settings, trace: bool) -> dict[str, float]:
    """Build the province digest, then render its text, chart and workbook: each step timed
    (trace=False) or its Python memory peak traced (trace=True)."""
    from bot.reports.chart import render_chart
    from bot.reports.text import render_detail, render_text
    from bot.reports.workbook import render_workbook

    figures: dict[str, float] = {}
    key = "peak_mib" if trace else "s"
    async with open_services(settings, clock=lambda: NOW, database_path=str(path)) as services:
        cpu = time.process_time()
        with measured(trace) as build:
            digest = await services.digests.build(PeriodKind.WEEK)
        figures[f"build_{key}"] = build.peak_mib if trace else build.seconds
        # CPU seconds of the whole process (SQLite's thread included): less swayed than wall
        # time by other work on a shared machine.
        figures["build_cpu_s"] = time.process_time() - cpu
        with use_language("vi"):
            outputs: dict[str, Any] = {}
            render: Callable[[Digest], Any]
            for name, render in (("text", render_text), ("detail", render_detail),
                                 ("chart", render_chart), ("workbook", render_workbook)):
                # The first call imports its library (matplotlib, XlsxWriter) and loads fonts,
                # as the bot does once after a start; the second is every later digest.
                with measured(False) as first:
                    render(digest)
                figures[f"{name}_first_s"] = first.seconds
                cpu = time.process_time()
                with measured(trace) as step:
                    outputs[name] = render(digest)
                figures[f"{name}_{key}"] = step.peak_mib if trace else step.seconds
                figures[f"{name}_cpu_s"] = time.process_time() - cpu
        if not trace:
            figures.update(await me_during_digest(services))
    if trace:
        figures = {k: v for k, v in figures.items() if not k.endswith(("_cpu_s", "_first_s"))}
    else:
        figures["render_cpu_s"] = sum(figures[f"{name}_cpu_s"] for name in outputs)
        figures["render_s"] = sum(figures[f"{name}_s"] for name in outputs)
        figures["render_first_s"] = sum(figures[f"{name}_first_s"] for name in outputs)
        figures["short_text_chars"] = len(outputs["text"])
        figures["xlsx_bytes"] = len(outputs["workbook"])
        figures["png_bytes"] = len(outputs["chart"])
        # This process's high-water mark: SQLite's page cache included.
        figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


async def me_during_digest(services: Services) -> dict[str, float]:
    """A volunteer's /me sent while a province officer's /digest is being built and drawn,
    both through the router as updates from a channel go: seconds until each is answered."""
    router = Router(services)
    await services.repos.members.upsert_member(
        channel="bench", external_id="province", display_name="Sở Thông tin",
        role=Role.PROVINCE, commune_code=None, hamlet_code=None, language="vi", at=NOW)
    run = str(time.time_ns())  # each size measures on the same file: fresh update ids
    started = time.perf_counter()
    digest = asyncio.create_task(router.handle(Incoming(
        "bench", "province", "province", f"digest-{run}", Kind.TEXT, text="/digest")))
    await asyncio.sleep(0.05)  # the digest's update has committed and its build begun
    asked = time.perf_counter()
    me = await router.handle(Incoming("bench", "v2", "v2", f"me-{run}", Kind.TEXT,
                                      text="/me"))
    answered = time.perf_counter()
    still_drawing = not digest.done()
    drawn = await digest
    finished = time.perf_counter()
    if not me or len(drawn) < 3:
        raise RuntimeError(f"unexpected answers: /me {me!r}, /digest {len(drawn)} replies")
    return {"me_during_digest_s": answered - asked, "digest_answered_s": finished - started,
            "me_answered_while_digest_drawn": float(still_drawing)}


def child(args: argparse.Namespace) -> None:
    settings = province(args.hamlets, args.communes)
    figures = asyncio.run(measure(Path(args.child), settings, args.trace))
    print(json.dumps(figures))


def in_process(path: Path, args: argparse.Namespace, trace: bool) -> dict[str, float]:
    """Run one measurement in a fresh Python process and return its figures."""
    command = [sys.executable, "-m", "benchmarks.digest_scale", "--child", str(path),
               "--hamlets", str(args.hamlets), "--communes", str(args.communes)]
    # stderr is left to show: a child that fails says why.
    done = subprocess.run(command + (["--trace"] if trace else []), check=True,
                          stdout=subprocess.PIPE, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = province(args.hamlets, args.communes)
    rng = random.Random(7)
    sizes = [size // 10 for size in SIZES] if args.quick else list(SIZES)
    figures: dict[str, Any] = {"hamlets": args.hamlets, "communes": args.communes,
                               "households": args.households, "steps": [],
                               "note": "each size timed in its own process, memory traced "
                                       "in another; the machine was shared while measuring"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "province.sqlite3"

        async def create() -> None:
            async with open_services(settings, database_path=str(path)):
                pass  # the schema, its indexes and the places

        asyncio.run(create())
        keys = seed(path, settings, args.households // args.hamlets)
        done = 0
        for target in sizes:
            add_records(path, keys, target - done, (target - done) // 3, rng)
            done = target
            step = {"visits": target, **in_process(path, args, trace=False),
                    **in_process(path, args, trace=True)}
            figures["steps"].append(step)
            print(f"{target:>10,} visits: build {step['build_s']:.3f} s (CPU "
                  f"{step['build_cpu_s']:.3f} s), render "
                  f"{step['render_s']:.2f} s (CPU {step['render_cpu_s']:.2f} s; text "
                  f"{step['text_s']:.3f}, chart "
                  f"{step['chart_s']:.2f}, workbook {step['workbook_s']:.2f}; first after a "
                  f"start {step['render_first_s']:.2f} s); peak RSS "
                  f"{step['peak_rss_mib']:.0f} MiB; Python peaks build "
                  f"{step['build_peak_mib']:.1f} MiB, workbook {step['workbook_peak_mib']:.1f} "
                  f"MiB; /me during a /digest answered in {step['me_during_digest_s']:.3f} s "
                  f"(digest answered in {step['digest_answered_s']:.2f} s)", flush=True)
    first, last = figures["steps"][0], figures["steps"][-1]
    figures["visits_growth"] = last["visits"] / first["visits"]
    figures["build_growth"] = last["build_s"] / first["build_s"]
    figures["build_cpu_growth"] = last["build_cpu_s"] / first["build_cpu_s"]
    figures["render_growth"] = last["render_s"] / first["render_s"]
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hamlets", type=int, default=1000)
    parser.add_argument("--communes", type=int, default=70)
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="a tenth of the records")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    figures = run(args)
    print(f"visits grew {figures['visits_growth']:.0f}x: build time grew "
          f"{figures['build_growth']:.2f}x, render time {figures['render_growth']:.2f}x "
          f"(linear or better when at most the visits' growth)")
    print(f"written to {write('digest_scale', figures, args.out)}")


if __name__ == "__main__":
    main()
