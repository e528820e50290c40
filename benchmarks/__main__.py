"""Run every benchmark and write each one's figures under benchmarks/results/.

python -m benchmarks [--quick]   (--quick: smaller sizes, for a first look)
"""

from __future__ import annotations

import argparse
import asyncio

from benchmarks import bot_vs_echo, digest_scale, helpdesk_bench
from benchmarks.common import write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    print("== help desk vs BM25 and the previous matcher, held-out and development questions ==")
    helpdesk_bench.main([])

    print("\n== our bot vs a bare echo bot, same loopback Bot API server ==")
    users, rounds = (5, 2) if args.quick else (20, 5)
    figures = asyncio.run(bot_vs_echo.run(users, rounds))
    for name in ("echo", "echo_limited", "ours"):
        f = figures[name]
        print(f"{name:12} p50 {f['closed_loop']['p50_ms']:7.1f} ms  p95 "
              f"{f['closed_loop']['p95_ms']:7.1f} ms  {f['updates_per_s']:7.1f} updates/s  "
              f"peak {f['peak_mib']:.1f} MiB")
    print(f"written to {write('bot_vs_echo', figures)}")

    print("\n== digest for a province-size database ==")
    digest_scale.main(["--quick"] if args.quick else [])


if __name__ == "__main__":
    main()
