"""Can a classic histogram's buckets decide a latency gate? Which bucket holds the quantile, whether the bound
(or the tolerated change) lies inside it, and which bucket boundaries would resolve it. Values only."""

import math
from dataclasses import dataclass
from typing import Any

from validator.evidence import QuantileEvidence

STEP = 1.1  # recommended boundaries are ×1.1 apart around what must be resolved
RECOMMENDED = 7  # at most this many boundaries


@dataclass(frozen=True)
class Resolution:
    """A quantile whose bucket is too wide for a bound: the bucket's edges, what had to be resolved (a bound in
    seconds, or a relative change), and boundaries that would resolve it (seconds)."""

    quantile: float
    estimate: float
    bucket_low: float
    bucket_high: float
    limit: float | None  # the absolute bound inside the bucket
    tolerance: float | None  # the tolerated relative change the bucket is wider than
    recommended: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON form (an unbounded edge is null, so the document stays strict JSON)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in vars(self).items()} | {
            "recommended": list(self.recommended)
        }


def bucket_of(evidence: QuantileEvidence, value: float) -> tuple[float, float]:
    """(lower, upper) edges of the bucket holding `value` (lower 0 for the first bucket)."""
    lower = 0.0
    for upper in evidence.upper_bounds:
        if value <= upper:
            return lower, upper
        lower = upper
    return lower, math.inf


def bound_resolution(evidence: QuantileEvidence, limit: float) -> Resolution | None:
    """A Resolution when the bucket holding the quantile also holds `limit` strictly inside it: the figure is then
    an interpolation that cannot say on which side of the bound the quantile lies."""
    estimate = evidence.estimate()
    if not math.isfinite(estimate):
        return None
    low, high = bucket_of(evidence, estimate)
    if not low < limit < high:
        return None
    return Resolution(evidence.q, estimate, low, high, limit, None, recommend(low, high, limit))


def change_resolution(evidence: QuantileEvidence, tolerance: float) -> Resolution | None:
    """A Resolution when the bucket holding the quantile is more than ×(1 + tolerance) wide: a change of that
    size can stay inside one bucket, where interpolation does not see it."""
    estimate = evidence.estimate()
    if not math.isfinite(estimate):
        return None
    low, high = bucket_of(evidence, estimate)
    if low > 0 and high / low <= 1 + tolerance:
        return None
    return Resolution(evidence.q, estimate, low, high, None, tolerance, recommend(low, high, estimate))


def recommend(low: float, high: float, around: float) -> tuple[float, ...]:
    """Up to RECOMMENDED boundaries ×STEP apart centred on `around`, strictly inside (low, high), 3 significant
    digits (seconds)."""
    span = RECOMMENDED // 2
    points = {_round3(around * STEP**k) for k in range(-span, span + 1)}
    inside = sorted(p for p in points if low < p < high)
    return tuple(inside)


def _round3(value: float) -> float:
    if value <= 0:
        return value
    digits = 2 - math.floor(math.log10(value))
    return round(value, digits)
