"""Analysis policy: which interval a gate's bounds rest on, and whether `repeat = "auto"` runs again.

Runs as units: with three runs or more in all (candidate and baseline, each with its own figures), a change
comes from the spread of the runs' own estimates, which holds run-to-run noise (Student t at the pooled degrees
of freedom); a candidate of two runs or more is judged against an absolute bound the same way from its own runs.
Otherwise each side's within-run sampling error (exact or block draws, Wilson, Poisson) is used, widened by the
baseline's run-to-run noise floor when it has one (its SD learnt from its runs: Student t at runs - 1 df).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from validator.evidence import (
    DEFAULT_RESAMPLING,
    Change,
    Evidence,
    ProportionEvidence,
    QuantileEvidence,
    RateEvidence,
    RunNoise,
    ScalarEvidence,
)
from validator.judge.status import Status
from validator.spec import Resampling
from validator.stats.intervals import Interval, RunNoiseFloor
from validator.stats.runs import widen_for_run_noise
from validator.stats.sequential import Plan, conditional_power, runs_to_decide

BETWEEN_RUNS_MIN_RUNS = 3  # candidate and baseline runs together needed to learn the noise from the runs
FUTILE_POWER = 0.20  # a bound the last look would decide less often than this, as the runs stand, is futile


def value(evidence: Evidence, coverage: float, resampling: Resampling = DEFAULT_RESAMPLING) -> Interval:
    """The figure's interval for absolute bounds: from its runs' own spread with two runs or more (a quantile
    with per-window counts), else from its within-run sampling."""
    if isinstance(evidence, QuantileEvidence) and evidence.windows and evidence.runs >= 2:
        return evidence.between_runs_interval(coverage)
    return evidence.interval(coverage, resampling)


def change(
    candidate: Evidence,
    baseline: Evidence,
    coverage: float,
    resampling: Resampling = DEFAULT_RESAMPLING,
    noise: RunNoise | None = None,
) -> Change:
    """Candidate against baseline by the method the evidence at hand supports (see module docstring)."""
    if (
        isinstance(candidate, QuantileEvidence | ProportionEvidence | RateEvidence)
        and _between_runs(candidate, baseline)
    ):
        return candidate.between_runs_change(baseline, coverage)
    drawn = candidate.change_vs(baseline, coverage, resampling)
    if isinstance(candidate, ScalarEvidence):
        return drawn  # a bare value has no sampling interval to widen
    return Change(drawn.kind, _with_run_noise(drawn, noise, candidate.runs))


def _between_runs(candidate: Evidence, baseline: Evidence) -> bool:
    if candidate.runs + baseline.runs < BETWEEN_RUNS_MIN_RUNS:
        return False
    if isinstance(candidate, QuantileEvidence) and isinstance(baseline, QuantileEvidence):
        return bool(candidate.windows and baseline.windows)
    counted = (ProportionEvidence, RateEvidence)
    if isinstance(candidate, counted) and type(baseline) is type(candidate):
        return bool(candidate.run_pairs() and baseline.run_pairs())
    return False


def _with_run_noise(drawn: Change, noise: RunNoise | None, runs: int) -> Interval:
    """Widen a change interval by run-to-run noise: var = sd²·(1/candidate runs + 1/baseline runs), at Student
    t's quantile with the baseline's runs - 1 degrees of freedom (the SD was learnt from those runs)."""
    interval, log_scale = drawn.interval, drawn.kind == "ratio"
    if noise is None or not math.isfinite(noise.sd):
        return interval.with_method(run_noise=RunNoiseFloor(included=False))
    extra = noise.sd * math.sqrt(1.0 / runs + 1.0 / noise.runs)
    widened = widen_for_run_noise(interval, extra, log_scale, freedom=max(1, noise.runs - 1))
    return widened.with_method(run_noise=RunNoiseFloor(True, noise.sd, noise.runs, runs, log_scale))


@dataclass(frozen=True)
class LookStep:
    """What a look of `repeat = "auto"` decides: stop (and why) or run again."""

    runs: int
    level: float
    stop: bool
    why: str  # "decided": every bound PASS or FAIL; "last look": max_repeat reached; "futile": no undecided bound
    # could be decided by max_repeat; "undecided": run again


def stopping_rule(plan: Plan, runs: int, statuses: Sequence[Status], futile: bool = False) -> LookStep:
    """Stop when no bound is left undecided (WARN) at this look's level, at the last look, or when every bound
    left undecided is `futile` (the last look would almost surely leave it WARN too); else run again.

    NO_DATA stops too: another run of the same measurement does not bring the missing figure. A futile stop only
    ever ends in WARN, never PASS or FAIL, so it keeps the error spending's guarantees."""
    level = plan.level_at(runs)
    if Status.WARN not in statuses:  # WARN leaves a bound undecided at this look
        return LookStep(runs, level, True, "decided")
    if runs >= plan.last:
        return LookStep(runs, level, True, "last look")
    if futile:
        return LookStep(runs, level, True, "futile")
    return LookStep(runs, level, False, "undecided")


def futile(change_: Change | None, limit: float, plan: Plan, runs: int) -> bool:
    """Whether a between-runs change, still undecided against `limit` after `runs` runs, would be decided at the
    plan's last look less than FUTILE_POWER of the time, both if the runs to come follow the current estimate
    and if they show no change at all (whichever lies farther from the limit: an unlucky estimate near the limit
    is no reason to stop)."""
    if change_ is None or change_.interval.method.runs is None or runs >= plan.last:
        return False
    pooled, estimate = change_.interval.method.runs, change_.interval.estimate
    if not pooled.baseline_runs:
        return False
    if change_.kind == "ratio":
        if not (estimate > 0 and limit > 0):
            return False
        distance = max(abs(math.log(estimate) - math.log(limit)), abs(math.log(limit)))
    else:
        distance = max(abs(estimate - limit), abs(limit))
    sd = max(pooled.run_sd, pooled.min_run_sd)
    power = conditional_power(distance, sd, runs, plan.last, pooled.baseline_runs, plan.levels[-1])
    return power < FUTILE_POWER


@dataclass(frozen=True)
class RunsNeeded:
    """Why a bound stays undecided and what would decide it: one run's SD (run-to-run noise and sampling), the
    estimate's distance from the limit and the margin, runs a side that would decide it at `level` (None: no
    number of runs, the estimate sits on the limit), and the margin the runs at hand would decide."""

    run_sd: float
    distance: float
    margin: float
    runs_a_side: int | None
    margin_needed: float
    log_scale: bool
    level: float


def runs_needed(change_: Change | None, limit: float, margin: float, level: float) -> RunsNeeded | None:
    """For a between-runs change left undecided: how many runs a side (fresh candidate and baseline runs alike)
    would decide it at `level`, and the margin with which the runs at hand would PASS it (the interval's far end)."""
    if change_ is None or change_.interval.method.runs is None:
        return None
    pooled, interval = change_.interval.method.runs, change_.interval
    sd = max(pooled.run_sd, pooled.min_run_sd)
    log_scale = change_.kind == "ratio"
    if log_scale:
        if not (interval.estimate > 0 and limit > 0):
            return None
        distance = abs(math.log(limit) - math.log(interval.estimate))
        margin_needed = interval.high - 1.0 if limit > 1.0 else 1.0 - interval.low
    else:
        distance = abs(limit - interval.estimate)
        margin_needed = interval.high if limit > 0 else -interval.low
    return RunsNeeded(sd, distance, margin, runs_to_decide(sd, distance, level), margin_needed, log_scale, level)


@dataclass(frozen=True)
class BoundLook:
    """One bound at one look: its gate, the bound, its status and the interval it was judged on."""

    gate: str
    bound: str
    status: Status
    estimate: float | None
    low: float | None
    high: float | None
    kind: str  # "value" (absolute bound) or "ratio" / "difference" (against the baseline)
    unit: str = ""  # the metric's unit, for a value


@dataclass(frozen=True)
class Look:
    """One look of `repeat = "auto"`: candidate runs so far, the one-sided level its bounds were judged at, each
    bound's decision, and the step taken."""

    step: LookStep
    bounds: tuple[BoundLook, ...]
    spending: str
    max_repeat: int
