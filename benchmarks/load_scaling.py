"""load_scaling: slagate's load rate with workers = 2 ÷ workers = 1, same users, target and duration.

workers = 1 runs the users in one process; workers = 2 runs a Locust master and two worker processes.
Both hit a local nginx answering a fixed 200, interleaved A B A B. On a 2-core machine nginx shares
the cores with the generator, so the table also shows the CPU the target itself consumed.

    .venv/bin/python benchmarks/load_scaling.py [--rounds 3] [--duration 10] [--users 40]
"""

import argparse
import tempfile
from pathlib import Path

from loadbench import harness_rate, nginx


def main() -> None:
    """Run the interleaved rounds and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=40)
    args = parser.parse_args()
    rates: dict[int, list[float]] = {1: [], 2: []}
    print(f"{'round':>5} {'workers':>7} {'req/s':>8} {'nginx CPU % of a core':>22}")
    with nginx() as target, tempfile.TemporaryDirectory(prefix="slagate-bench-scaling-") as temporary:
        work = Path(temporary)
        for round_number in range(1, args.rounds + 1):
            for workers in (1, 2):
                lines = f'users = {args.users}\nspawn_rate = {args.users}\nwarmup = "1s"\nworkers = {workers}'
                before = target.cpu_seconds()
                rate = harness_rate(lines, args.duration, target.url, work / f"{round_number}-{workers}")
                target_cpu = (target.cpu_seconds() - before) / args.duration * 100
                rates[workers].append(rate)
                print(f"{round_number:>5} {workers:>7} {rate:>8.0f} {target_cpu:>22.0f}")
    ratio = sum(rates[2]) / sum(rates[1])
    print(f"mean req/s: workers=1 {sum(rates[1]) / len(rates[1]):.0f}, workers=2 {sum(rates[2]) / len(rates[2]):.0f}")
    print(f"load_scaling: {ratio:.2f}")


if __name__ == "__main__":
    main()
