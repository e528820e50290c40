"""PostgreSQL's backup: pg_dump (SQLite's online backup is Database.backup in storage/db.py)."""

from __future__ import annotations

import glob
import shutil
import subprocess
from pathlib import Path


def pg_dump_program() -> str:
    """pg_dump on the PATH, or the newest one Debian's postgresql packages installed."""
    found = shutil.which("pg_dump") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True)), None)
    if found is None:
        raise FileNotFoundError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    return found


def dump_postgres(url: str, dest: Path) -> None:
    """A consistent snapshot of the database at `url`, taken while the bot keeps running, in
    pg_dump's custom format (compressed; pg_restore can bring back a single table)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([pg_dump_program(), "--format=custom", "--no-owner", "--file", str(dest),
                    "--dbname", url], check=True)
