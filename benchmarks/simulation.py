"""Simulated request streams with known truth, judged through slagate's real code path.

Streams of `WINDOWS` one-second windows at `RATE` requests/s are binned into the client histogram's
log buckets per window, turned into the same evidence the pipeline builds, judged by the real gates
and the real decision matrix. Each run draws its own scale factor (run-to-run noise). Shared by
benchmarks/stat_quality.py and the fixed-seed test in tests/unit/test_stats_simulation.py.
"""

import math
from dataclasses import dataclass

import numpy as np

from validator.baseline.file import pool_runs
from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence
from validator.judge.analysis import LookStep
from validator.judge.gates import GateResult, Status, bounds_fail_level, evaluate_gate
from validator.judge.looks import step_after
from validator.judge.verdict import Decision, decide
from validator.load.histogram import _KEYS_PER_OCTAVE, MICROSECONDS_PER_SECOND, upper_edges_us
from validator.spec import GateSpec, Resampling
from validator.spec.metrics import BUILTIN_METRICS
from validator.stats.quantiles import histogram_quantile
from validator.stats.sequential import DEFAULT_SPENDING, plan

STREAMS = ("iid", "ar1", "bimodal", "bursts")
WINDOWS, RATE = 60, 500
MEDIAN_S, SIGMA = 0.020, 0.5
RUN_NOISE = 0.03  # each run's latencies are scaled by exp(N(0, 3 %)), as two real runs of one build differ
ERROR_RATE = 0.001
AR1_PHI, AR1_SD = 0.7, 0.05  # per-second log-level AR(1): lag-1 correlation 0.7, stationary SD 5 %
MAX_REGRESSION = 0.10
GATES = (
    GateSpec("p50", BUILTIN_METRICS["latency_p50"], "warning", max_regression=MAX_REGRESSION),
    GateSpec("p95", BUILTIN_METRICS["latency_p95"], "critical", max_regression=MAX_REGRESSION),
    GateSpec("p99", BUILTIN_METRICS["latency_p99"], "critical", max_regression=MAX_REGRESSION),
    GateSpec("success rate", BUILTIN_METRICS["success_rate"], "critical", min=0.99),
)
DEFAULT_RESAMPLING = Resampling()
QUANTILES = {"latency_p50": 0.5, "latency_p95": 0.95, "latency_p99": 0.99}


def latencies(
    rng: np.random.Generator, stream: str, scale: float = 1.0, tail_factor: float = 1.0, windows: int = WINDOWS
) -> np.ndarray:
    """(windows, RATE) latencies in seconds: lognormal, AR(1)-modulated, bimodal (1 % slow path) or bursts (3 s at 5×).

    `scale` slows every request; `tail_factor` slows only the requests above the run's p95.
    """
    values = rng.lognormal(math.log(MEDIAN_S), SIGMA, (windows, RATE))
    if stream == "ar1":
        phi, level = AR1_PHI, np.zeros(windows)
        level[0] = rng.normal(0, AR1_SD)
        for i in range(1, windows):
            level[i] = phi * level[i - 1] + rng.normal(0, AR1_SD * math.sqrt(1 - phi * phi))
        values *= np.exp(level)[:, None]
    elif stream == "bimodal":
        slow = rng.random(values.shape) < 0.01
        values[slow] = rng.lognormal(math.log(0.2), 0.3, int(slow.sum()))
    elif stream == "bursts":
        start = int(rng.integers(0, windows - 3))
        values[start : start + 3] *= 5.0
    if tail_factor != 1.0:
        values = np.where(values > np.quantile(values, 0.95), values * tail_factor, values)
    return values * scale


def bucket_layout(runs: list[np.ndarray]) -> tuple[int, np.ndarray]:
    """The first key and the upper bounds (seconds, +Inf last) covering every value of `runs`."""
    keys = [np.ceil(np.log2(run * MICROSECONDS_PER_SECOND) * _KEYS_PER_OCTAVE) for run in runs]
    first, last = int(min(k.min() for k in keys)), int(max(k.max() for k in keys))
    bounds = np.append(upper_edges_us(np.arange(first, last + 1)) / MICROSECONDS_PER_SECOND, math.inf)
    return first, bounds


def window_matrix(run: np.ndarray, first_key: int, n_buckets: int) -> np.ndarray:
    """(windows, buckets) cumulative counts of one run in the client histogram's 0.2 % log buckets."""
    keys = np.ceil(np.log2(run * MICROSECONDS_PER_SECOND) * _KEYS_PER_OCTAVE).astype(np.int64) - first_key
    rows = np.arange(run.shape[0])[:, None] * n_buckets
    counts = np.bincount((keys + rows).ravel(), minlength=run.shape[0] * n_buckets).reshape(run.shape[0], n_buckets)
    return np.cumsum(counts, axis=1).astype(float)


def measurements(matrix: np.ndarray, bounds: np.ndarray, rng: np.random.Generator) -> dict[str, Measurement]:
    """What the pipeline measures for one run: three quantiles from the windows, and the success rate."""
    pooled = tuple(matrix.sum(axis=0))
    found = {
        name: Measurement(name, "simulation", QuantileEvidence(q, tuple(bounds), pooled, (matrix,)))
        for name, q in QUANTILES.items()
    }
    total = matrix[:, -1].sum()
    successes = rng.binomial(int(total), 1.0 - ERROR_RATE)
    found["success_rate"] = Measurement("success_rate", "simulation", ProportionEvidence(successes, total))
    return found


@dataclass(frozen=True)
class Trial:
    """One judged comparison: the verdict and each gate's result."""

    decision: Decision
    results: list[GateResult]

    def status(self, name: str) -> Status:
        return next(r.status for r in self.results if r.gate.name == name)


def judge_pair(
    rng: np.random.Generator,
    stream: str,
    candidate_runs: int,
    baseline_runs: int,
    scale: float = 1.0,
    tail_factor: float = 1.0,
    resampling: Resampling = DEFAULT_RESAMPLING,
    multiplicity: str = "margin",
    run_noise: float = RUN_NOISE,
) -> Trial:
    """Simulate a baseline of `baseline_runs` runs and a candidate of `candidate_runs` (slowed by `scale` /
    `tail_factor`), each run with its own noise, and judge the candidate through the real gates and verdict."""
    candidate, baseline = _simulated_sides(rng, stream, candidate_runs, baseline_runs, scale, tail_factor, run_noise)
    return judge(pool_runs(candidate), pool_runs(baseline), 0.95, resampling, multiplicity)


def judge(
    candidate: dict[str, Measurement],
    baseline: dict[str, Measurement],
    level: float,
    resampling: Resampling = DEFAULT_RESAMPLING,
    multiplicity: str = "margin",
) -> Trial:
    """Every gate judged at the one-sided `level` (FAIL at the multiplicity setting's level), and the verdict."""
    fail = bounds_fail_level(GATES, level, multiplicity).level
    results = [
        evaluate_gate(gate, candidate[name], baseline[name], level, "baseline", resampling, fail)
        for gate in GATES
        for name in (gate.metric.name,)
    ]
    return Trial(decide(results).decision, results)


def _simulated_sides(
    rng: np.random.Generator,
    stream: str,
    candidate_runs: int,
    baseline_runs: int,
    scale: float,
    tail_factor: float,
    run_noise: float,
) -> tuple[list[dict[str, Measurement]], list[dict[str, Measurement]]]:
    """Each run's measurements, baseline runs first, on one bucket layout."""

    def run(factor: float, tail: float) -> np.ndarray:
        return latencies(rng, stream, factor * math.exp(rng.normal(0, run_noise)), tail)

    base = [run(1.0, 1.0) for _ in range(baseline_runs)]
    cand = [run(scale, tail_factor) for _ in range(candidate_runs)]
    first, bounds = bucket_layout(base + cand)
    baseline = [measurements(window_matrix(r, first, bounds.size), bounds, rng) for r in base]
    candidate = [measurements(window_matrix(r, first, bounds.size), bounds, rng) for r in cand]
    return candidate, baseline


@dataclass(frozen=True)
class AutoTrial:
    """A `repeat = "auto"` comparison: the verdict at the look that stopped, its gates, and every look's step."""

    decision: Decision
    results: list[GateResult]
    steps: list[LookStep]

    @property
    def runs(self) -> int:
        return self.steps[-1].runs

    def status(self, name: str) -> Status:
        return next(r.status for r in self.results if r.gate.name == name)


def judge_auto(
    rng: np.random.Generator,
    stream: str,
    baseline_runs: int = 3,
    min_repeat: int = 1,
    max_repeat: int = 5,
    scale: float = 1.0,
    run_noise: float = RUN_NOISE,
    spending: str = DEFAULT_SPENDING,
    multiplicity: str = "margin",
) -> AutoTrial:
    """A candidate judged look by look against a fixed baseline: one more run at each look, every bound at the
    look's level from the spending function, stopping as `looks.step_after` decides (the pipeline's rule)."""
    candidate, baseline = _simulated_sides(rng, stream, max_repeat, baseline_runs, scale, 1.0, run_noise)
    base = pool_runs(baseline)
    looks = plan(min_repeat, max_repeat, 0.95, baseline_runs, spending)
    steps: list[LookStep] = []
    for runs in looks.runs:
        trial = judge(_pooled(candidate[:runs]), base, looks.level_at(runs), multiplicity=multiplicity)
        steps.append(step_after(looks, runs, trial.results))
        if steps[-1].stop:
            return AutoTrial(trial.decision, trial.results, steps)
    raise AssertionError("the last look always stops")


def _pooled(runs: list[dict[str, Measurement]]) -> dict[str, Measurement]:
    """The candidate's runs pooled as the gates see them (its own run noise is not used by the gates)."""
    return {
        name: Measurement(name, "simulation", runs[0][name].evidence.pooled([r[name].evidence for r in runs[1:]]))
        for name in runs[0]
    }


def true_quantile(stream: str, q: float, runs: int = 100, seed: int = 0) -> float:
    """The stream's q-quantile over many runs (no run noise): the truth a one-run interval should cover."""
    rng = np.random.default_rng(seed)
    return float(np.quantile(np.concatenate([latencies(rng, stream).ravel() for _ in range(runs)]), q))


def run_spread(stream: str, q: float, runs: int = 40, seed: int = 1) -> float:
    """The standard deviation of one run's log q-quantile (as the gates estimate it) between runs without run
    noise: sampling error alone, the least a run-based interval must allow for."""
    rng = np.random.default_rng(seed)
    streams = [latencies(rng, stream) for _ in range(runs)]
    first, bounds = bucket_layout(streams)
    found = [histogram_quantile(q, bounds, window_matrix(r, first, bounds.size).sum(axis=0)) for r in streams]
    return float(np.std(np.log(found), ddof=1))


def coverage_trial(rng: np.random.Generator, stream: str, truth: float, q: float = 0.99) -> tuple[bool, bool]:
    """Whether the exact and the block 95 % intervals of one run's q-quantile cover the truth."""
    run = latencies(rng, stream)
    first, bounds = bucket_layout([run])
    matrix = window_matrix(run, first, bounds.size)
    evidence = QuantileEvidence(q, tuple(bounds), tuple(matrix.sum(axis=0)), (matrix,))
    exact = evidence.interval(0.95, Resampling("exact"), widen=False)
    block = evidence.interval(0.95, Resampling("block", seed=int(rng.integers(1 << 30))), widen=False)
    return exact.low <= truth <= exact.high, block.low <= truth <= block.high
