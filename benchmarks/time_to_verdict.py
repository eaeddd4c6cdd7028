"""time_to_verdict: the seconds a `slagate run` spends outside its load, and where they go.

Two cases, each a real `slagate run --verbose` as a subprocess with a short load (10 s, 2 s warm-up) of the demo
spec:
- **own service**: the demo target and a real Prometheus are already running and scraped (as a user's service and
  Prometheus are), and the run is pointed at them with ENDPOINT and PROMETHEUS_URL;
- **demo**: `slagate run --demo`, which starts the demo target and its Prometheus itself.

The table holds the median of each line of the breakdown `--verbose` prints after the verdict (seconds per phase
from the process's start, then its totals), and what this script sees from outside: the seconds from that
breakdown to the process's exit, and the whole wall time less the load's duration. The last line gives the latter
for both cases.

    .venv/bin/python benchmarks/time_to_verdict.py [--rounds 2]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import demo_spec  # noqa: E402  (the suite's short demo spec: absolute paths, 2 s warm-up)
from validator.demo.stack import demo_stack  # noqa: E402
from validator.report.console import BREAKDOWN_TITLE  # noqa: E402

DURATION_S = 10.0
ROW = re.compile(r"^slagate:   (?P<phase>\S.*?)\s+(?P<seconds>-?\d+\.\d+)$")  # one line of the breakdown
TO_EXIT = "breakdown → exit (seen from outside)"
OUTSIDE = "outside the load (wall − 10 s, from outside)"


def timed_run(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `command` (a `slagate run --verbose`); the seconds of each line of its breakdown, the seconds from the
    breakdown's last line to the exit, and the wall time less the load's duration."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               cwd=ROOT)
    assert process.stderr is not None
    rows: dict[str, float] = {}
    in_breakdown, last_row_at, lines = False, None, []
    for line in process.stderr:
        lines.append(line)
        in_breakdown = in_breakdown or line.startswith(f"slagate: {BREAKDOWN_TITLE}")
        matched = ROW.match(line.rstrip("\n")) if in_breakdown else None
        if matched:
            rows[matched["phase"]] = float(matched["seconds"])
            last_row_at = time.monotonic() - started
    process.wait()
    wall = time.monotonic() - started
    if not rows or last_row_at is None or process.returncode not in (0, 1, 3):
        sys.exit(f"the run did not complete (exit {process.returncode}):\n{''.join(lines[-20:])}")
    return {**rows, TO_EXIT: wall - last_row_at, OUTSIDE: wall - DURATION_S}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs per case (interleaved)")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"own service": [], "demo": []}
    with tempfile.TemporaryDirectory(prefix="slagate-bench-ttv-") as temporary, demo_stack() as stack:
        folder = Path(temporary)
        spec = demo_spec(folder, duration=f"{DURATION_S:g}s")
        base = [sys.executable, "-m", "validator.cli", "run", "--verbose", "--spec", str(spec)]
        own_env = {**os.environ, "ENDPOINT": stack.target.url, "PROMETHEUS_URL": stack.prometheus.url}
        for round_ in range(args.rounds):
            reports = folder / f"reports-{round_}"
            results["own service"].append(timed_run([*base, "--reports-dir", str(reports)], own_env))
            demo = [*base, "--demo", "--reports-dir", str(reports)]
            results["demo"].append(timed_run(demo, dict(os.environ)))
    runs = [row for rows in results.values() for row in rows]
    longest = max(runs, key=len)  # the demo's: every phase, in the order the breakdown gives them
    names = list(dict.fromkeys([*longest, *(name for row in runs for name in row)]))
    width = max(len(name) for name in names) + 2
    print(f"{'median s':<{width}}" + "".join(f"{case:>14}" for case in results))
    for name in names:
        cells = []
        for rows in results.values():
            seen = [row[name] for row in rows if name in row]
            cells.append(f"{statistics.median(seen):>14.2f}" if seen else f"{'—':>14}")
        print(f"{name:<{width}}" + "".join(cells))
    outside = {case: statistics.median(row[OUTSIDE] for row in rows) for case, rows in results.items()}
    print(f"time_to_verdict: {outside['own service']:.2f} s outside the load (own service), "
          f"{outside['demo']:.2f} s (demo)")


if __name__ == "__main__":
    main()
