"""Intervals for counts: proportions (Wilson, Newcombe) and Poisson rates (Garwood, conditional rate ratio)."""

import math

from scipy.special import betaincinv, gammaincinv

from validator.stats.intervals import Interval, Method, MethodKind, nan_interval, tail, z_score

WILSON = Method(MethodKind.WILSON)
NEWCOMBE = Method(MethodKind.NEWCOMBE)
GARWOOD = Method(MethodKind.GARWOOD)
RATE_RATIO = Method(MethodKind.RATE_RATIO)


def wilson_interval(successes: float, total: float, coverage: float = 0.95) -> Interval:
    """The success proportion with its Wilson score interval: never zero-width, even with no failures."""
    z = z_score(coverage)
    if not 0 <= successes <= total:
        raise ValueError(f"successes must be within [0, total], got {successes!r} of {total!r}")
    if total == 0:
        return nan_interval(coverage, WILSON)
    p = successes / total
    z2n = z * z / total
    center = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / total + z2n / (4.0 * total))
    return Interval(p, max(0.0, center - half), min(1.0, center + half), coverage, WILSON)


def proportion_difference_interval(s1: float, n1: float, s2: float, n2: float, coverage: float = 0.95) -> Interval:
    """Candidate proportion s1/n1 minus baseline s2/n2, with Newcombe's hybrid score interval."""
    candidate = wilson_interval(s1, n1, coverage)
    baseline = wilson_interval(s2, n2, coverage)
    if math.isnan(candidate.low) or math.isnan(baseline.low):
        return nan_interval(coverage, NEWCOMBE)
    difference = candidate.estimate - baseline.estimate
    below = math.hypot(candidate.estimate - candidate.low, baseline.high - baseline.estimate)
    above = math.hypot(candidate.high - candidate.estimate, baseline.estimate - baseline.low)
    return Interval(difference, difference - below, difference + above, coverage, NEWCOMBE)


def _check_count_and_time(count: float, seconds: float) -> None:
    if count < 0 or seconds < 0:
        raise ValueError(f"count and seconds must be ≥ 0, got {count!r} events in {seconds!r} s")


def poisson_rate_interval(count: float, seconds: float, coverage: float = 0.95) -> Interval:
    """Events per second with the exact Garwood interval (gamma quantiles; works for non-integer counts)."""
    lower_tail = tail(coverage)
    _check_count_and_time(count, seconds)
    if seconds == 0:
        return nan_interval(coverage, GARWOOD)
    low = gammaincinv(count, lower_tail) if count > 0 else 0.0
    high = gammaincinv(count + 1.0, 1.0 - lower_tail)
    return Interval(count / seconds, float(low) / seconds, float(high) / seconds, coverage, GARWOOD)


def rate_ratio_interval(c1: float, t1: float, c2: float, t2: float, coverage: float = 0.95) -> Interval:
    """Candidate rate (c1/t1) over baseline rate (c2/t2), exact conditional on c1 + c2.

    Given the total, c1 is Binomial(c1+c2, π) with π = R·t1 / (R·t1 + t2); a Clopper-Pearson interval for π
    maps to one for the ratio R.
    """
    lower_tail = tail(coverage)
    _check_count_and_time(c1, t1)
    _check_count_and_time(c2, t2)
    if t1 == 0 or t2 == 0 or c1 + c2 == 0:
        return nan_interval(coverage, RATE_RATIO)
    share_low = float(betaincinv(c1, c2 + 1.0, lower_tail)) if c1 > 0 else 0.0
    share_high = float(betaincinv(c1 + 1.0, c2, 1.0 - lower_tail)) if c2 > 0 else 1.0
    time_ratio = t2 / t1
    estimate = c1 / c2 * time_ratio if c2 > 0 else math.inf
    low, high = _odds(share_low) * time_ratio, _odds(share_high) * time_ratio
    return Interval(estimate, low, high, coverage, RATE_RATIO)


def _odds(share: float) -> float:
    """share / (1 - share), +Inf for a share of 1."""
    return share / (1.0 - share) if share < 1.0 else math.inf
