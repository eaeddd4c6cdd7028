"""The interval value every statistic returns, its method as a structured value, and coverage arithmetic.

A two-sided interval holds the true value with probability `coverage`; a one-sided claim (a bound is met,
a bound is broken) is proven at a `level`. The ends of the interval at coverage 2·level − 1 are the
one-sided bounds at `level`.
"""

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from scipy.special import ndtri, stdtrit


class MethodKind(StrEnum):
    """Which computation produced an interval."""

    EXACT = "exact"  # exact bootstrap percentile: the order statistic over the bucket CDF
    BLOCK = "block"  # circular block bootstrap over per-window histograms
    HIERARCHICAL = "hierarchical"  # runs resampled whole, with replacement
    BETWEEN_RUNS = "between_runs"  # normal on the log scale from the spread of the runs' own estimates
    WILSON = "wilson"
    NEWCOMBE = "newcombe"  # difference of Wilson intervals
    GARWOOD = "garwood"  # exact Poisson
    RATE_RATIO = "rate_ratio"  # exact conditional binomial on the count share
    SINGLE_VALUE = "single_value"  # a bare number: no sampling interval


@dataclass(frozen=True)
class BlockSpread:
    """How far block draws were spread about the estimate: the correlation the blocks cut, times the
    Student-t calibration for a spread learnt from `blocks` blocks."""

    correlation: float
    calibration: float
    blocks: int

    @property
    def factor(self) -> float:
        return self.correlation * self.calibration


@dataclass(frozen=True)
class PooledRuns:
    """A between-runs interval's inputs: runs a side (baseline 0 for one side alone), one run's pooled SD, its
    floor and the standard error (log scale for ratios and values, linear for differences)."""

    candidate_runs: int
    baseline_runs: int
    run_sd: float
    min_run_sd: float
    standard_error: float
    log_scale: bool = True  # False: a difference of linear values (success rate)

    @property
    def freedom(self) -> int:
        """Degrees of freedom of the pooled spread: runs less one mean a side (one side without a baseline)."""
        return self.candidate_runs + self.baseline_runs - (2 if self.baseline_runs else 1)

    @property
    def floored(self) -> bool:
        """Whether the runs' spread was raised to the least one run can vary."""
        return self.min_run_sd > self.run_sd


@dataclass(frozen=True)
class RunNoiseFloor:
    """The baseline's run-to-run noise as a comparison used it; `included` False when the baseline has none."""

    included: bool
    sd: float | None = None  # log scale for ratios, linear for differences; None when not included
    runs: int = 0
    candidate_runs: int = 0
    log_scale: bool = True


@dataclass(frozen=True)
class Method:
    """How an interval was computed: the kind and every parameter that shaped it."""

    kind: MethodKind
    auto: bool = False  # the `auto` setting chose `kind`
    ratio: bool = False  # a percentile interval of the ratio of independent draws made by `kind`
    windows: tuple[int, ...] = ()  # windows per run that were resampled
    blocks: tuple[int, ...] = ()  # block length per run
    resamples: int = 0
    spread: BlockSpread | None = None
    runs: PooledRuns | None = None
    bucket_share: float | None = None  # share of the width added by widening to bucket edges
    run_noise: RunNoiseFloor | None = None


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided interval at `coverage` and the method that produced it."""

    estimate: float
    low: float
    high: float
    coverage: float
    method: Method

    def with_method(self, **changes: Any) -> "Interval":
        """The same interval with some of its method's parameters set."""
        return replace(self, method=replace(self.method, **changes))


def nan_interval(coverage: float, method: Method, estimate: float = math.nan) -> Interval:
    """An interval the data cannot give (no observations, NaN counts)."""
    return Interval(estimate, math.nan, math.nan, coverage, method)


def interval_level(bound_level: float) -> float:
    """The coverage of the two-sided interval whose ends are one-sided bounds at `bound_level` (95 % → 90 %).

    A gate's bound is one-sided, so each end of this interval is the test of one claim, as in non-inferiority
    testing and TOST.
    """
    if not 0.5 < bound_level < 1.0:
        raise ValueError(f"a one-sided bound level must be within (0.5, 1), got {bound_level!r}")
    return 2.0 * bound_level - 1.0


def tail(coverage: float) -> float:
    """The probability in each tail of a two-sided interval at `coverage`."""
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must be within (0, 1), got {coverage!r}")
    return (1.0 - coverage) / 2.0


def z_score(coverage: float) -> float:
    """The standard normal quantile at the upper end of a two-sided interval at `coverage` (1.96 for 95 %)."""
    return float(ndtri(1.0 - tail(coverage)))


def t_quantile(p: float, freedom: float) -> float:
    """Student t's p-quantile at `freedom` df, exactly scipy.stats.t.ppf's answer (it calls stdtrit too), without
    importing scipy.stats (47 MB of memory for this one function)."""
    if p == 0 and freedom > 0:
        return -math.inf  # stdtrit answers +inf here
    return float(stdtrit(freedom, p))


def implied_sd(interval: Interval, log_scale: bool) -> float:
    """The normal standard deviation an interval's width implies at its coverage: width / 2z, on the log scale
    for ratios and rates; NaN when an end is missing, +Inf when one is unbounded or zero on the log scale."""
    low, high = interval.low, interval.high
    if log_scale:
        if math.isnan(low) or math.isnan(high):
            return math.nan
        low, high = (math.log(x) if x > 0 else -math.inf if x == 0 else math.nan for x in (low, high))
    return (high - low) / (2.0 * z_score(interval.coverage))


def per_check_level(family_level: float, checks: int) -> float:
    """Bonferroni: the one-sided level each of `checks` bounds is judged at so that all hold at `family_level`."""
    return 1.0 - 2.0 * tail(family_level) / max(1, checks)


def check_q(q: float) -> None:
    """Refuse a quantile outside [0, 1] (NaN included)."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile q must be within [0, 1], got {q!r}")
