"""The fewest runs any honest `repeat = "auto"` could average to decide same-build runs: a lower bound, per stream.

Usage: .venv/bin/python benchmarks/auto_run_bound.py
A run stops at look k only if its p99 bound is decided there. A procedure that PASSes a build exactly at the
limit at most 5 % of the time over all looks spends some α_j ≥ 0 of it at each look j, Σ α_j ≤ 5 %; its PASS
at look j is then a test of size α_j with the run-to-run spread learnt from the runs (j + baseline runs - 2
degrees of freedom), so it PASSes a same-build candidate at most as often as the one-sided t-test of size α_j
(the most powerful test invariant to the unit of measurement; noncentral t). FAIL at a look is bounded by the
size-5 % t-test (generous: a same-build run is a margin away from failing). With P(decided at look j) at most
their sum, E[runs] = Σ P(runs ≥ k) ≥ Σ_k max(0, 1 − Σ_{j<k} P(decided at look j)), minimised over every split
of the 5 % on a grid of α/20 steps (the split suiting each stream best, which no one procedure gets for all).
One run's p99 SD per stream is its sampling spread (simulation.run_spread, no run noise) and the run noise
together, as a normal model with that SD unknown. A futile stop ends sooner but undecided (CAUTION), so on the
streams that should be GO (all but bimodal) the bound holds for every same-build run that is not CAUTION.
"""

import itertools
import math
import sys
from pathlib import Path

import numpy as np
from scipy.stats import nct, t

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simulation as sim  # noqa: E402

MARGIN = math.log(1 + sim.MAX_REGRESSION)
MAX_REPEAT, SIZE, STEPS = 5, 0.05, 20
NOISES = (0.01, 0.03, 0.06)
BASELINE_RUNS = (3, 5, 10)


def t_test_power(run_sd: float, baseline_runs: int, runs: int, size: float, shift_sign: int) -> float:
    """How often a one-sided t-test of `size` at `runs` candidate runs rejects when the truth is a margin away."""
    if size <= 0:
        return 0.0
    freedom = runs + baseline_runs - 2
    shift = MARGIN / (run_sd * math.sqrt(1 / runs + 1 / baseline_runs))
    return float(nct.sf(t.ppf(1 - size, freedom), freedom, shift_sign * shift))


def runs_at_least(run_sd: float, baseline_runs: int) -> float:
    """The lower bound on the mean runs of a same-build candidate, looks at 1 … MAX_REPEAT runs."""
    sizes = np.linspace(0, SIZE, STEPS + 1)
    looks = range(1, MAX_REPEAT)  # the last look ends the runs whatever it decides
    passing = {(k, i): t_test_power(run_sd, baseline_runs, k, size, 1) for k in looks for i, size in enumerate(sizes)}
    failing = {k: t_test_power(run_sd, baseline_runs, k, SIZE, -1) for k in looks}
    best = math.inf
    for split in itertools.product(range(STEPS + 1), repeat=len(looks)):
        if sum(split) > STEPS:
            continue
        expected, decided = 1.0, 0.0
        for k, steps in zip(looks, split, strict=True):
            decided += passing[k, steps] + failing[k]
            expected += max(0.0, 1.0 - decided)
        best = min(best, expected)
    return best


def main() -> None:
    sampling = {stream: sim.run_spread(stream, 0.99) for stream in sim.STREAMS}
    steady = [stream for stream in sim.STREAMS if stream != "bimodal"]
    print("| run noise | baseline runs | " + " | ".join(sim.STREAMS) + " | mean of " + ", ".join(steady) + " |")
    print("| --- | --- |" + " --- |" * (len(sim.STREAMS) + 1))
    headline = math.nan
    for noise in NOISES:
        for baseline_runs in BASELINE_RUNS:
            bounds = {s: runs_at_least(math.hypot(noise, sampling[s]), baseline_runs) for s in sim.STREAMS}
            mean = sum(bounds[s] for s in steady) / len(steady)
            if noise == sim.RUN_NOISE and baseline_runs == 3:
                headline = mean
            shown = " | ".join(f"≥ {bound:.2f}" for bound in bounds.values())
            print(f"| {noise * 100:g} % | {baseline_runs} | {shown} | ≥ {mean:.2f} |")
    spreads = ", ".join(f"{stream} {value * 100:.1f} %" for stream, value in sampling.items())
    print(f"(runs until decided; one run's p99 SD without run noise: {spreads})")
    print(f"auto_run_bound: mean runs to decide ≥ {headline:.2f} ({', '.join(steady)}; 3 % noise, 3-run baseline)")


if __name__ == "__main__":
    main()
