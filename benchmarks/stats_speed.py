"""Speed of the statistics: every gate of a 10-million-request run in 600 one-second windows, exact and block,
against scipy.stats.bootstrap for the same p99 interval on a 100 k subsample (the exact order-statistic interval
is the percentile bootstrap's limit, so on the same data both compute one interval: scipy by resampling).

Usage: .venv/bin/python benchmarks/stats_speed.py   (one core is enough; I/O and data generation excluded)
"""

import dataclasses
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simulation as sim  # noqa: E402

from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence, RateEvidence  # noqa: E402
from validator.judge.gates import (
    bounds_fail_level,  # noqa: E402
    evaluate_gate,  # noqa: E402
)
from validator.spec import GateSpec, Resampling  # noqa: E402
from validator.spec.metrics import BUILTIN_METRICS  # noqa: E402
from validator.stats.resampling import resampling_weights  # noqa: E402

REQUESTS, WINDOWS, SUBSAMPLE = 10_000_000, 600, 100_000
GATES = (
    *sim.GATES[:3],
    GateSpec("success rate", BUILTIN_METRICS["success_rate"], "critical", min=0.99, max_regression=0.005),
    GateSpec("throughput", BUILTIN_METRICS["throughput"], "warning", min=100.0, max_regression=0.1),
)


def run_measurements(rng: np.random.Generator) -> tuple[dict[str, Measurement], np.ndarray, tuple[int, np.ndarray]]:
    """A 10 M-request run as the pipeline measures it, plus its raw values (for scipy) and bucket layout."""
    values = rng.lognormal(math.log(sim.MEDIAN_S), sim.SIGMA, (WINDOWS, REQUESTS // WINDOWS))
    first, bounds = sim.bucket_layout([values])
    return _measure(values, first, bounds), values, (first, bounds)


def _measure(values: np.ndarray, first: int, bounds: np.ndarray) -> dict[str, Measurement]:
    matrix = sim.window_matrix(values, first, bounds.size)
    pooled = tuple(matrix.sum(axis=0))
    found = {
        name: Measurement(name, "bench", QuantileEvidence(q, tuple(bounds), pooled, (matrix,)))
        for name, q in sim.QUANTILES.items()
    }
    found["success_rate"] = Measurement("success_rate", "bench", ProportionEvidence(values.size - 10_000, values.size))
    found["throughput"] = Measurement("throughput", "bench", RateEvidence(values.size, WINDOWS))
    return found


def fresh(found: dict[str, Measurement]) -> dict[str, Measurement]:
    """The same measurements with new evidence objects, so no bootstrap draws are memoised."""
    return {name: dataclasses.replace(m, evidence=dataclasses.replace(m.evidence)) for name, m in found.items()}


def judge_all(candidate: dict[str, Measurement], baseline: dict[str, Measurement], method: str) -> float:
    """Milliseconds to judge every gate (intervals, ratios against the baseline), nothing cached."""
    candidate, baseline = fresh(candidate), fresh(baseline)
    resampling_weights.cache_clear()
    resampling = Resampling(method)
    level = bounds_fail_level(GATES, 0.95).level
    start = time.perf_counter()
    for gate in GATES:
        name = gate.metric.name
        evaluate_gate(gate, candidate[name], baseline[name], 0.95, "baseline", resampling, level)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    rng = np.random.default_rng(20261123)
    candidate, values, (first, bounds) = run_measurements(rng)
    baseline = _measure(rng.lognormal(math.log(sim.MEDIAN_S), sim.SIGMA, values.shape), first, bounds)
    timings = {method: min(judge_all(candidate, baseline, method) for _ in range(3)) for method in ("exact", "block")}

    subsample = rng.choice(values.ravel(), SUBSAMPLE, replace=False)
    start = time.perf_counter()
    scipy_result = scipy_stats.bootstrap(
        (subsample,),
        lambda x, axis: np.quantile(x, 0.99, axis=axis, method="inverted_cdf"),
        method="percentile",
        n_resamples=2_000,
        batch=50,
        rng=np.random.default_rng(1),
    )
    scipy_ms = (time.perf_counter() - start) * 1000
    scipy_ci = scipy_result.confidence_interval
    start = time.perf_counter()
    sub_first, sub_bounds = sim.bucket_layout([subsample[None, :]])
    sub_counts = sim.window_matrix(subsample.reshape(100, -1), sub_first, sub_bounds.size)
    binning_ms = (time.perf_counter() - start) * 1000
    sub_evidence = QuantileEvidence(0.99, tuple(sub_bounds), tuple(sub_counts.sum(axis=0)), (sub_counts,))
    exact_sub_ms = min(_timed(lambda: sub_evidence.interval(0.95, Resampling("exact"), widen=False)))
    ours_sub = sub_evidence.interval(0.95, Resampling("exact"), widen=False)

    resampling_weights.cache_clear()
    candidate = fresh(candidate)
    start = time.perf_counter()
    candidate["latency_p99"].evidence.interval(0.95, Resampling("block"), widen=False)
    p99_ms = (time.perf_counter() - start) * 1000
    ratio = scipy_ms / p99_ms
    same_data_ratio = scipy_ms / exact_sub_ms
    bucket = 2 * 0.001 / 0.999
    low_buckets = abs(ours_sub.low / scipy_ci.low - 1) / bucket
    high_buckets = abs(ours_sub.high / scipy_ci.high - 1) / bucket

    rows = [
        ("all 5 gates, 10 M requests / 600 windows, exact (vs a 10 M baseline)", f"{timings['exact']:.1f} ms"),
        ("all 5 gates, 10 M requests / 600 windows, block 2000 resamples", f"{timings['block']:.1f} ms"),
        ("p99 interval alone, 10 M, block 2000 resamples (cold)", f"{p99_ms:.1f} ms"),
        ("scipy.stats.bootstrap percentile p99, 100 k subsample, 2000 resamples", f"{scipy_ms:.0f} ms"),
        ("ours, exact p99 interval on the same 100 k subsample (from its histogram)", f"{exact_sub_ms:.3f} ms"),
        ("  (binning the 100 k values into that histogram, done once per run)", f"{binning_ms:.1f} ms"),
        ("ratio scipy ÷ ours, same 100 k data, same percentile-bootstrap interval", f"{same_data_ratio:.0f}x"),
        ("ratio scipy (100 k) ÷ ours (10 M block p99, 100× the data)", f"{ratio:.0f}x"),
        (
            "p99 95 % interval on the 100 k subsample: ours exact",
            f"[{ours_sub.low * 1000:.3f}, {ours_sub.high * 1000:.3f}] ms",
        ),
        (
            "                                         scipy bootstrap",
            f"[{scipy_ci.low * 1000:.3f}, {scipy_ci.high * 1000:.3f}] ms",
        ),
        ("difference in 0.2 % buckets (low, high)", f"{low_buckets:.2f}, {high_buckets:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    print(
        f"stats_speed: {timings['block']:.0f} ms, {same_data_ratio:.0f}x vs scipy "
        f"(same 100 k data; {ratio:.0f}x with ours on the 10 M block p99)"
    )


def _timed(action: Callable[[], object], repeats: int = 20) -> list[float]:
    """Milliseconds of each of `repeats` calls of `action`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


if __name__ == "__main__":
    main()
