"""load_overhead: slagate's load rate ÷ bare Locust's, same locustfile, target, users and duration.

Both run the repository's FastHttpUser locustfile against a local nginx that answers a fixed 200 (so
the generator, not the target, is the bottleneck), interleaved A B A B in one run. The harness records
its per-request µs histograms in place of Locust's own statistics, groups errors and samples its health;
the ratio is what that costs or saves.

    .venv/bin/python benchmarks/load_overhead.py [--rounds 3] [--duration 10] [--users 20]
"""

import argparse
import tempfile
from pathlib import Path

from loadbench import bare_locust_rate, harness_rate, nginx


def main() -> None:
    """Run the interleaved rounds and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    harness, bare = [], []
    print(f"{'round':>5} {'bare Locust req/s':>18} {'slagate req/s':>14} {'ratio':>6}")
    with nginx() as target, tempfile.TemporaryDirectory(prefix="slagate-bench-overhead-") as temporary:
        work = Path(temporary)
        for round_number in range(1, args.rounds + 1):
            bare.append(bare_locust_rate(args.users, args.duration, target.url, work / f"bare-{round_number}"))
            lines = f'users = {args.users}\nspawn_rate = {args.users}\nwarmup = "1s"'
            harness.append(harness_rate(lines, args.duration, target.url, work / f"harness-{round_number}"))
            print(f"{round_number:>5} {bare[-1]:>18.0f} {harness[-1]:>14.0f} {harness[-1] / bare[-1]:>6.3f}")
    ratio = sum(harness) / sum(bare)
    print(f"{'all':>5} {sum(bare) / len(bare):>18.0f} {sum(harness) / len(harness):>14.0f} {ratio:>6.3f}")
    print(f"load_overhead: {ratio:.2f}")


if __name__ == "__main__":
    main()
