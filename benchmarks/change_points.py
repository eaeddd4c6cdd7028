"""change_points: how well `slagate history --changes` and a pinned reference catch what per-release tolerances miss.

Series of releases, each one run whose p99 carries 3 % run-to-run noise (log-normal) and an interval of ±6 %
(its sampling error), fixed seeds, through the real `validator.judge.changes.change_points`:

- **stable**: 30 releases, no change: any change point is a false one (goal ≤ 5 % of series);
- **one step**: +20 % from release 10 of 20: found, and at the right release (goal ≥ 95 %);
- **a late step**: +20 % in the last 2 of 20 releases (what `--last 3` gates on);
- **slow drift**: +3 % a release, the baseline promoted after every release, `max_regression = 15 %`,
  `max_drift = 25 %` against the first release: the release at which each guard first fires (the per-release
  check never does; the drift guard when the total passes 25 %; the change points, which cut a long trend into
  levels).

Each rate is printed with its series count and the simulation's own standard error, sqrt(p(1 - p)/n).

    .venv/bin/python benchmarks/change_points.py [--series 300] [--seed 7]
"""

import argparse
import math
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from validator.judge.changes import RunFigure, change_points  # noqa: E402

NOISE, WIDTH, STEP = 0.03, 0.06, 1.20


def series(rng: np.random.Generator, levels: list[float]) -> list[RunFigure]:
    """One run per release at each level, with run-to-run noise and its sampling interval."""
    figures = []
    for index, level in enumerate(levels):
        estimate = level * math.exp(rng.normal(0, NOISE))
        figures.append(RunFigure(f"r{index}", f"1.{index}.0", estimate, estimate * math.exp(-WIDTH),
                                 estimate * math.exp(WIDTH)))
    return figures


def rate(hits: int, n: int) -> str:
    p = hits / n
    return f"{p * 100:5.1f} % ± {math.sqrt(p * (1 - p) / n) * 100:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng, n = np.random.default_rng(args.seed), args.series
    false = sum(bool(change_points(series(rng, [0.1] * 30), ratio=True)) for _ in range(n))
    found = right = late = 0
    for _ in range(n):
        points = change_points(series(rng, [0.1] * 10 + [0.1 * STEP] * 10), ratio=True)
        found += bool(points)
        right += any(point.index == 10 for point in points)
        late += any(point.index == 18 for point in change_points(series(rng, [0.1] * 18 + [0.1 * STEP] * 2),
                                                                   ratio=True))
    drift_fired, trend_points, trend_first = [], 0, []
    for _ in range(n):
        figures = series(rng, [0.1 * 1.03**release for release in range(15)])
        totals = [figure.estimate / figures[0].estimate for figure in figures]
        drift_fired.append(next((release for release, total in enumerate(totals) if total > 1.25), 99))
        points = change_points(figures, ratio=True)
        trend_points += bool(points)
        trend_first += [points[0].index] if points else []
    print(f"{'series (' + str(n) + ' each, seed ' + str(args.seed) + ')':<44} {'rate':>16}  goal")
    print(f"{'stable 30 releases: a false change point':<44} {rate(false, n):>16}  ≤ 5 %")
    print(f"{'+20 % step at release 10 of 20: found':<44} {rate(found, n):>16}  ≥ 95 %")
    print(f"{'  … at the right release':<44} {rate(right, n):>16}  ≥ 95 %")
    print(f"{'+20 % step in the last 2 of 20: found':<44} {rate(late, n):>16}")
    first = f"release {statistics.median(trend_first):g}" if trend_first else "never"
    print(f"{'+3 %/release for 15: a change point found':<44} {rate(trend_points, n):>16}  (first at {first}, median)")
    fired = f"release {statistics.median(drift_fired):g}"
    print(f"{'+3 %/release: estimate past max_drift 25 % at':<44} {fired:>16}  (max_regression 15 %: never)")
    print(f"change_points: {false / n * 100:.1f} % false in stable series, "
          f"{right / n * 100:.1f} % of steps placed right")


if __name__ == "__main__":
    main()
