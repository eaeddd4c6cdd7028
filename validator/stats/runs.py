"""Between-run statistics: a ratio from the spread of each run's own estimate, and run-to-run noise."""

import math

import numpy as np

from validator.stats.intervals import Interval, Method, MethodKind, PooledRuns, nan_interval, z_score


def between_run_ratio_interval(
    candidate_logs: np.ndarray,
    baseline_logs: np.ndarray,
    estimate: float,
    coverage: float = 0.95,
    min_run_sd: float = 0.0,
) -> Interval:
    """Interval of candidate/baseline around `estimate` from each run's own log estimate, for three runs or more.

    Each run's estimate already carries its sampling error and its run-to-run noise, so the spread of the runs
    about their side's mean, pooled over both sides (k_c + k_b - 2 degrees of freedom: one environment), is
    the variance of one run; a side's mean of k runs has 1/k of it. Normal on the log scale. `min_run_sd` is
    the least a run can vary (its independent-sampling error): a spread that is small by chance among few runs
    never claims more. (Bucket width is left out: both sides share the layout, so it biases both alike.)
    """
    candidate = np.asarray(candidate_logs, dtype=float)
    baseline = np.asarray(baseline_logs, dtype=float)
    freedom = candidate.size + baseline.size - 2
    if freedom < 1 or not estimate > 0 or not np.isfinite(np.concatenate((candidate, baseline))).all():
        return nan_interval(coverage, Method(MethodKind.BETWEEN_RUNS), estimate)
    squares = float(np.sum((candidate - candidate.mean()) ** 2) + np.sum((baseline - baseline.mean()) ** 2))
    spread = math.sqrt(squares / freedom)
    error = max(spread, min_run_sd) * math.sqrt(1.0 / candidate.size + 1.0 / baseline.size)
    half = z_score(coverage) * error
    runs = PooledRuns(candidate.size, baseline.size, spread, min_run_sd, error)
    method = Method(MethodKind.BETWEEN_RUNS, runs=runs)
    return Interval(estimate, estimate * math.exp(-half), estimate * math.exp(half), coverage, method)


def run_noise_sd(estimates: np.ndarray, sampling_sds: np.ndarray) -> float:
    """Between-run standard deviation beyond sampling error: sqrt(max(0, var(estimates) - mean(sampling var))).

    `estimates` on the comparison scale (log for ratios); needs at least two runs.
    """
    values = np.asarray(estimates, dtype=float)
    sds = np.asarray(sampling_sds, dtype=float)
    if values.size < 2 or np.isnan(values).any() or np.isnan(sds).any():
        return math.nan
    return math.sqrt(max(0.0, float(np.var(values, ddof=1)) - float(np.mean(sds**2))))


def widen_for_run_noise(interval: Interval, extra_sd: float, log_scale: bool) -> Interval:
    """Add a normal run-to-run variance to each side of an interval at its coverage: half-width h → sqrt(h² +
    (z·sd)²). On the log scale for ratios (so the widening is multiplicative), linear for differences."""
    forward, back = (np.log, np.exp) if log_scale else (lambda x: x, lambda x: x)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre, low, high = (float(forward(x)) for x in (interval.estimate, interval.low, interval.high))
    extra = z_score(interval.coverage) * extra_sd
    new_low = centre - math.hypot(centre - low, extra)
    new_high = centre + math.hypot(high - centre, extra)
    return Interval(interval.estimate, float(back(new_low)), float(back(new_high)), interval.coverage, interval.method)
