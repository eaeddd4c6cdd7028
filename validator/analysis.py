"""Analysis policy: which comparison a gate's change against the baseline rests on.

With three runs or more in all (each with its windows), a quantile's ratio comes from the spread of the
runs' own estimates, which holds run-to-run noise. Otherwise each side's within-run sampling error
(exact or block draws) is widened by the baseline's run-to-run noise floor when it has one.
"""

import math

from validator.evidence import DEFAULT_RESAMPLING, Change, Evidence, QuantileEvidence, RunNoise, ScalarEvidence
from validator.spec import Resampling
from validator.stats.intervals import Interval, RunNoiseFloor
from validator.stats.runs import widen_for_run_noise

BETWEEN_RUNS_MIN_RUNS = 3  # candidate and baseline runs together needed to learn the noise from the runs


def change(
    candidate: Evidence,
    baseline: Evidence,
    coverage: float,
    resampling: Resampling = DEFAULT_RESAMPLING,
    noise: RunNoise | None = None,
) -> Change:
    """Candidate against baseline by the method the evidence at hand supports (see module docstring)."""
    if (
        isinstance(candidate, QuantileEvidence)
        and isinstance(baseline, QuantileEvidence)
        and candidate.windows
        and baseline.windows
        and candidate.runs + baseline.runs >= BETWEEN_RUNS_MIN_RUNS
    ):
        return candidate.between_runs_change(baseline, coverage)
    drawn = candidate.change_vs(baseline, coverage, resampling)
    if isinstance(candidate, ScalarEvidence):
        return drawn  # a bare value has no sampling interval to widen
    return Change(drawn.kind, _with_run_noise(drawn, noise, candidate.runs))


def _with_run_noise(drawn: Change, noise: RunNoise | None, runs: int) -> Interval:
    """Widen a change interval by run-to-run noise: var = sd²·(1/candidate runs + 1/baseline runs)."""
    interval, log_scale = drawn.interval, drawn.kind == "ratio"
    if noise is None or not math.isfinite(noise.sd):
        return interval.with_method(run_noise=RunNoiseFloor(included=False))
    extra = noise.sd * math.sqrt(1.0 / runs + 1.0 / noise.runs)
    widened = widen_for_run_noise(interval, extra, log_scale)
    return widened.with_method(run_noise=RunNoiseFloor(True, noise.sd, noise.runs, runs, log_scale))
