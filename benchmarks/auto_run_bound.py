"""The fewest runs any honest `repeat = "auto"` could average to decide same-build runs: a lower bound, per stream.

Usage: .venv/bin/python benchmarks/auto_run_bound.py
A run stops at look k only if its p99 bound is decided there. Whatever the spending, a look's PASS (or FAIL) is
a test of at most 5 % size at the limit with the run-to-run spread learnt from the runs (k + baseline runs - 2
degrees of freedom), so it PASSes a same-build candidate at most as often as the one-sided t-test at 5 % does
(the most powerful such test invariant to the unit of measurement; noncentral t). With P(decided at look j)
at most that, E[runs] = Σ P(runs ≥ k) ≥ Σ_k max(0, 1 − Σ_{j<k} P(decided at look j)). One run's p99 SD per
stream is its sampling spread (simulation.run_spread, no run noise) and the run noise together. A futile stop
ends sooner but undecided (CAUTION), so on the streams that should be GO (all but bimodal) the bound holds for
every same-build run that is not CAUTION.
"""

import math
import sys
from pathlib import Path

from scipy.stats import nct, t

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simulation as sim  # noqa: E402

MARGIN = math.log(1 + sim.MAX_REGRESSION)
MAX_REPEAT, SIZE = 5, 0.05
NOISES = (0.01, 0.03, 0.06)
BASELINE_RUNS = (3, 5, 10)


def decided_at_most(run_sd: float, baseline_runs: int, runs: int) -> float:
    """The most often a size-5 % test at `runs` candidate runs decides a same-build p99 bound, PASS or FAIL."""
    freedom = runs + baseline_runs - 2
    shift = MARGIN / (run_sd * math.sqrt(1 / runs + 1 / baseline_runs))
    critical = t.ppf(1 - SIZE, freedom)
    return float(nct.sf(critical, freedom, shift) + nct.sf(critical, freedom, -shift))


def runs_at_least(run_sd: float, baseline_runs: int) -> float:
    """The lower bound on the mean runs of a same-build candidate, looks at 1 … MAX_REPEAT runs."""
    expected, decided = 1.0, 0.0
    for runs in range(1, MAX_REPEAT):
        decided += decided_at_most(run_sd, baseline_runs, runs)
        expected += max(0.0, 1.0 - decided)
    return expected


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
