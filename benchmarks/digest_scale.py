"""Digest build time and memory for a province-size database, and how time grows with visits.

1,000 hamlets in 70 communes, 200,000 households, up to 1,000,000 visits over a year.
Run: python -m benchmarks.digest_scale [--hamlets 1000] [--visits 1000000] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import measured, write
from bot.app import open_services
from bot.config import Settings
from bot.i18n import use_language
from bot.reports.jobs import digest_files
from bot.reports.periods import PeriodKind

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # a Friday, 15:00 in Vietnam
TOPICS = ("install", "activate", "level2", "portal", "dossier", "payment", "scams", "documents")


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


def seed(path: Path, settings: Settings, households_per_hamlet: int) -> list[tuple[int, str]]:
    """Members and households written straight with sqlite3 (fast); returns household keys."""
    rng = random.Random(1)
    conn = sqlite3.connect(path)
    at = (NOW - timedelta(days=400)).isoformat()
    members, homes = [], []
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
    keys = [(row[0], row[1], row[2]) for row in conn.execute(
        "SELECT id, hamlet_code, created_by FROM households")]
    conn.close()
    return keys


def add_records(path: Path, keys: list[tuple[int, str, int]], visits: int,
                activations: int, rng: random.Random) -> None:
    """Visits and activations spread over the past year."""
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
                     if follow else None, at.isoformat()))
    conn.executemany("INSERT INTO visits (household_id, member_id, hamlet_code, topics, outcome,"
                     " follow_up_on, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    acts = []
    for _ in range(activations):
        household, hamlet, member = rng.choice(keys)
        acts.append((household, member, hamlet, rng.randint(0, 1), 1, rng.randint(0, 1),
                     when().isoformat()))
    conn.executemany("INSERT INTO activations (household_id, member_id, hamlet_code,"
                     " level2_registered, activated, household_capable, recorded_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", acts)
    conn.commit()
    conn.close()


async def time_digest(path: Path, settings: Settings) -> dict[str, float]:
    """Build the province digest (figures, then text, chart and workbook): timed in one run,
    its memory peak traced in another."""
    figures: dict[str, float] = {}
    async with open_services(settings, clock=lambda: NOW, database_path=str(path)) as services:
        for trace, suffix in ((False, "s"), (True, "peak_mib")):
            with measured(trace) as build:
                digest = await services.digests.build(PeriodKind.WEEK)
            with measured(trace) as render, use_language("vi"):
                files = digest_files(digest)
            figures[f"build_{suffix}"] = build.peak_mib if trace else build.seconds
            figures[f"render_{suffix}"] = render.peak_mib if trace else render.seconds
    return {**figures, "text_chars": len(files.text), "xlsx_bytes": len(files.workbook),
            "png_bytes": len(files.chart)}


async def run(hamlets: int, communes: int, households: int, visits: int) -> dict[str, Any]:
    settings = province(hamlets, communes)
    rng = random.Random(7)
    steps = sorted({min(visits, v) for v in (100_000, 300_000, visits)})
    figures: dict[str, Any] = {"hamlets": hamlets, "communes": communes,
                               "households": households, "steps": []}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "province.sqlite3"
        async with open_services(settings, database_path=str(path)):
            pass  # creates the schema and the places
        keys = seed(path, settings, households // hamlets)
        done = 0
        for target in steps:
            add_records(path, keys, target - done, (target - done) // 3, rng)
            done = target
            step = {"visits": target, **await time_digest(path, settings)}
            figures["steps"].append(step)
            print(f"{target:>10,} visits: build {step['build_s']:.2f} s "
                  f"(peak {step['build_peak_mib']:.1f} MiB), render {step['render_s']:.2f} s "
                  f"(peak {step['render_peak_mib']:.1f} MiB)", flush=True)
    first, last = figures["steps"][0], figures["steps"][-1]
    growth = last["build_s"] / first["build_s"] if first["build_s"] else float("nan")
    figures["time_growth"] = growth
    # Process-wide high-water mark, SQLite's own memory included (tracemalloc sees Python only).
    figures["process_max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["visits_growth"] = last["visits"] / first["visits"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hamlets", type=int, default=1000)
    parser.add_argument("--communes", type=int, default=70)
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    figures = asyncio.run(run(args.hamlets, args.communes, args.households, args.visits))
    print(f"visits grew {figures['visits_growth']:.1f}x, build time grew "
          f"{figures['time_growth']:.2f}x (linear or better when ≤ visits growth)")
    print(f"written to {write('digest_scale', figures, args.out)}")


if __name__ == "__main__":
    main()
