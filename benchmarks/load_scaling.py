"""load_scaling: slagate's load rate with workers = 2 ÷ workers = 1, same users, target and duration.

workers = 1 runs the users in one process; workers = 2 runs a Locust master and two worker processes.
Both hit a local nginx answering a fixed 200, interleaved A B A B. On a 2-core machine nginx shares
the cores with the generator, so the table also shows the CPU the target itself consumed, and the
load processes' own CPU (sum of their means, % of one core; the master's is negligible): two workers
well below 100 % each mean the cores, not the harness, were the limit.

    .venv/bin/python benchmarks/load_scaling.py [--rounds 3] [--duration 10] [--users 40]
"""

import argparse
import tempfile
from pathlib import Path

from loadbench import harness_load, nginx


def generator_cpu_percent(load: dict) -> float:
    """The load processes' summed mean CPU (% of one core) over their health samples."""
    return sum(sum(row[1] for row in rows) / len(rows) for rows in load["health_samples"].values() if rows)


def main() -> None:
    """Run the interleaved rounds and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=40)
    args = parser.parse_args()
    rates: dict[int, list[float]] = {1: [], 2: []}
    print(f"{'round':>5} {'workers':>7} {'req/s':>8} {'generator CPU %':>16} {'nginx CPU %':>12}")
    with nginx() as target, tempfile.TemporaryDirectory(prefix="slagate-bench-scaling-") as temporary:
        work = Path(temporary)
        for round_number in range(1, args.rounds + 1):
            for workers in (1, 2):
                lines = (
                    f'users = {args.users}\nspawn_rate = {args.users}\nwarmup = "1s"\nworkers = {workers}\n'
                    f'duration = "{args.duration:g}s"'
                )
                before = target.cpu_seconds()
                load = harness_load(lines, target.url, work / f"{round_number}-{workers}")
                target_cpu = (target.cpu_seconds() - before) / args.duration * 100
                rate = sum(endpoint["requests"] for endpoint in load["endpoints"].values()) / args.duration
                rates[workers].append(rate)
                generator = generator_cpu_percent(load)
                print(f"{round_number:>5} {workers:>7} {rate:>8.0f} {generator:>16.0f} {target_cpu:>12.0f}")
    ratio = sum(rates[2]) / sum(rates[1])
    print(f"mean req/s: workers=1 {sum(rates[1]) / len(rates[1]):.0f}, workers=2 {sum(rates[2]) / len(rates[2]):.0f}")
    print(f"load_scaling: {ratio:.2f}")


if __name__ == "__main__":
    main()
