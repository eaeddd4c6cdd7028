"""Pure statistics over arrays: quantiles of bucketed histograms and confidence intervals.

Quantiles follow Prometheus 2.42's `histogram_quantile` (cumulative counts at upper bounds, linear
interpolation inside a bucket). Their intervals are the exact bootstrap percentile intervals, computed
from order-statistic theory instead of by resampling: with N observations and the histogram's CDF F,
the k-th smallest of N resampled values (k = ceil(qN)) is ≤ x with probability
P(Binomial(N, F(x)) ≥ k) = I_F(x)(k, N-k+1), so its quantiles are F⁻¹ of Beta(k, N-k+1) quantiles.
Proportions use Wilson score intervals, rates exact Poisson (Garwood) intervals.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv, gammaincinv, ndtri

QUANTILE_METHOD = "exact bootstrap percentile (order statistic over the bucket CDF)"
RATIO_METHOD = "bootstrap percentile of the ratio (independent draws)"
WILSON_METHOD = "Wilson score"
NEWCOMBE_METHOD = "Newcombe hybrid score (difference of Wilson intervals)"
GARWOOD_METHOD = "exact Poisson (Garwood)"
RATE_RATIO_METHOD = "exact conditional binomial (Clopper-Pearson on count share)"


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval and the method that produced it."""

    estimate: float
    low: float
    high: float
    method: str


def _nan_interval(method: str, estimate: float = math.nan) -> Interval:
    return Interval(estimate, math.nan, math.nan, method)


def _check_q(q: float) -> None:
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile q must be within [0, 1], got {q!r}")


def _tail(confidence: float) -> float:
    """The probability in each tail of a two-sided interval at `confidence`."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be within (0, 1), got {confidence!r}")
    return (1.0 - confidence) / 2.0


# --- bucketed quantiles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Buckets:
    """A histogram after Prometheus's preparation, as the piecewise-linear quantile function it implies.

    `edges` are the first bucket's start followed by every finite upper bound; `cumulative` is 0 followed
    by their cumulative counts; `observations` is the +Inf bucket's count.
    """

    edges: np.ndarray
    cumulative: np.ndarray
    observations: float
    first_nonpositive_is_value: bool  # Prometheus answers a first bucket with upper bound <= 0 by that bound

    @classmethod
    def prepare(
        cls, upper_bounds: np.ndarray, cumulative_counts: np.ndarray, lower_edge: float | None = None
    ) -> "_Buckets | None":
        """Sort, require +Inf last, merge equal bounds, force monotonic counts; None where Prometheus gives NaN."""
        bounds = np.asarray(upper_bounds, dtype=float)
        counts = np.asarray(cumulative_counts, dtype=float)
        if bounds.ndim != 1 or bounds.shape != counts.shape:
            raise ValueError(f"upper_bounds {bounds.shape} and cumulative_counts {counts.shape} must be equal 1-d")
        if bounds.size < 2:
            return None
        if not (bounds[1:] > bounds[:-1]).all():  # unsorted, repeated or NaN bounds: sort and sum repeats
            if np.isnan(bounds).any():
                return None
            bounds, which = np.unique(bounds, return_inverse=True)
            counts = np.bincount(which, weights=counts, minlength=bounds.size)
        if bounds[-1] != math.inf or bounds.size < 2:
            return None
        if lower_edge is not None and not lower_edge <= bounds[0]:
            raise ValueError(f"lower_edge {lower_edge!r} must not be above the first upper bound {bounds[0]!r}")
        counts = _ensure_monotonic(counts)
        edges = np.concatenate(([0.0 if lower_edge is None else lower_edge], bounds[:-1]))
        return cls(edges, np.concatenate(([0.0], counts[:-1])), float(counts[-1]), lower_edge is None)

    def values(self, bucket: np.ndarray, rank: np.ndarray) -> np.ndarray:
        """bucketQuantile's answer for each (bucket index, rank): linear inside the bucket, special cases kept."""
        last_finite = self.edges.size - 2
        inside = np.minimum(bucket, last_finite)
        start, end = self.edges[inside], self.edges[inside + 1]
        before = self.cumulative[inside]
        with np.errstate(divide="ignore", invalid="ignore"):
            values = start + (end - start) * ((rank - before) / (self.cumulative[inside + 1] - before))
        if self.first_nonpositive_is_value:
            values = np.where((bucket == 0) & (end <= 0), end, values)
        return np.where(bucket > last_finite, self.edges[-1], values)

    def quantiles(self, probabilities: np.ndarray) -> np.ndarray:
        """Hq(p) for each p, with one vectorised search (counts must be finite)."""
        ranks = np.asarray(probabilities, dtype=float) * self.observations
        return self.values(np.searchsorted(self.cumulative[1:], ranks, side="left"), ranks)

    def bootstrappable(self) -> bool:
        """Finite counts and some observations: what the order-statistic bootstrap needs."""
        return self.observations > 0 and math.isfinite(self.observations) and np.isfinite(self.cumulative).all()

    def order_statistic_shape(self, q: float) -> tuple[float, float]:
        """Beta(k, N-k+1) parameters: the law of F at the resampled q-quantile, k = ceil(qN) (at least 1)."""
        k = max(1.0, float(math.ceil(q * self.observations)))
        return k, self.observations - k + 1.0


def _ensure_monotonic(counts: np.ndarray) -> np.ndarray:
    """Raise each count to the running maximum before it, NaN counts untouched (Prometheus's ensureMonotonic)."""
    if math.isnan(counts[0]):
        return counts  # Go compares everything against a NaN maximum: nothing changes
    return np.where(np.isnan(counts), counts, np.fmax.accumulate(counts))


def _first_reaching(cumulative: np.ndarray, rank: float) -> int:
    """Go's sort.Search for the first finite bucket with count >= rank (same probes, so same answer with NaNs)."""
    low, high = 0, cumulative.size - 1
    while low < high:
        middle = (low + high) // 2
        if cumulative[middle + 1] >= rank:
            high = middle
        else:
            low = middle + 1
    return low


def histogram_quantile(q: float, upper_bounds: np.ndarray, cumulative_counts: np.ndarray) -> float:
    """The q-quantile of a cumulative (le-labelled) histogram, exactly as Prometheus 2.42's histogram_quantile.

    Same special cases: NaN q → NaN, q < 0 → -Inf, q > 1 → +Inf, no +Inf bucket / < 2 buckets / 0 observations → NaN.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = _Buckets.prepare(upper_bounds, cumulative_counts)
    if buckets is None or buckets.observations == 0:
        return math.nan
    rank = q * buckets.observations
    return float(buckets.values(np.array(_first_reaching(buckets.cumulative, rank)), np.array(rank)))


def quantile_interval(
    q: float,
    upper_bounds: np.ndarray,
    cumulative_counts: np.ndarray,
    confidence: float = 0.95,
    lower_edge: float | None = None,
) -> Interval:
    """The q-quantile with its exact bootstrap percentile interval, no resampling (see module docstring).

    `lower_edge` is where the first bucket starts (Prometheus assumes 0). When the interval's upper end
    falls in the +Inf bucket the data cannot bound it, so `high` is +Inf (the estimate stays Prometheus's).
    """
    _check_q(q)
    tail = _tail(confidence)
    buckets = _Buckets.prepare(upper_bounds, cumulative_counts, lower_edge)
    if buckets is None or not buckets.bootstrappable():
        return _nan_interval(QUANTILE_METHOD, histogram_quantile(q, upper_bounds, cumulative_counts))
    a, b = buckets.order_statistic_shape(q)
    p_low, p_high = betaincinv(a, b, np.array([tail, 1.0 - tail]))
    estimate, low, high = buckets.quantiles(np.array([q, p_low, p_high]))
    if p_high * buckets.observations > buckets.cumulative[-1]:
        high = math.inf
    return Interval(float(estimate), float(low), float(high), QUANTILE_METHOD)


def quantile_bootstrap_draws(
    q: float,
    upper_bounds: np.ndarray,
    cumulative_counts: np.ndarray,
    n_draws: int,
    rng: np.random.Generator,
    lower_edge: float | None = None,
) -> np.ndarray:
    """`n_draws` values of the resampled q-quantile: Hq(P) with P ~ Beta(k, N-k+1), the law of F at it.

    For ratio intervals between two histograms; all NaN without observations. P is drawn with
    Generator.beta, the same law as the inverse CDF betaincinv(U) but 15-90x faster at 20k draws.
    """
    _check_q(q)
    if n_draws < 1:
        raise ValueError(f"n_draws must be at least 1, got {n_draws!r}")
    buckets = _Buckets.prepare(upper_bounds, cumulative_counts, lower_edge)
    if buckets is None or not buckets.bootstrappable():
        return np.full(n_draws, math.nan)
    a, b = buckets.order_statistic_shape(q)
    return buckets.quantiles(rng.beta(a, b, n_draws))


def ratio_interval(
    candidate_draws: np.ndarray, baseline_draws: np.ndarray, confidence: float = 0.95, estimate: float | None = None
) -> Interval:
    """Percentile interval of candidate/baseline from paired independent draws of each.

    `estimate` defaults to the ratio of the draws' medians; pass the ratio of point estimates instead.
    """
    tail = _tail(confidence)
    candidate = np.asarray(candidate_draws, dtype=float)
    baseline = np.asarray(baseline_draws, dtype=float)
    if candidate.shape != baseline.shape or candidate.ndim != 1:
        raise ValueError(f"draws must be 1-d and of equal length, got {candidate.shape} and {baseline.shape}")
    if candidate.size == 0 or np.isnan(candidate).any() or np.isnan(baseline).any():
        return _nan_interval(RATIO_METHOD, math.nan if estimate is None else estimate)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = candidate / baseline
        if estimate is None:
            estimate = float(np.median(candidate) / np.median(baseline))
    if np.isnan(ratios).any():  # 0/0 or inf/inf: no ratio to speak of
        return _nan_interval(RATIO_METHOD, estimate)
    low, high = np.quantile(ratios, [tail, 1.0 - tail], method="inverted_cdf")  # no inf - inf interpolation
    return Interval(float(estimate), float(low), float(high), RATIO_METHOD)


# --- proportions ------------------------------------------------------------------------------------


def wilson_interval(successes: float, total: float, confidence: float = 0.95) -> Interval:
    """The success proportion with its Wilson score interval: never zero-width, even with no failures."""
    z = ndtri(1.0 - _tail(confidence))
    if not 0 <= successes <= total:
        raise ValueError(f"successes must be within [0, total], got {successes!r} of {total!r}")
    if total == 0:
        return _nan_interval(WILSON_METHOD)
    p = successes / total
    z2n = z * z / total
    center = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / total + z2n / (4.0 * total))
    return Interval(p, max(0.0, center - half), min(1.0, center + half), WILSON_METHOD)


def proportion_difference_interval(s1: float, n1: float, s2: float, n2: float, confidence: float = 0.95) -> Interval:
    """Candidate proportion s1/n1 minus baseline s2/n2, with Newcombe's hybrid score interval."""
    candidate = wilson_interval(s1, n1, confidence)
    baseline = wilson_interval(s2, n2, confidence)
    if math.isnan(candidate.low) or math.isnan(baseline.low):
        return _nan_interval(NEWCOMBE_METHOD)
    difference = candidate.estimate - baseline.estimate
    below = math.hypot(candidate.estimate - candidate.low, baseline.high - baseline.estimate)
    above = math.hypot(candidate.high - candidate.estimate, baseline.estimate - baseline.low)
    return Interval(difference, difference - below, difference + above, NEWCOMBE_METHOD)


# --- rates ------------------------------------------------------------------------------------------


def _check_count_and_time(count: float, seconds: float) -> None:
    if count < 0 or seconds < 0:
        raise ValueError(f"count and seconds must be ≥ 0, got {count!r} events in {seconds!r} s")


def poisson_rate_interval(count: float, seconds: float, confidence: float = 0.95) -> Interval:
    """Events per second with the exact Garwood interval (gamma quantiles; works for non-integer counts)."""
    tail = _tail(confidence)
    _check_count_and_time(count, seconds)
    if seconds == 0:
        return _nan_interval(GARWOOD_METHOD)
    low = gammaincinv(count, tail) if count > 0 else 0.0
    high = gammaincinv(count + 1.0, 1.0 - tail)
    return Interval(count / seconds, float(low) / seconds, float(high) / seconds, GARWOOD_METHOD)


def rate_ratio_interval(c1: float, t1: float, c2: float, t2: float, confidence: float = 0.95) -> Interval:
    """Candidate rate (c1/t1) over baseline rate (c2/t2), exact conditional on c1 + c2.

    Given the total, c1 is Binomial(c1+c2, π) with π = R·t1 / (R·t1 + t2); a Clopper-Pearson interval for π
    maps to one for the ratio R.
    """
    tail = _tail(confidence)
    _check_count_and_time(c1, t1)
    _check_count_and_time(c2, t2)
    if t1 == 0 or t2 == 0 or c1 + c2 == 0:
        return _nan_interval(RATE_RATIO_METHOD)
    share_low = float(betaincinv(c1, c2 + 1.0, tail)) if c1 > 0 else 0.0
    share_high = float(betaincinv(c1 + 1.0, c2, 1.0 - tail)) if c2 > 0 else 1.0
    time_ratio = t2 / t1
    estimate = c1 / c2 * time_ratio if c2 > 0 else math.inf
    return Interval(estimate, _odds(share_low) * time_ratio, _odds(share_high) * time_ratio, RATE_RATIO_METHOD)


def _odds(share: float) -> float:
    """share / (1 - share), +Inf for a share of 1."""
    return share / (1.0 - share) if share < 1.0 else math.inf
