"""Run every benchmark and write each one's figures under benchmarks/results/.

python -m benchmarks [--quick]   (--quick: smaller sizes, for a first look)
"""

from __future__ import annotations

import argparse

from benchmarks import bot_vs_echo, broadcast, digest_scale, helpdesk_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    print("== help desk vs BM25 and the previous matcher, held-out and development questions ==")
    helpdesk_bench.main([])
    print("\n== help desk, leave-one-round-out (rounds seen during development) ==")
    helpdesk_bench.main(["--cross-rounds"])

    print("\n== inbound: our bot vs a bare echo bot, each in its own process ==")
    bot_vs_echo.main(["--quick"] if args.quick else [])

    print("\n== the weekly digest to 1,000 officers at Telegram's limits ==")
    broadcast.main(["--quick"] if args.quick else [])

    print("\n== digest for a province-size database ==")
    digest_scale.main(["--quick"] if args.quick else [])


if __name__ == "__main__":
    main()
