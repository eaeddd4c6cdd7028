"""load_scaling: slagate's distributed load rate ÷ Locust's own distributed rate, same workers, users and target.

Per round, interleaved: slagate with workers = 1 (the users in one process), slagate with workers = 2 (a Locust
master and two worker processes, each recording slagate's exact histograms in place of Locust's own statistics
and shipping them), and plain `locust --headless --processes 2` (Locust's own master and two forked workers, its
own statistics only), all against a local nginx answering a fixed 200. The order turns each round (in every 3 rounds
each run is first, second and third once), so a machine that slows down or speeds up favours none of them.
The last line is slagate's workers = 2 rate ÷ Locust's --processes 2 rate: what slagate's histograms and their
shipping cost against Locust's own statistics (goal ≥ 1.0). The raw 1-vs-2-worker rows stay in the table with
the CPU columns: on a 2-core machine nginx shares the cores with the generators, so the table shows the CPU the
target consumed and slagate's load processes' own (sum of their means, % of one core; Locust's own runs report
none).

Six rounds by default: on a shared 2-core machine one round's ratio spreads ±7 %, so 3 rounds leave the mean ±4 %
(one standard error) and 6 rounds ±2.7 %, against a true difference of about 2 %.

    .venv/bin/python benchmarks/load_scaling.py [--rounds 6] [--duration 10] [--users 40]
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from loadbench import bare_locust_rate, harness_load, nginx

RUNS = [("slagate", 1), ("slagate", 2), ("locust", 2)]


def generator_cpu_percent(load: dict) -> float:
    """The load processes' summed mean CPU (% of one core) over their health samples."""
    return sum(sum(row[1] for row in rows) / len(rows) for rows in load["health_samples"].values() if rows)


def main() -> None:
    """Run the interleaved rounds and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=40)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"slagate 1": [], "slagate 2": [], "locust 2": []}
    print(f"{'round':>5} {'generator':>10} {'workers':>7} {'req/s':>8} {'generator CPU %':>16} {'nginx CPU %':>12}")
    with nginx() as target, tempfile.TemporaryDirectory(prefix="slagate-bench-scaling-") as temporary:
        work = Path(temporary)
        for round_number in range(1, args.rounds + 1):
            shift = (round_number - 1) % len(RUNS)  # each run takes each place in a round in turn
            for generator, workers in RUNS[shift:] + RUNS[:shift]:
                before = target.cpu_seconds()
                if generator == "slagate":
                    lines = (
                        f'users = {args.users}\nspawn_rate = {args.users}\nwarmup = "1s"\nworkers = {workers}\n'
                        f'duration = "{args.duration:g}s"'
                    )
                    load = harness_load(lines, target.url, work / f"{round_number}-{workers}")
                    rate = sum(endpoint["requests"] for endpoint in load["endpoints"].values()) / args.duration
                    cpu = f"{generator_cpu_percent(load):.0f}"
                else:
                    rate = bare_locust_rate(args.users, args.duration, target.url, work / f"{round_number}-locust",
                                            workers)
                    cpu = "—"
                target_cpu = (target.cpu_seconds() - before) / args.duration * 100
                rates[f"{generator} {workers}"].append(rate)
                print(f"{round_number:>5} {generator:>10} {workers:>7} {rate:>8.0f} {cpu:>16} {target_cpu:>12.0f}")
    means = {name: sum(values) / len(values) for name, values in rates.items()}
    print("mean req/s: " + ", ".join(f"{name} {mean:.0f}" for name, mean in means.items())
          + f"; slagate workers 2 ÷ 1: {means['slagate 2'] / means['slagate 1']:.2f}")
    paired = sorted(mine / theirs for mine, theirs in zip(rates["slagate 2"], rates["locust 2"], strict=True))
    print("slagate 2 ÷ locust 2 by round (sorted): " + ", ".join(f"{ratio:.2f}" for ratio in paired)
          + f"; median {statistics.median(paired):.2f}")
    print(f"load_scaling: {means['slagate 2'] / means['locust 2']:.2f}")


if __name__ == "__main__":
    main()
