"""Between-run statistics: a ratio from the spread of each run's own estimate, and run-to-run noise."""

import math

import numpy as np

from validator.stats.intervals import Interval, Method, MethodKind, PooledRuns, nan_interval, t_quantile, tail, z_score


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
    the variance of one run; a side's mean of k runs has 1/k of it. Student t on the log scale with those
    degrees of freedom. `min_run_sd` is the least a run can vary (its independent-sampling error): a spread that
    is small by chance among few runs never claims more. (Bucket width is left out: both sides share the
    layout, so it biases both alike.)
    """
    return between_run_interval(candidate_logs, baseline_logs, estimate, coverage, min_run_sd, log_scale=True)


def between_run_interval(
    candidate: np.ndarray,
    baseline: np.ndarray | None,
    estimate: float,
    coverage: float = 0.95,
    min_run_sd: float = 0.0,
    log_scale: bool = True,
) -> Interval:
    """Interval around `estimate` from the spread of each run's own value: a ratio (log values, `log_scale`),
    a difference (linear values), or one side's value alone (`baseline` None, k_c - 1 degrees of freedom).

    One run's SD is the runs' pooled spread about their side's mean, floored at `min_run_sd`; the standard error
    is that times sqrt(1/k_c + 1/k_b) (sqrt(1/k_c) alone), and the half-width a Student t quantile at the pooled
    degrees of freedom times it.
    """
    ours = np.asarray(candidate, dtype=float)
    theirs = np.asarray(baseline if baseline is not None else (), dtype=float)
    sides = [ours] if baseline is None else [ours, theirs]
    freedom = ours.size + theirs.size - len(sides)
    values = np.concatenate(sides)
    centre_ok = estimate > 0 if log_scale else math.isfinite(estimate)
    if freedom < 1 or not centre_ok or not np.isfinite(values).all() or any(side.size == 0 for side in sides):
        return nan_interval(coverage, Method(MethodKind.BETWEEN_RUNS), estimate)
    squares = float(sum(np.sum((side - side.mean()) ** 2) for side in sides))
    spread = math.sqrt(squares / freedom)
    inverse_runs = 1.0 / ours.size + (1.0 / theirs.size if baseline is not None else 0.0)
    error = max(spread, min_run_sd) * math.sqrt(inverse_runs)
    half = t_score(coverage, freedom) * error
    runs = PooledRuns(ours.size, theirs.size, spread, min_run_sd, error, log_scale)
    method = Method(MethodKind.BETWEEN_RUNS, runs=runs)
    if log_scale:
        return Interval(estimate, estimate * math.exp(-half), estimate * math.exp(half), coverage, method)
    return Interval(estimate, estimate - half, estimate + half, coverage, method)


def t_score(coverage: float, freedom: float) -> float:
    """The Student t quantile at the upper end of a two-sided interval at `coverage`; normal for infinite df."""
    if not math.isfinite(freedom):
        return z_score(coverage)
    return t_quantile(1.0 - tail(coverage), freedom)


def run_noise_sd(estimates: np.ndarray, sampling_sds: np.ndarray) -> float:
    """Between-run standard deviation beyond sampling error: sqrt(max(0, var(estimates) - mean(sampling var))).

    `estimates` on the comparison scale (log for ratios); needs at least two runs.
    """
    values = np.asarray(estimates, dtype=float)
    sds = np.asarray(sampling_sds, dtype=float)
    if values.size < 2 or np.isnan(values).any() or np.isnan(sds).any():
        return math.nan
    return math.sqrt(max(0.0, float(np.var(values, ddof=1)) - float(np.mean(sds**2))))


def widen_for_run_noise(
    interval: Interval, extra_sd: float, log_scale: bool, freedom: float = math.inf
) -> Interval:
    """Add a run-to-run variance to each side of an interval at its coverage: half-width h → sqrt(h² + (q·sd)²),
    q the normal quantile, or Student t's when the SD was learnt from runs with `freedom` degrees of freedom.
    On the log scale for ratios (so the widening is multiplicative), linear for differences."""
    forward, back = (np.log, np.exp) if log_scale else (lambda x: x, lambda x: x)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre, low, high = (float(forward(x)) for x in (interval.estimate, interval.low, interval.high))
    extra = t_score(interval.coverage, freedom) * extra_sd
    new_low = centre - math.hypot(centre - low, extra)
    new_high = centre + math.hypot(high - centre, extra)
    return Interval(interval.estimate, float(back(new_low)), float(back(new_high)), interval.coverage, interval.method)
