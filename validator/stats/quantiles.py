"""Quantiles of bucketed histograms, exactly as Prometheus computes them, and their exact intervals.

Quantiles follow Prometheus 2.42's `histogram_quantile` (cumulative counts at upper bounds, linear
interpolation inside a bucket). Their intervals are the exact bootstrap percentile intervals, computed
from order-statistic theory instead of by resampling: with N observations and the histogram's CDF F,
the k-th smallest of N resampled values (k = ceil(qN)) is ≤ x with probability
P(Binomial(N, F(x)) ≥ k) = I_F(x)(k, N-k+1), so its quantiles are F⁻¹ of Beta(k, N-k+1) quantiles.
"""

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import betaincinv, ndtri

from validator.stats.intervals import Interval, Method, MethodKind, check_q, nan_interval, tail, z_score

EXACT = Method(MethodKind.EXACT)
MIN_TAIL_OBSERVATIONS = 30  # fewer observations beyond a quantile than this cannot estimate it


def interpolate(
    edges: np.ndarray, bucket: np.ndarray, rank: np.ndarray, below: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """Prometheus's bucketQuantile for each (bucket index, rank), given the cumulative counts below and at the
    bucket: linear inside it, a first bucket with upper bound ≤ 0 answers that bound, +Inf the highest bound.

    `edges` are 0 followed by every finite upper bound.
    """
    last_finite = edges.size - 2
    inside = np.minimum(bucket, last_finite)
    start, end = edges[inside], edges[inside + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        values = start + (end - start) * ((rank - below) / (at - below))
    values = np.where((bucket == 0) & (end <= 0), end, values)
    return np.where(bucket > last_finite, edges[-1], values)


def lower_edges(upper_bounds: np.ndarray) -> np.ndarray:
    """0 followed by every finite upper bound: where each bucket starts, and the last finite bound."""
    return np.concatenate(([0.0], upper_bounds[:-1]))


@dataclass(frozen=True)
class _Buckets:
    """A histogram after Prometheus's preparation, as the piecewise-linear quantile function it implies.

    `edges` are 0 followed by every finite upper bound; `cumulative` is 0 followed by their cumulative counts;
    `observations` is the +Inf bucket's count.
    """

    edges: np.ndarray
    cumulative: np.ndarray
    observations: float

    @classmethod
    def prepare(cls, upper_bounds: np.ndarray, cumulative_counts: np.ndarray) -> "_Buckets | None":
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
        counts = _ensure_monotonic(counts)
        return cls(lower_edges(bounds), np.concatenate(([0.0], counts[:-1])), float(counts[-1]))

    def values(self, bucket: np.ndarray, rank: np.ndarray) -> np.ndarray:
        """bucketQuantile's answer for each (bucket index, rank)."""
        inside = np.minimum(bucket, self.edges.size - 2)
        return interpolate(self.edges, bucket, rank, self.cumulative[inside], self.cumulative[inside + 1])

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
    q: float, upper_bounds: np.ndarray, cumulative_counts: np.ndarray, coverage: float = 0.95
) -> Interval:
    """The q-quantile with its exact bootstrap percentile interval, no resampling (see module docstring).

    When the interval's upper end falls in the +Inf bucket the data cannot bound it, so `high` is +Inf (the
    estimate stays Prometheus's).
    """
    check_q(q)
    lower_tail = tail(coverage)
    buckets = _Buckets.prepare(upper_bounds, cumulative_counts)
    if buckets is None or not buckets.bootstrappable():
        return nan_interval(coverage, EXACT, histogram_quantile(q, upper_bounds, cumulative_counts))
    a, b = buckets.order_statistic_shape(q)
    p_low, p_high = betaincinv(a, b, np.array([lower_tail, 1.0 - lower_tail]))
    estimate, low, high = buckets.quantiles(np.array([q, p_low, p_high]))
    if p_high * buckets.observations > buckets.cumulative[-1]:
        high = math.inf
    return Interval(float(estimate), float(low), float(high), coverage, EXACT)


def quantile_bootstrap_draws(
    q: float, upper_bounds: np.ndarray, cumulative_counts: np.ndarray, n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """`n_draws` values of the resampled q-quantile: Hq(P) with P ~ Beta(k, N-k+1), the law of F at it.

    For ratio intervals between two histograms; all NaN without observations. P is drawn with
    Generator.beta, the same law as the inverse CDF betaincinv(U) but 15-90x faster at 20k draws.
    """
    check_q(q)
    if n_draws < 1:
        raise ValueError(f"n_draws must be at least 1, got {n_draws!r}")
    buckets = _Buckets.prepare(upper_bounds, cumulative_counts)
    if buckets is None or not buckets.bootstrappable():
        return np.full(n_draws, math.nan)
    a, b = buckets.order_statistic_shape(q)
    return buckets.quantiles(rng.beta(a, b, n_draws))


def ratio_interval(
    candidate_draws: np.ndarray,
    baseline_draws: np.ndarray,
    coverage: float = 0.95,
    estimate: float | None = None,
    draws: Method = EXACT,
) -> Interval:
    """Percentile interval of candidate/baseline from paired independent draws of each, made by `draws`.

    `estimate` defaults to the ratio of the draws' medians; pass the ratio of point estimates instead.
    """
    lower_tail = tail(coverage)
    method = replace(draws, ratio=True)
    candidate = np.asarray(candidate_draws, dtype=float)
    baseline = np.asarray(baseline_draws, dtype=float)
    if candidate.shape != baseline.shape or candidate.ndim != 1:
        raise ValueError(f"draws must be 1-d and of equal length, got {candidate.shape} and {baseline.shape}")
    if candidate.size == 0 or np.isnan(candidate).any() or np.isnan(baseline).any():
        return nan_interval(coverage, method, math.nan if estimate is None else estimate)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = candidate / baseline
        if estimate is None:
            estimate = float(np.median(candidate) / np.median(baseline))
    if np.isnan(ratios).any():  # 0/0 or inf/inf: no ratio to speak of
        return nan_interval(coverage, method, estimate)
    low, high = np.quantile(ratios, [lower_tail, 1.0 - lower_tail], method="inverted_cdf")  # no inf - inf
    return Interval(float(estimate), float(low), float(high), coverage, method)


def percentile_interval(draws: np.ndarray, coverage: float, estimate: float, method: Method) -> Interval:
    """The percentile bootstrap interval of `draws` around `estimate`; NaN when any draw is NaN."""
    lower_tail = tail(coverage)
    values = np.asarray(draws, dtype=float)
    if values.size == 0 or np.isnan(values).any() or math.isnan(estimate):
        return nan_interval(coverage, method, estimate)
    low, high = np.quantile(values, [lower_tail, 1.0 - lower_tail], method="inverted_cdf")
    return Interval(estimate, float(low), float(high), coverage, method)


def widen_to_bucket_edges(interval: Interval, upper_bounds: np.ndarray) -> Interval:
    """Move `low` down to the lower edge of its bucket and `high` up to the upper edge of its, since the true
    quantile may lie anywhere in the bucket; the method records which share of the width that adds.
    """
    if any(math.isnan(x) for x in (interval.low, interval.high)):
        return interval
    edges = np.concatenate(([0.0], np.unique(np.asarray(upper_bounds, dtype=float))))
    low_index = int(np.searchsorted(edges, interval.low, side="left")) - 1
    low = float(edges[max(low_index, 0)]) if interval.low > edges[0] else interval.low
    high = float(edges[min(int(np.searchsorted(edges, interval.high, side="left")), edges.size - 1)])
    high = max(high, interval.high)
    width, widened = interval.high - interval.low, high - low
    share = 1.0 - width / widened if widened > 0 and math.isfinite(widened) else 0.0
    return Interval(interval.estimate, low, high, interval.coverage, interval.method).with_method(bucket_share=share)


def lognormal_sigma(upper_bounds: np.ndarray, cumulative_counts: np.ndarray) -> float:
    """The log-scale spread of a histogram, read from its p50 and p90 as a lognormal would have them."""
    p50, p90 = (histogram_quantile(q, upper_bounds, cumulative_counts) for q in (0.5, 0.9))
    if not (p50 > 0 and p90 > 0):
        return math.nan
    return max(math.log(p90 / p50) / float(ndtri(0.9)), 1e-6)


def required_requests(q: float, sigma: float, relative_half_width: float, coverage: float = 0.95) -> int:
    """Requests needed to pin the q-quantile of a lognormal(σ) to ± `relative_half_width` at `coverage` (delta
    method), and never fewer than MIN_TAIL_OBSERVATIONS beyond it.
    """
    check_q(q)
    z = z_score(coverage)
    z_q = float(ndtri(q))
    density = math.exp(-z_q * z_q / 2) / math.sqrt(2 * math.pi)
    delta = q * (1 - q) * (z * sigma / (relative_half_width * density)) ** 2
    return math.ceil(max(delta, MIN_TAIL_OBSERVATIONS / (1.0 - q)))
