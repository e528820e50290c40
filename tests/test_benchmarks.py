"""The benchmarks run end to end (tiny sizes): separate processes, figures that add up."""

from __future__ import annotations

from benchmarks import bot_vs_echo, broadcast


async def test_inbound_benchmark_runs_both_bots_in_their_own_processes() -> None:
    figures = await bot_vs_echo.run([2], 1.0, rtt_users=None, limiter_modes=(False,))
    echo, ours = figures["no_limiter"]["echo"]["2"], figures["no_limiter"]["ours"]["2"]
    for program in (echo, ours, figures["no_limiter"]["echo_aiohttp"]["2"]):
        assert program["updates"] > 0 and program["p95_ms"] >= program["p50_ms"] > 0
        assert program["cpu_ms_per_update"] > 0 and program["peak_rss_mib"] > 20
    # Our users really go through the activation flow, picking it up where they left it
    # when the programs take turns: one record saved for every four updates.
    assert ours["records_saved"] > 0
    # Each turn may start and end inside a round: at most one round off per user and turn.
    assert abs(ours["records_saved"] * 4 - ours["updates"]) < 4 * 2 * 2
    assert "| no limiter | 2 |" in bot_vs_echo.table(figures)
    assert "The echo bot on our HTTP client" in bot_vs_echo.table(figures)


async def test_broadcast_benchmark_counts_every_message_once() -> None:
    figures = await broadcast.run(12, latency=0.02)
    assert figures["messages"] == 36
    assert (figures["lost"], figures["doubled"], figures["rejected_429"]) == (0, 0, 0)
    assert figures["most_in_one_second"] <= 30 and figures["seconds"] > 0
