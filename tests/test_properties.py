"""Property-based tests (hypothesis): whatever people send, at any step of any flow, the bot
answers with a next step, never fails, and the database stays sound.

Deterministic for CI (derandomize=True); example counts are set per test below.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.console import ConsoleChannel
from bot.models import Role
from bot.services import Services
from bot.textnorm import contains_citizen_id
from tests.conftest import dump_database, join

EXAMPLES = 25  # sequences per flow start; each sequence sends up to 6 inputs
STARTS = ["/activate", "/visit", "/fix", "/questions", "/office", "/invite", "/xoadulieu",
          "/phananh", "quên mật khẩu vneid", "cho tôi gặp cán bộ"]
USERS = {"vol": Role.VOLUNTEER, "off": Role.OFFICER, "cit": None}
ODD = ["²", "①", "٣", "\u200b", "\u202e", "\u200f", "\x00", "\x1b[31m", "\ufeff", "🙂",
       "001 203 004 567", "0\u200b01203004567", "X01-001", "1 1 c", "luu", "xong", "1 3"]

texts = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    st.lists(st.sampled_from(ODD), min_size=1, max_size=4).map(" ".join),
    st.integers(1, 10_000).map(lambda n: "9" * n if n % 2 else "a" * n),
    st.sampled_from(["/start", "/cancel", "/menu", "/me", "/digest", "/lang en", "/lang vi"]),
)
forged = st.builds(lambda a, b, c: f"{a}:{b}:{c}",
                   st.sampled_from(["act", "vis", "fix", "ans", "cit", "off", "inv", "del", "pa",
                                    "nav", ""]),
                   st.sampled_from(["household", "pick", "counts", "confirm", "topics", "rate",
                                    "go", "hamlet", "commune", "date", "yes", ""]),
                   st.text(max_size=12))
inputs = st.lists(st.one_of(texts.map(lambda t: ("text", t)), forged.map(lambda v: ("opt", v)),
                            st.integers(0, 20).map(lambda i: ("tap", i)),
                            st.just(("sticker", ""))), min_size=1, max_size=6)


async def _invariants(services: Services) -> None:
    db = services.db
    assert await db.fetchall("PRAGMA foreign_key_check") == []  # no orphans
    for table, column in (("activations", "level2_registered"), ("activations", "activated"),
                          ("households", "members"), ("office_figures", "done")):
        row = await db.fetchone(f"SELECT COUNT(*) FROM {table} WHERE {column} < 0")
        assert row is not None and row[0] == 0, f"negative {table}.{column}"
    for entity, table in (("activation", "activations"), ("visit", "visits"),
                          ("household", "households")):
        row = await db.fetchone(
            f"SELECT COUNT(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM audit_log a"
            f" WHERE a.entity = ? AND a.entity_id = CAST(t.id AS TEXT))"
            + (" AND t.source = 'chat'" if table == "households" else ""), (entity,))
        assert row is not None and row[0] == 0, f"a change to {table} is not in the audit trail"
    assert not contains_citizen_id(dump_database(Path(db.path))), "an ID number was stored"


@pytest.mark.parametrize("start", STARTS)
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(sequence=inputs)
async def test_any_input_at_any_step_gets_a_next_step(
        services: Services, console: ConsoleChannel, caplog: pytest.LogCaptureFixture,
        start: str, sequence: list[tuple[str, object]]) -> None:
    if await services.repos.members.member("console", "vol") is None:
        await join(services, console, "vol")
        await join(services, console, "off", role=Role.OFFICER, hamlet=None)
    user = "cit" if start in ("quên mật khẩu vneid", "cho tôi gặp cán bộ", "/phananh") \
        else "off" if start in ("/office", "/invite") else "vol"
    await console.send(user, "/cancel")
    await console.send(user, start)
    for kind, value in sequence:
        if kind == "tap":
            offered = [o.value for r in console.last.get(user, []) for o in
                       (o for row in r.options for o in row)]
            if not offered:
                continue
            replies = await console.send(user, option=offered[int(str(value)) % len(offered)])
        elif kind == "opt":
            replies = await console.send(user, option=str(value))
        elif kind == "sticker":
            replies = await console.send(user, other=True)
        else:
            replies = await console.send(user, str(value))
        assert replies and any(r.text or r.image or r.document for r in replies), \
            f"no next step after {kind} {str(value)[:40]!r}"
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, failures[0].getMessage()
    await _invariants(services)
