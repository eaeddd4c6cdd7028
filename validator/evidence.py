"""What a measurement rests on: the counts behind each figure, enough to recompute its interval.

One small class per kind of figure (a quantile from bucket counts, a proportion, a rate, a bare
value). Each turns itself into an interval at any confidence level and compares itself with the
same kind of evidence from the baseline. Measurements and baselines store these, never bare numbers.
"""

import math
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from validator import stats
from validator.stats import Interval, Resampling

RATIO_DRAWS = 20_000  # exact order-statistic draws per side (cheap: no resampling)
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Change:
    """Candidate against baseline: a ratio (latency, throughput) or a difference (success rate)."""

    kind: str  # "ratio" or "difference"
    interval: Interval


class IncomparableEvidence(ValueError):
    """The baseline holds a different kind of evidence for this metric than the candidate."""


@dataclass(frozen=True)
class RunNoise:
    """Run-to-run standard deviation of a figure beyond sampling error (log scale for ratios, linear for
    differences), measured from `runs` repeated baseline runs of one build."""

    sd: float
    runs: int

    def to_dict(self) -> dict[str, Any]:
        return {"sd": self.sd, "runs": self.runs}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunNoise":
        return cls(float(data["sd"]), int(data["runs"]))


DEFAULT_RESAMPLING = Resampling()


@dataclass(frozen=True)
class QuantileEvidence:
    """A quantile of a classic (cumulative, le-labelled) histogram: the bucket counts over the window, and
    per run the same counts per one-second window (what the block and hierarchical bootstraps resample)."""

    kind: ClassVar[str] = "quantile"
    q: float
    upper_bounds: tuple[float, ...]
    cumulative_counts: tuple[float, ...]
    windows: tuple[np.ndarray, ...] = field(default=(), compare=False)  # per run: (windows, buckets) cumulative
    _memo: dict[tuple[int, int, bool], tuple[np.ndarray, str]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @property
    def total(self) -> float:
        return self.cumulative_counts[-1] if self.cumulative_counts else 0.0

    @property
    def runs(self) -> int:
        return max(1, len(self.windows))

    def estimate(self) -> float:
        return stats.histogram_quantile(self.q, self._bounds(), self._counts())

    def interval(self, confidence: float, resampling: Resampling = DEFAULT_RESAMPLING, widen: bool = True) -> Interval:
        """The quantile's interval by the chosen method, widened to bucket edges (the true value may lie anywhere
        in its bucket) unless `widen` is False."""
        method = self._method(resampling.method, [self])
        if method == "exact":
            interval = stats.quantile_interval(self.q, self._bounds(), self._counts(), confidence)
            interval = replace(interval, method=_method_text(resampling.method, interval.method))
        else:
            draws, description = self._draws(resampling, resampling.seed, resample_runs=True)
            interval = stats.percentile_interval(
                draws, confidence, self.estimate(), _method_text(resampling.method, description)
            )
        return stats.widen_to_bucket_edges(interval, self._bounds()) if widen else interval

    def change_vs(
        self,
        baseline: "Evidence",
        confidence: float,
        resampling: Resampling = DEFAULT_RESAMPLING,
        noise: RunNoise | None = None,
        between_runs: bool = True,
    ) -> Change:
        """Candidate ÷ baseline. With three runs or more in all (each with its windows), from the spread of the
        runs' own estimates, which holds run-to-run noise; otherwise from independent within-run draws (exact
        or block), widened by the baseline's run-to-run noise floor when it has one. `between_runs` False keeps
        to within-run draws (sampling error alone, for comparing quantiles of the same runs)."""
        base = _same_kind(self, baseline)
        estimate = self.estimate() / base.estimate()
        if between_runs and self.windows and base.windows and self.runs + base.runs >= 3:
            (ours, our_sds), (theirs, their_sds) = self._run_estimates(), base._run_estimates()
            floor = math.sqrt(float(np.mean(np.concatenate((our_sds, their_sds)) ** 2)))
            return Change("ratio", stats.between_run_ratio_interval(ours, theirs, estimate, confidence, floor))
        if self._method(resampling.method, [self, base]) == "exact":
            rng = np.random.default_rng(resampling.seed)
            draws = [
                stats.quantile_bootstrap_draws(e.q, e._bounds(), e._counts(), RATIO_DRAWS, rng) for e in (self, base)
            ]
            interval = stats.ratio_interval(draws[0], draws[1], confidence, estimate)
            method = _method_text(resampling.method, f"{interval.method} of exact order-statistic draws")
        else:
            candidate, described = self._draws(resampling, resampling.seed, False)
            reference, _ = base._draws(resampling, resampling.seed + 1, False)
            interval = stats.ratio_interval(candidate, reference, confidence, estimate)
            method = _method_text(resampling.method, f"ratio of independent {described}")
        if not between_runs:
            return Change("ratio", replace(interval, method=method))
        return Change("ratio", _with_run_noise(replace(interval, method=method), noise, self.runs, True, confidence))

    def _run_estimates(self) -> tuple[np.ndarray, np.ndarray]:
        """Each run's own log-quantile (from its windows' summed counts) and its log-scale sampling SD if its
        requests were independent (exact order statistics): the least it varies, as positive autocorrelation
        only adds to it. NaN log for a run without observations, +Inf SD where the data cannot bound it."""
        bounds = self._bounds()
        logs, sds = [], []
        for run in self.windows:
            interval = stats.quantile_interval(self.q, bounds, run.sum(axis=0), 0.95)
            with np.errstate(divide="ignore", invalid="ignore"):
                logs.append(np.log(interval.estimate) if interval.estimate > 0 else math.nan)
                sds.append((np.log(interval.high) - np.log(interval.low)) / (2 * Z95))
        return np.array(logs, dtype=float), np.nan_to_num(np.array(sds, dtype=float), nan=math.inf)

    def at(self, q: float) -> "QuantileEvidence":
        """The same counts read at another quantile."""
        return replace(self, q=q)

    def spread(self, resampling: Resampling = DEFAULT_RESAMPLING) -> tuple[float, float]:
        """(log estimate, sampling standard deviation of it), from the unwidened 95 % interval."""
        interval = self.interval(0.95, resampling, widen=False)
        return math.log(interval.estimate), (math.log(interval.high) - math.log(interval.low)) / (2 * Z95)

    def pooled(self, others: "list[Evidence]") -> "QuantileEvidence":
        """One evidence over several runs: counts summed, each run's windows kept apart."""
        parts = [self, *(_same_kind(self, other) for other in others)]
        if any(part.upper_bounds != self.upper_bounds for part in parts):
            raise IncomparableEvidence("the runs' histograms have different bucket bounds")
        counts = tuple(float(x) for x in np.sum([part._counts() for part in parts], axis=0))
        windows = tuple(w for part in parts for w in part.windows)
        return QuantileEvidence(self.q, self.upper_bounds, counts, windows if all(p.windows for p in parts) else ())

    def tail_observations(self) -> float:
        """How many observations lie beyond the quantile."""
        return self.total * (1.0 - self.q)

    def required_requests(self, relative_half_width: float, confidence: float) -> int:
        """Requests needed to estimate this quantile to ± `relative_half_width` (lognormal tail assumed)."""
        sigma = stats.lognormal_sigma(self._bounds(), self._counts())
        sigma = sigma if math.isfinite(sigma) else 1.0
        return stats.required_requests(self.q, sigma, relative_half_width, confidence)

    def _method(self, requested: str, sides: "list[QuantileEvidence]") -> str:
        if any(not side.windows for side in sides):
            return "exact"
        return stats.choose_method(requested, [w.shape[0] for side in sides for w in side.windows])

    def _draws(self, resampling: Resampling, seed: int, resample_runs: bool) -> tuple[np.ndarray, str]:
        """Bootstrap draws of this quantile, memoised: a gate's interval and its ratio share them."""
        key = (seed, resampling.resamples, resample_runs and self.runs > 1)
        if key not in self._memo:
            self._memo[key] = stats.windowed_quantile_draws(
                self.q, self._bounds(), list(self.windows), resampling.resamples, seed, resample_runs
            )
        return self._memo[key]

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
            "windows": [[_encode_window(row) for row in run] for run in self.windows],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "QuantileEvidence":
        bounds = tuple(float(b) for b in data["upper_bounds"])
        windows = tuple(
            np.array([_decode_window(row, len(bounds)) for row in run], dtype=float).reshape(-1, len(bounds))
            for run in data.get("windows", [])
        )
        return cls(float(data["q"]), bounds, tuple(float(c) for c in data["cumulative_counts"]), windows)


def _encode_window(cumulative: np.ndarray) -> dict[str, Any]:
    """One window's cumulative bucket counts as the per-bucket counts between its first and last non-zero."""
    counts = np.diff(np.asarray(cumulative, dtype=float), prepend=0.0)
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        return {"from": 0, "counts": []}
    first, last = int(nonzero[0]), int(nonzero[-1])
    return {"from": first, "counts": [int(c) if float(c).is_integer() else float(c) for c in counts[first : last + 1]]}


def _decode_window(data: dict[str, Any], n_buckets: int) -> np.ndarray:
    counts = np.zeros(n_buckets)
    values = np.asarray(data["counts"], dtype=float)
    start = int(data["from"])
    if start < 0 or start + values.size > n_buckets:
        raise ValueError(f"a window's counts run past the {n_buckets} buckets")
    counts[start : start + values.size] = values
    return np.cumsum(counts)


def _method_text(requested: str, method: str) -> str:
    """The method as the report shows it, saying when `auto` chose it."""
    return f"auto → {method}" if requested == "auto" else method


def _with_run_noise(
    interval: Interval, noise: RunNoise | None, runs: int, log_scale: bool, confidence: float
) -> Interval:
    """Widen a change interval by run-to-run noise: var = sd²·(1/candidate runs + 1/baseline runs)."""
    if noise is None or not math.isfinite(noise.sd):
        return replace(interval, method=f"{interval.method}; run-to-run noise not included (baseline holds one run)")
    extra = noise.sd * math.sqrt(1.0 / runs + 1.0 / noise.runs)
    shown = f"{noise.sd * 100:.2f} %" if log_scale else f"{noise.sd * 100:.3f} pp"
    note = f"widened by the baseline's run-to-run noise floor (σ {shown}, {noise.runs} runs; {runs} candidate run(s))"
    return stats.widen_for_run_noise(interval, extra, confidence, log_scale, note)


@dataclass(frozen=True)
class ProportionEvidence:
    """A share of successes among all requests (success rate), judged with Wilson score intervals."""

    kind: ClassVar[str] = "proportion"
    successes: float
    total: float
    runs: int = 1

    def estimate(self) -> float:
        return self.successes / self.total if self.total > 0 else math.nan

    def interval(self, confidence: float, resampling: Resampling = DEFAULT_RESAMPLING, widen: bool = True) -> Interval:
        return stats.wilson_interval(self.successes, self.total, confidence)

    def change_vs(
        self,
        baseline: "Evidence",
        confidence: float,
        resampling: Resampling = DEFAULT_RESAMPLING,
        noise: RunNoise | None = None,
    ) -> Change:
        base = _same_kind(self, baseline)
        interval = stats.proportion_difference_interval(
            self.successes, self.total, base.successes, base.total, confidence
        )
        return Change("difference", _with_run_noise(interval, noise, self.runs, False, confidence))

    def spread(self, resampling: Resampling = DEFAULT_RESAMPLING) -> tuple[float, float]:
        """(proportion, its sampling standard deviation from the Wilson interval)."""
        interval = self.interval(0.95)
        return interval.estimate, (interval.high - interval.low) / (2 * Z95)

    def pooled(self, others: "list[Evidence]") -> "ProportionEvidence":
        parts = [self, *(_same_kind(self, other) for other in others)]
        return ProportionEvidence(sum(p.successes for p in parts), sum(p.total for p in parts), len(parts))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "successes": self.successes, "total": self.total, "runs": self.runs}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ProportionEvidence":
        return cls(float(data["successes"]), float(data["total"]), int(data.get("runs", 1)))


@dataclass(frozen=True)
class RateEvidence:
    """Events per second over a window (throughput), judged with exact Poisson intervals."""

    kind: ClassVar[str] = "rate"
    count: float
    seconds: float
    runs: int = 1

    def estimate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else math.nan

    def interval(self, confidence: float, resampling: Resampling = DEFAULT_RESAMPLING, widen: bool = True) -> Interval:
        return stats.poisson_rate_interval(self.count, self.seconds, confidence)

    def change_vs(
        self,
        baseline: "Evidence",
        confidence: float,
        resampling: Resampling = DEFAULT_RESAMPLING,
        noise: RunNoise | None = None,
    ) -> Change:
        base = _same_kind(self, baseline)
        interval = stats.rate_ratio_interval(self.count, self.seconds, base.count, base.seconds, confidence)
        return Change("ratio", _with_run_noise(interval, noise, self.runs, True, confidence))

    def spread(self, resampling: Resampling = DEFAULT_RESAMPLING) -> tuple[float, float]:
        """(log rate, its sampling standard deviation from the Garwood interval)."""
        interval = self.interval(0.95)
        return math.log(interval.estimate), (math.log(interval.high) - math.log(interval.low)) / (2 * Z95)

    def pooled(self, others: "list[Evidence]") -> "RateEvidence":
        parts = [self, *(_same_kind(self, other) for other in others)]
        return RateEvidence(sum(p.count for p in parts), sum(p.seconds for p in parts), len(parts))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count, "seconds": self.seconds, "runs": self.runs}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RateEvidence":
        return cls(float(data["count"]), float(data["seconds"]), int(data.get("runs", 1)))


@dataclass(frozen=True)
class ScalarEvidence:
    """A single number from a custom PromQL query: no counts behind it, so no sampling interval."""

    kind: ClassVar[str] = "scalar"
    value: float
    method: ClassVar[str] = "none (single PromQL value)"
    runs: int = 1

    def estimate(self) -> float:
        return self.value

    def interval(self, confidence: float, resampling: Resampling = DEFAULT_RESAMPLING, widen: bool = True) -> Interval:
        return Interval(self.value, self.value, self.value, self.method)

    def change_vs(
        self,
        baseline: "Evidence",
        confidence: float,
        resampling: Resampling = DEFAULT_RESAMPLING,
        noise: RunNoise | None = None,
    ) -> Change:
        base = _same_kind(self, baseline)
        ratio = self.value / base.value if base.value else math.nan
        return Change("ratio", Interval(ratio, ratio, ratio, self.method))

    def spread(self, resampling: Resampling = DEFAULT_RESAMPLING) -> tuple[float, float]:
        """(value, 0): a single number carries no sampling error."""
        return self.value, 0.0

    def pooled(self, others: "list[Evidence]") -> "ScalarEvidence":
        parts = [self, *(_same_kind(self, other) for other in others)]
        return ScalarEvidence(float(np.mean([p.value for p in parts])), len(parts))

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
    run_noise: RunNoise | None = None  # baselines of several runs: their run-to-run noise

    def to_dict(self) -> dict[str, Any]:
        evidence = None if self.evidence is None else self.evidence.to_dict()
        data = {"metric": self.metric, "source": self.source, "evidence": evidence, "error": self.error}
        if self.run_noise is not None:
            data["run_noise"] = self.run_noise.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Measurement":
        evidence = None if data.get("evidence") is None else evidence_from_dict(data["evidence"])
        noise = None if data.get("run_noise") is None else RunNoise.from_dict(data["run_noise"])
        return cls(data["metric"], data.get("source", ""), evidence, data.get("error"), noise)
