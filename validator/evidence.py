"""What a measurement rests on: the counts behind each figure, enough to recompute its interval.

One small class per kind of figure (a quantile from bucket counts, a proportion, a rate, a bare
value). Each turns itself into an interval at any coverage and compares itself with the same kind of
evidence from the baseline by its within-run sampling; which comparison a gate uses is decided in
`validator.judge.analysis`. Measurements and baselines store these, never bare numbers.
"""

import math
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, Self

import numpy as np

from validator.errors import FieldError, IncomparableEvidence
from validator.spec import Resampling
from validator.spec.gates import ChangeScale
from validator.stats import counts, quantiles, resampling, runs
from validator.stats.intervals import Interval, Method, MethodKind, implied_sd

RATIO_DRAWS = 20_000  # exact order-statistic draws per side (cheap: no resampling)
SPREAD_COVERAGE = 0.95  # the interval a figure's sampling standard deviation is read from
DEFAULT_RESAMPLING = Resampling()


@dataclass(frozen=True)
class Change:
    """Candidate against baseline: a ratio (latency, throughput) or a difference (success rate)."""

    kind: ChangeScale
    interval: Interval


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


def encode_window(cumulative: np.ndarray) -> dict[str, Any]:
    """One window's cumulative bucket counts as the per-bucket counts between its first and last non-zero."""
    per_bucket = np.diff(np.asarray(cumulative, dtype=float), prepend=0.0)
    nonzero = np.flatnonzero(per_bucket)
    if nonzero.size == 0:
        return {"from": 0, "counts": []}
    first, last = int(nonzero[0]), int(nonzero[-1])
    return {
        "from": first,
        "counts": [int(c) if float(c).is_integer() else float(c) for c in per_bucket[first : last + 1]],
    }


def decode_window(data: dict[str, Any], n_buckets: int) -> np.ndarray:
    per_bucket = np.zeros(n_buckets)
    values = np.asarray(data["counts"], dtype=float)
    start = int(data["from"])
    if start < 0 or start + values.size > n_buckets:
        raise ValueError(f"a window's counts run past the {n_buckets} buckets")
    per_bucket[start : start + values.size] = values
    return np.cumsum(per_bucket)


class Evidence(Protocol):
    """What every kind of evidence offers the gates, the baseline and the report."""

    kind: ClassVar[str]

    @property
    def runs(self) -> int: ...

    def estimate(self) -> float: ...

    def interval(self, coverage: float, resampling: Resampling = DEFAULT_RESAMPLING, widen: bool = True) -> Interval:
        """The figure with its two-sided interval at `coverage`."""
        ...

    def change_vs(self, baseline: "Evidence", coverage: float, resampling: Resampling = DEFAULT_RESAMPLING) -> Change:
        """Candidate against `baseline` of the same kind, from each side's within-run sampling error alone."""
        ...

    def spread(self, resampling: Resampling = DEFAULT_RESAMPLING) -> tuple[float, float]:
        """(estimate, its sampling standard deviation) on the comparison scale (log for ratios)."""
        ...

    def pooled(self, others: "list[Evidence]") -> "Evidence": ...

    def to_dict(self) -> dict[str, Any]: ...

    def check(self) -> None:
        """FieldError (naming the field) unless the numbers are ones a measurement could give."""
        ...


def _check_counts(name: str, counts: np.ndarray, along: int = 0) -> None:
    """FieldError unless `counts` are finite, non-negative and non-decreasing along the bucket axis."""
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise FieldError(name, "finite counts of zero or more")
    if counts.size and np.any(np.diff(counts, axis=along) < 0):
        raise FieldError(name, "cumulative counts that never decrease from one bucket to the next")


@dataclass(frozen=True)
class QuantileEvidence:
    """A quantile of a classic (cumulative, le-labelled) histogram: the bucket counts over the window, and
    per run the same counts per one-second window (what the block and hierarchical bootstraps resample)."""

    kind: ClassVar[str] = "quantile"
    q: float
    upper_bounds: tuple[float, ...]
    cumulative_counts: tuple[float, ...]
    windows: tuple[np.ndarray, ...] = field(default=(), compare=False)  # per run: (windows, buckets) cumulative
    _memo: dict[tuple[int, int, bool], tuple[np.ndarray, Method]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @property
    def total(self) -> float:
        return self.cumulative_counts[-1] if self.cumulative_counts else 0.0

    @property
    def runs(self) -> int:
        return max(1, len(self.windows))

    def estimate(self) -> float:
        return quantiles.histogram_quantile(self.q, self._bounds(), self._counts())

    def interval(self, coverage: float, resampling: Resampling = DEFAULT_RESAMPLING, widen: bool = True) -> Interval:
        """The quantile's interval by the configured method, widened to bucket edges (the true value may lie
        anywhere in its bucket) unless `widen` is False."""
        auto = resampling.method == "auto"
        if self._method(resampling.method, [self]) == "exact":
            interval = quantiles.quantile_interval(self.q, self._bounds(), self._counts(), coverage)
        else:
            draws, method = self._draws(resampling, resampling.seed, resample_runs=True)
            interval = quantiles.percentile_interval(draws, coverage, self.estimate(), method)
        interval = interval.with_method(auto=auto)
        return quantiles.widen_to_bucket_edges(interval, self._bounds()) if widen else interval

    def change_vs(self, baseline: "Evidence", coverage: float, resampling: Resampling = DEFAULT_RESAMPLING) -> Change:
        """Candidate ÷ baseline from independent within-run draws of each side (exact, or block draws)."""
        base = _same_kind(self, baseline)
        estimate = self.estimate() / base.estimate()
        if self._method(resampling.method, [self, base]) == "exact":
            rng = np.random.default_rng(resampling.seed)
            draws = [
                quantiles.quantile_bootstrap_draws(e.q, e._bounds(), e._counts(), RATIO_DRAWS, rng)
                for e in (self, base)
            ]
            interval = quantiles.ratio_interval(draws[0], draws[1], coverage, estimate)
        else:
            candidate, method = self._draws(resampling, resampling.seed, False)
            reference, _ = base._draws(resampling, resampling.seed + 1, False)
            interval = quantiles.ratio_interval(candidate, reference, coverage, estimate, method)
        return Change("ratio", interval.with_method(auto=resampling.method == "auto"))

    def between_runs_change(self, baseline: "Evidence", coverage: float) -> Change:
        """Candidate ÷ baseline from the spread of every run's own estimate (which holds run-to-run noise), floored
        at a run's independent-sampling error."""
        base = _same_kind(self, baseline)
        estimate = self.estimate() / base.estimate()
        (ours, our_sds), (theirs, their_sds) = self._run_estimates(), base._run_estimates()
        floor = math.sqrt(float(np.mean(np.concatenate((our_sds, their_sds)) ** 2)))
        return Change("ratio", runs.between_run_ratio_interval(ours, theirs, estimate, coverage, floor))

    def between_runs_interval(self, coverage: float) -> Interval:
        """This figure over its runs from the spread of every run's own estimate (Student t, k - 1 df), floored at
        a run's independent-sampling error, around the pooled estimate, widened to bucket edges."""
        logs, sds = self._run_estimates()
        floor = math.sqrt(float(np.mean(sds**2)))
        interval = runs.between_run_interval(logs, None, self.estimate(), coverage, floor)
        return quantiles.widen_to_bucket_edges(interval, self._bounds())

    def _run_estimates(self) -> tuple[np.ndarray, np.ndarray]:
        """Each run's own log-quantile (from its windows' summed counts) and its log-scale sampling SD if its
        requests were independent (exact order statistics): the least it varies, as positive autocorrelation
        only adds to it. NaN log for a run without observations, +Inf SD where the data cannot bound it."""
        bounds = self._bounds()
        logs, sds = [], []
        for run in self.windows:
            interval = quantiles.quantile_interval(self.q, bounds, run.sum(axis=0), SPREAD_COVERAGE)
            logs.append(math.log(interval.estimate) if interval.estimate > 0 else math.nan)
            sds.append(implied_sd(interval, log_scale=True))
        return np.array(logs, dtype=float), np.nan_to_num(np.array(sds, dtype=float), nan=math.inf)

    def at(self, q: float) -> "QuantileEvidence":
        """The same counts read at another quantile (itself at its own, so the draws it made are reused)."""
        return self if q == self.q else replace(self, q=q)

    def same_counts(self, other: "QuantileEvidence") -> bool:
        """Whether both hold the very same counts: bounds, totals and every run's windows."""
        if (self.upper_bounds, self.cumulative_counts) != (other.upper_bounds, other.cumulative_counts):
            return False
        if len(self.windows) != len(other.windows):
            return False
        return all(a is b or np.array_equal(a, b) for a, b in zip(self.windows, other.windows, strict=True))

    def spread(self, resampling: Resampling = DEFAULT_RESAMPLING) -> tuple[float, float]:
        """(log estimate, sampling standard deviation of it), from the unwidened interval."""
        interval = self.interval(SPREAD_COVERAGE, resampling, widen=False)
        return math.log(interval.estimate), implied_sd(interval, log_scale=True)

    def pooled(self, others: "list[Evidence]") -> "QuantileEvidence":
        """One evidence over several runs: counts summed, each run's windows kept apart."""
        parts = [self, *(_same_kind(self, other) for other in others)]
        if any(part.upper_bounds != self.upper_bounds for part in parts):
            raise IncomparableEvidence("the runs' histograms have different bucket bounds")
        counts_ = tuple(float(x) for x in np.sum([part._counts() for part in parts], axis=0))
        windows = tuple(w for part in parts for w in part.windows)
        return QuantileEvidence(self.q, self.upper_bounds, counts_, windows if all(p.windows for p in parts) else ())

    def tail_observations(self) -> float:
        """How many observations lie beyond the quantile."""
        return self.total * (1.0 - self.q)

    def required_requests(self, relative_half_width: float, coverage: float) -> int:
        """Requests needed to estimate this quantile to ± `relative_half_width` (lognormal tail assumed)."""
        sigma = quantiles.lognormal_sigma(self._bounds(), self._counts())
        sigma = sigma if math.isfinite(sigma) else 1.0
        return quantiles.required_requests(self.q, sigma, relative_half_width, coverage)

    def _method(self, requested: str, sides: "list[QuantileEvidence]") -> str:
        if any(not side.windows for side in sides):
            return "exact"
        return resampling.choose_method(requested, [w.shape[0] for side in sides for w in side.windows])

    def _draws(self, config: Resampling, seed: int, resample_runs: bool) -> tuple[np.ndarray, Method]:
        """Bootstrap draws of this quantile, memoised: a gate's interval and its ratio share them."""
        key = (seed, config.resamples, resample_runs and self.runs > 1)
        if key not in self._memo:
            self._memo[key] = resampling.windowed_quantile_draws(
                self.q, self._bounds(), list(self.windows), config.resamples, seed, resample_runs
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
            "windows": [[encode_window(row) for row in run] for run in self.windows],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "QuantileEvidence":
        bounds = tuple(float(b) for b in data["upper_bounds"])
        windows = tuple(
            np.array([decode_window(row, len(bounds)) for row in run], dtype=float).reshape(-1, len(bounds))
            for run in data.get("windows", [])
        )
        return cls(float(data["q"]), bounds, tuple(float(c) for c in data["cumulative_counts"]), windows)

    def check(self) -> None:
        """FieldError unless the histogram is one Prometheus could have given: a quantile in (0, 1), bounds that
        rise to +Inf, one finite, non-negative, non-decreasing cumulative count per bound, sound windows."""
        bounds, counts = np.asarray(self.upper_bounds, dtype=float), np.asarray(self.cumulative_counts, dtype=float)
        if not 0 < self.q < 1:
            raise FieldError("q", "a quantile between 0 and 1")
        if bounds.size < 2 or np.any(np.diff(bounds) < 0) or not math.isinf(bounds[-1]):
            raise FieldError("upper_bounds", "bucket bounds in rising order ending with +Inf")
        if counts.shape != bounds.shape:
            raise FieldError("cumulative_counts", f"one count per bucket bound ({bounds.size})")
        _check_counts("cumulative_counts", counts)
        for run in self.windows:
            _check_counts("windows", np.asarray(run, dtype=float), along=1)


@dataclass(frozen=True)
class _CountEvidence:
    """Events over an exposure (successes among requests, requests over seconds): the two numbers a subclass
    names in `fields`, its interval and change functions, pooled over runs by summing both numbers."""

    kind: ClassVar[str]
    fields: ClassVar[tuple[str, str]]
    change_kind: ClassVar[ChangeScale]  # "ratio" (compared on the log scale) or "difference" (linear)
    runs: int = field(default=1, kw_only=True)
    per_run: tuple[tuple[float, float], ...] = field(default=(), kw_only=True, compare=False)  # each run's pair

    def _pair(self) -> tuple[float, float]:
        return getattr(self, self.fields[0]), getattr(self, self.fields[1])

    @classmethod
    def of(cls, count: float, exposure: float, runs: int = 1, per_run: tuple[tuple[float, float], ...] = ()) -> Self:
        """The evidence from its two numbers in `fields` order (each subclass declares them as its own fields)."""
        return cls(count, exposure, runs=runs, per_run=per_run)  # type: ignore[misc, arg-type]

    @staticmethod
    def interval_of(count: float, exposure: float, coverage: float, /) -> Interval:
        """The figure's interval from its two numbers (the subclass's method)."""
        raise NotImplementedError

    @staticmethod
    def change_of(count: float, exposure: float, base_count: float, base_exposure: float, coverage: float, /
                  ) -> Interval:
        """The change against a baseline's two numbers (the subclass's method)."""
        raise NotImplementedError

    def check(self) -> None:
        """FieldError unless both numbers (and each run's) are finite and non-negative, with the subclass's own
        relation between them, and `runs` is at least 1."""
        if self.runs < 1:
            raise FieldError("runs", "a whole number of runs of at least 1")
        for where, (count, exposure) in [("", self._pair()), *(("per_run", pair) for pair in self.per_run)]:
            for name, value in zip(self.fields, (count, exposure), strict=True):
                if not (math.isfinite(value) and value >= 0):
                    raise FieldError(where or name, "finite numbers of zero or more")
            relation = self.related(count, exposure)
            if relation is not None:
                raise FieldError(where or self.fields[0], relation)

    @staticmethod
    def related(count: float, exposure: float) -> str | None:
        """What the pair must satisfy beyond being finite and non-negative, when it does not."""
        return None

    def estimate(self) -> float:
        count, exposure = self._pair()
        return count / exposure if exposure > 0 else math.nan

    def interval(self, coverage: float, resampling: Resampling = DEFAULT_RESAMPLING, widen: bool = True) -> Interval:
        return self.interval_of(*self._pair(), coverage)

    def change_vs(self, baseline: "Evidence", coverage: float, resampling: Resampling = DEFAULT_RESAMPLING) -> Change:
        (count, exposure), (base_count, base_exposure) = self._pair(), _same_kind(self, baseline)._pair()
        return Change(self.change_kind, self.change_of(count, exposure, base_count, base_exposure, coverage))

    def spread(self, resampling: Resampling = DEFAULT_RESAMPLING) -> tuple[float, float]:
        """(estimate, its sampling standard deviation from its interval), log scale for a ratio."""
        interval = self.interval(SPREAD_COVERAGE)
        log_scale = self.change_kind == "ratio"
        centre = math.log(interval.estimate) if log_scale else interval.estimate
        return centre, implied_sd(interval, log_scale)

    def pooled(self, others: "list[Evidence]") -> Self:
        """Both numbers summed over the runs; each run's pair kept when every part has its own."""
        parts = [self, *(_same_kind(self, other) for other in others)]
        pairs = [p.run_pairs() for p in parts]
        per_run = tuple(pair for run in pairs for pair in run) if all(pairs) else ()
        count, exposure = (sum(p._pair()[0] for p in parts), sum(p._pair()[1] for p in parts))
        return self.of(count, exposure, runs=sum(p.runs for p in parts), per_run=per_run)

    def run_pairs(self) -> tuple[tuple[float, float], ...]:
        """Each run's (count, exposure): the stored ones, or this evidence itself when it is one run."""
        return self.per_run or ((self._pair(),) if self.runs == 1 else ())

    def run_values(self) -> tuple[np.ndarray, np.ndarray]:
        """Each run's figure on the comparison scale (log for a ratio) and its sampling SD (from its interval)."""
        values, sds = [], []
        for pair in self.run_pairs():
            one = self.of(*pair)
            centre, sd = one.spread()
            values.append(centre)
            sds.append(sd)
        return np.array(values, dtype=float), np.nan_to_num(np.array(sds, dtype=float), nan=math.inf)

    def between_runs_change(self, baseline: "Evidence", coverage: float) -> Change:
        """Candidate against baseline from the spread of every run's own figure (Student t, k_c + k_b - 2 df),
        floored at a run's sampling error, around the pooled figures' ratio or difference."""
        base = _same_kind(self, baseline)
        (ours, our_sds), (theirs, their_sds) = self.run_values(), base.run_values()
        floor = math.sqrt(float(np.mean(np.concatenate((our_sds, their_sds)) ** 2)))
        log_scale = self.change_kind == "ratio"
        ratio = self.estimate() / base.estimate() if base.estimate() else math.nan
        estimate = ratio if log_scale else self.estimate() - base.estimate()
        interval = runs.between_run_interval(ours, theirs, estimate, coverage, floor, log_scale)
        return Change(self.change_kind, interval)

    def to_dict(self) -> dict[str, Any]:
        count, exposure = self._pair()
        data = {"kind": self.kind, self.fields[0]: count, self.fields[1]: exposure, "runs": self.runs}
        if len(self.per_run) > 1:
            data["per_run"] = [list(pair) for pair in self.per_run]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        per_run = tuple((float(a), float(b)) for a, b in data.get("per_run", []))
        count, exposure = float(data[cls.fields[0]]), float(data[cls.fields[1]])
        return cls.of(count, exposure, runs=int(data.get("runs", 1)), per_run=per_run)


@dataclass(frozen=True)
class ProportionEvidence(_CountEvidence):
    """A share of successes among all requests (success rate): Wilson score intervals, Newcombe differences."""

    kind: ClassVar[str] = "proportion"
    fields: ClassVar[tuple[str, str]] = ("successes", "total")
    change_kind: ClassVar[ChangeScale] = "difference"
    interval_of = staticmethod(counts.wilson_interval)
    change_of = staticmethod(counts.proportion_difference_interval)
    successes: float
    total: float

    @staticmethod
    def related(count: float, exposure: float) -> str | None:
        return "successes at most total" if count > exposure * (1 + 1e-9) + 1e-9 else None


@dataclass(frozen=True)
class RateEvidence(_CountEvidence):
    """Events per second over a window (throughput): exact Poisson intervals, conditional rate ratios."""

    kind: ClassVar[str] = "rate"
    fields: ClassVar[tuple[str, str]] = ("count", "seconds")
    change_kind: ClassVar[ChangeScale] = "ratio"
    interval_of = staticmethod(counts.poisson_rate_interval)
    change_of = staticmethod(counts.rate_ratio_interval)
    count: float
    seconds: float

    @staticmethod
    def related(count: float, exposure: float) -> str | None:
        return "a window of more than zero seconds" if exposure <= 0 else None


@dataclass(frozen=True)
class ScalarEvidence:
    """A single number from a custom PromQL query: no counts behind it, so no sampling interval."""

    kind: ClassVar[str] = "scalar"
    method: ClassVar[Method] = Method(MethodKind.SINGLE_VALUE)
    value: float
    runs: int = 1

    def estimate(self) -> float:
        return self.value

    def check(self) -> None:
        """FieldError unless the value is a finite number."""
        if not math.isfinite(self.value):
            raise FieldError("value", "a finite number")

    def interval(self, coverage: float, resampling: Resampling = DEFAULT_RESAMPLING, widen: bool = True) -> Interval:
        return Interval(self.value, self.value, self.value, coverage, self.method)

    def change_vs(self, baseline: "Evidence", coverage: float, resampling: Resampling = DEFAULT_RESAMPLING) -> Change:
        base = _same_kind(self, baseline)
        ratio = self.value / base.value if base.value else math.nan
        return Change("ratio", Interval(ratio, ratio, ratio, coverage, self.method))

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


_KINDS: dict[str, Any] = {cls.kind: cls for cls in (QuantileEvidence, ProportionEvidence, RateEvidence, ScalarEvidence)}


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

    def check(self) -> None:
        """FieldError unless the measurement is either measured (sound evidence) or missing (an error), not both."""
        if self.evidence is not None and self.error is not None:
            raise FieldError("error", "null when the measurement holds evidence (it is measured or missing, not both)")
        if self.evidence is not None:
            try:
                self.evidence.check()
            except FieldError as error:
                raise error.under("evidence") from None

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


def checked(measurements: dict[str, Measurement], prefix: str) -> dict[str, Measurement]:
    """`measurements` once each is sound; FieldError naming `prefix.<metric>.<field>` for the first that is not."""
    for name, measurement in measurements.items():
        try:
            measurement.check()
        except FieldError as error:
            raise error.under(f"{prefix}.{name}") from None
    return measurements
