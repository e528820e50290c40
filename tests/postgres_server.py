"""The PostgreSQL server tests run against: TEST_POSTGRES_URL (scripts/test.sh and .ci/run set
it), or, when unset, a throw-away cluster started with the same script for this test session."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "pg_cluster.sh"


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a reachable server; a missing or unreachable one fails, never skips."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        _check(url)
        yield url
        return
    folder = tempfile.mkdtemp(prefix="cnscd-pg-")
    try:
        url = subprocess.run([str(SCRIPT), "start", folder], check=True, capture_output=True,
                             text=True).stdout.strip()
        _check(url)
        yield url
    finally:
        subprocess.run([str(SCRIPT), "stop", folder], check=False)


def _check(url: str) -> None:
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as error:
        raise RuntimeError(f"TEST_POSTGRES_URL does not answer: {error}") from error


@contextlib.contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema; the schema is dropped afterwards."""
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
