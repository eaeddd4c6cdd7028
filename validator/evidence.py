"""What a measurement rests on: the counts behind each figure, enough to recompute its interval.

One small class per kind of figure (a quantile from bucket counts, a proportion, a rate, a bare
value). Each turns itself into an interval at any confidence level and compares itself with the
same kind of evidence from the baseline. Measurements and baselines store these, never bare numbers.
"""

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from validator import stats
from validator.stats import Interval

RATIO_DRAWS = 20_000
RATIO_SEED = 20261123  # fixed, so a re-rendered verdict is identical


@dataclass(frozen=True)
class Change:
    """Candidate against baseline: a ratio (latency, throughput) or a difference (success rate)."""

    kind: str  # "ratio" or "difference"
    interval: Interval


class IncomparableEvidence(ValueError):
    """The baseline holds a different kind of evidence for this metric than the candidate."""


@dataclass(frozen=True)
class QuantileEvidence:
    """A quantile of a classic (cumulative, le-labelled) histogram: the bucket counts over the window."""

    kind: ClassVar[str] = "quantile"
    q: float
    upper_bounds: tuple[float, ...]
    cumulative_counts: tuple[float, ...]

    @property
    def total(self) -> float:
        return self.cumulative_counts[-1] if self.cumulative_counts else 0.0

    def estimate(self) -> float:
        return stats.histogram_quantile(self.q, self._bounds(), self._counts())

    def interval(self, confidence: float) -> Interval:
        return stats.quantile_interval(self.q, self._bounds(), self._counts(), confidence)

    def change_vs(self, baseline: "Evidence", confidence: float) -> Change:
        base = _same_kind(self, baseline)
        rng = np.random.default_rng(RATIO_SEED)
        candidate_draws = stats.quantile_bootstrap_draws(self.q, self._bounds(), self._counts(), RATIO_DRAWS, rng)
        baseline_draws = stats.quantile_bootstrap_draws(base.q, base._bounds(), base._counts(), RATIO_DRAWS, rng)
        estimate = self.estimate() / base.estimate()
        return Change("ratio", stats.ratio_interval(candidate_draws, baseline_draws, confidence, estimate))

    def _bounds(self) -> np.ndarray:
        return np.asarray(self.upper_bounds, dtype=float)

    def _counts(self) -> np.ndarray:
        return np.asarray(self.cumulative_counts, dtype=float)

    def to_dict(self) -> dict[str, Any]:
        bounds = ["+Inf" if math.isinf(b) else b for b in self.upper_bounds]
        return {
            "kind": self.kind,
            "q": self.q,
            "upper_bounds": bounds,
            "cumulative_counts": list(self.cumulative_counts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "QuantileEvidence":
        bounds = tuple(float(b) for b in data["upper_bounds"])
        return cls(float(data["q"]), bounds, tuple(float(c) for c in data["cumulative_counts"]))


@dataclass(frozen=True)
class ProportionEvidence:
    """A share of successes among all requests (success rate), judged with Wilson score intervals."""

    kind: ClassVar[str] = "proportion"
    successes: float
    total: float

    def estimate(self) -> float:
        return self.successes / self.total if self.total > 0 else math.nan

    def interval(self, confidence: float) -> Interval:
        return stats.wilson_interval(self.successes, self.total, confidence)

    def change_vs(self, baseline: "Evidence", confidence: float) -> Change:
        base = _same_kind(self, baseline)
        interval = stats.proportion_difference_interval(
            self.successes, self.total, base.successes, base.total, confidence
        )
        return Change("difference", interval)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "successes": self.successes, "total": self.total}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ProportionEvidence":
        return cls(float(data["successes"]), float(data["total"]))


@dataclass(frozen=True)
class RateEvidence:
    """Events per second over a window (throughput), judged with exact Poisson intervals."""

    kind: ClassVar[str] = "rate"
    count: float
    seconds: float

    def estimate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else math.nan

    def interval(self, confidence: float) -> Interval:
        return stats.poisson_rate_interval(self.count, self.seconds, confidence)

    def change_vs(self, baseline: "Evidence", confidence: float) -> Change:
        base = _same_kind(self, baseline)
        return Change(
            "ratio", stats.rate_ratio_interval(self.count, self.seconds, base.count, base.seconds, confidence)
        )

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RateEvidence":
        return cls(float(data["count"]), float(data["seconds"]))


@dataclass(frozen=True)
class ScalarEvidence:
    """A single number from a custom PromQL query: no counts behind it, so no sampling interval."""

    kind: ClassVar[str] = "scalar"
    value: float
    method: ClassVar[str] = "none (single PromQL value)"

    def estimate(self) -> float:
        return self.value

    def interval(self, confidence: float) -> Interval:
        return Interval(self.value, self.value, self.value, self.method)

    def change_vs(self, baseline: "Evidence", confidence: float) -> Change:
        base = _same_kind(self, baseline)
        ratio = self.value / base.value if base.value else math.nan
        return Change("ratio", Interval(ratio, ratio, ratio, self.method))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScalarEvidence":
        return cls(float(data["value"]))


Evidence = QuantileEvidence | ProportionEvidence | RateEvidence | ScalarEvidence
_KINDS: dict[str, type] = {
    cls.kind: cls for cls in (QuantileEvidence, ProportionEvidence, RateEvidence, ScalarEvidence)
}


def evidence_from_dict(data: dict[str, Any]) -> Evidence:
    """Rebuild evidence from its JSON form (metrics.json, baselines)."""
    kind = data.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"evidence kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    return _KINDS[kind].from_dict(data)


def _same_kind(candidate: Any, baseline: object) -> Any:
    if type(baseline) is not type(candidate):
        raise IncomparableEvidence(f"baseline holds {getattr(baseline, 'kind', '?')} evidence, not {candidate.kind}")
    return baseline


@dataclass(frozen=True)
class Measurement:
    """A named figure as measured: where it came from and the evidence behind it, or why it is missing."""

    metric: str
    source: str
    evidence: Evidence | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        evidence = None if self.evidence is None else self.evidence.to_dict()
        return {"metric": self.metric, "source": self.source, "evidence": evidence, "error": self.error}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Measurement":
        evidence = None if data.get("evidence") is None else evidence_from_dict(data["evidence"])
        return cls(data["metric"], data.get("source", ""), evidence, data.get("error"))
