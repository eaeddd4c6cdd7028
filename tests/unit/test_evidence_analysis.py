"""Evidence and the analysis policy: which comparison a change rests on, run noise, the thin-tail WARN, the shape
note, and evidence that round-trips its windows."""

import math

import numpy as np
import pytest

from tests.unit.test_stats_resampling import BOUNDS, windows_of
from validator.evidence import (
    Measurement,
    ProportionEvidence,
    QuantileEvidence,
    RateEvidence,
    RunNoise,
    ScalarEvidence,
    evidence_from_dict,
)
from validator.judge import analysis
from validator.judge.gates import Status, evaluate_gate
from validator.judge.judgement import shape_observation
from validator.report.judgement_words import shape_sentence
from validator.spec import GateSpec, Resampling
from validator.spec.metrics import BUILTIN_METRICS
from validator.stats.intervals import MethodKind, RunNoiseFloor


def quantile_evidence(q: float, matrix: np.ndarray) -> QuantileEvidence:
    return QuantileEvidence(q, tuple(BOUNDS), tuple(matrix.sum(axis=0)), (matrix,))


def test_several_runs_compare_through_the_spread_of_their_own_estimates():
    rng = np.random.default_rng(17)

    def runs(shifts: tuple[float, ...]) -> QuantileEvidence:
        parts = [quantile_evidence(0.5, windows_of(rng.lognormal(math.log(0.01) + s, 0.3, (30, 300)))) for s in shifts]
        return parts[0].pooled(parts[1:])

    steady, noisy = runs((0.0, 0.0, 0.0)), runs((-0.05, 0.0, 0.05))
    reference = runs((0.0, 0.0, 0.0))
    tight, wide = (analysis.change(side, reference, 0.90).interval for side in (steady, noisy))
    assert tight.method.kind == MethodKind.BETWEEN_RUNS and wide.method.kind == MethodKind.BETWEEN_RUNS
    assert (wide.method.runs.candidate_runs, wide.method.runs.baseline_runs) == (3, 3)
    assert math.log(wide.high / wide.low) > 3 * math.log(tight.high / tight.low)
    within = noisy.change_vs(reference, 0.90).interval  # sampling error alone
    assert within.method.kind == MethodKind.BLOCK and within.method.ratio
    assert within.high - within.low < wide.high - wide.low


def test_two_runs_in_all_compare_by_draws_and_the_noise_floor():
    rng = np.random.default_rng(18)
    candidate, baseline = (quantile_evidence(0.5, windows_of(rng.lognormal(-4.6, 0.3, (30, 200)))) for _ in "ab")
    change = analysis.change(candidate, baseline, 0.90, noise=RunNoise(0.03, 2))
    assert change.interval.method.kind == MethodKind.BLOCK and change.interval.method.ratio
    assert change.interval.method.run_noise == RunNoiseFloor(True, 0.03, 2, 1, True)


def test_one_run_candidate_comparison_is_widened_by_the_baseline_noise_floor():
    rng = np.random.default_rng(15)
    candidate, baseline = (quantile_evidence(0.5, windows_of(rng.lognormal(-4.6, 0.3, (30, 200)))) for _ in "ab")
    plain = analysis.change(candidate, baseline, 0.95).interval
    floored = analysis.change(candidate, baseline, 0.95, noise=RunNoise(0.03, 3)).interval
    assert floored.low < plain.low and floored.high > plain.high
    assert floored.method.run_noise == RunNoiseFloor(True, 0.03, 3, 1, True)
    assert plain.method.run_noise == RunNoiseFloor(False)


def test_count_changes_take_the_noise_floor_on_their_own_scale_and_a_bare_value_takes_none():
    noise = RunNoise(0.001, 3)
    proportion = analysis.change(ProportionEvidence(990, 1000), ProportionEvidence(995, 1000), 0.9, noise=noise)
    assert proportion.kind == "difference" and proportion.interval.method.run_noise.log_scale is False
    rate = analysis.change(RateEvidence(100, 10.0), RateEvidence(100, 10.0), 0.9, noise=noise)
    assert rate.kind == "ratio" and rate.interval.method.run_noise.log_scale is True
    scalar = analysis.change(ScalarEvidence(2.0), ScalarEvidence(1.0), 0.9, noise=noise).interval
    assert (scalar.low, scalar.high) == (2.0, 2.0) and scalar.method.run_noise is None


def test_count_evidence_pools_and_round_trips():
    pooled = ProportionEvidence(990, 1000).pooled([ProportionEvidence(995, 1000)])
    assert (pooled.successes, pooled.total, pooled.runs) == (1985, 2000, 2)
    assert evidence_from_dict(pooled.to_dict()) == pooled
    rate = RateEvidence(100, 10.0).pooled([RateEvidence(50, 5.0)])
    expected = {"kind": "rate", "count": 150, "seconds": 15.0, "runs": 2, "per_run": [[100, 10.0], [50, 5.0]]}
    assert rate.to_dict() == expected
    assert evidence_from_dict(rate.to_dict()).per_run == ((100, 10.0), (50, 5.0))
    log_rate, sd = rate.spread()
    assert log_rate == math.log(10.0) and 0.05 < sd < 0.1  # about 1/sqrt(150) on the log scale


def test_evidence_round_trips_its_windows_compactly():
    matrix = windows_of(np.random.default_rng(13).lognormal(math.log(0.01), 0.3, (25, 50)))
    evidence = quantile_evidence(0.99, matrix)
    data = evidence.to_dict()
    assert all(len(w["counts"]) < BOUNDS.size for w in data["windows"][0])
    again = evidence_from_dict(data)
    assert np.array_equal(again.windows[0], matrix)
    assert again.interval(0.95) == evidence.interval(0.95)
    method = again.interval(0.95).method
    assert method.auto and method.kind == MethodKind.BLOCK and method.bucket_share is not None


def test_thin_tail_is_warn_with_the_number_of_requests_needed():
    matrix = windows_of(np.random.default_rng(14).lognormal(math.log(0.01), 0.3, (25, 40)))  # 1000 requests
    gate = GateSpec("p99", BUILTIN_METRICS["latency_p99"], "critical", max=1.0)
    result = evaluate_gate(gate, Measurement("latency_p99", "test", quantile_evidence(0.99, matrix)), None, 0.95)
    assert result.status == Status.WARN
    assert "insufficient data" in result.reason and "10 beyond p99" in result.reason
    needed = int(result.reason.split("about ")[1].split(" requests")[0].replace(",", ""))
    assert needed >= 3_000


def test_shape_observation_shows_a_tail_only_change_and_a_pure_shift():
    rng = np.random.default_rng(16)
    base = rng.lognormal(math.log(0.01), 0.3, (40, 1_250))
    tail_slower = np.where(base > np.quantile(base, 0.95), base * 1.3, base)

    def p50(latencies: np.ndarray) -> dict[str, Measurement]:
        return {"latency_p50": Measurement("latency_p50", "test", quantile_evidence(0.5, windows_of(latencies)))}

    tail = shape_observation(p50(tail_slower), p50(base), 0.95)
    assert tail is not None and tail.changed and tail.apart[-1] == 0.999
    assert tail.ratios[0].method.kind is MethodKind.BLOCK
    assert "the shape changed: the ratio at p99.9" in shape_sentence(tail)
    shifted = shape_observation(p50(base * 1.1), p50(base), 0.95)
    assert shifted is not None and not shifted.changed and "moved as a whole" in shape_sentence(shifted)
    assert len(shifted.ratios) == 6 and all(1.05 < ratio.estimate < 1.15 for ratio in shifted.ratios)
    assert shape_observation(p50(base), {}, 0.95) is None


def test_evidence_at_its_own_quantile_is_itself_so_its_draws_are_reused():
    evidence = quantile_evidence(0.5, windows_of(np.random.default_rng(17).lognormal(math.log(0.01), 0.3, (30, 200))))
    interval = evidence.interval(0.9, Resampling("block", 200, 3))
    assert evidence.at(0.5) is evidence and evidence.at(0.5).interval(0.9, Resampling("block", 200, 3)) == interval
    other = evidence.at(0.99)
    assert other is not evidence and other.q == 0.99 and other.windows is evidence.windows


def test_count_changes_over_three_runs_or_more_come_from_the_runs_own_spread():
    candidate = ProportionEvidence(990, 1000).pooled([ProportionEvidence(980, 1000)])
    baseline = ProportionEvidence(995, 1000).pooled([ProportionEvidence(990, 1000), ProportionEvidence(999, 1000)])
    difference = analysis.change(candidate, baseline, 0.9, noise=RunNoise(0.001, 3))
    runs = difference.interval.method.runs
    assert difference.kind == "difference" and runs is not None and runs.freedom == 3 and not runs.log_scale
    assert difference.interval.estimate == pytest.approx(0.985 - 2984 / 3000)
    faster = RateEvidence(100, 10.0).pooled([RateEvidence(110, 10.0)])
    rate = analysis.change(faster, RateEvidence(100, 10.0).pooled([RateEvidence(90, 10.0)]), 0.9)
    assert rate.kind == "ratio" and rate.interval.method.runs.freedom == 2
    assert rate.interval.low < 1.05 < rate.interval.high


def test_absolute_bounds_of_several_runs_come_from_the_runs_own_spread():
    rng = np.random.default_rng(5)
    bounds = tuple(float(b) for b in np.append(np.geomspace(0.001, 10, 400), math.inf))
    runs = []
    for scale in (1.0, 1.05, 0.97):
        values = rng.lognormal(math.log(0.02 * scale), 0.5, (30, 200))
        per_window = np.stack([np.searchsorted(bounds, row, side="left") for row in values])
        counts = np.stack([np.cumsum(np.bincount(r, minlength=len(bounds))) for r in per_window]).astype(float)
        runs.append(QuantileEvidence(0.99, bounds, tuple(counts.sum(axis=0)), (counts,)))
    pooled = runs[0].pooled(runs[1:])
    interval = analysis.value(pooled, 0.9)
    assert interval.method.kind == MethodKind.BETWEEN_RUNS and interval.method.runs.freedom == 2
    single = analysis.value(runs[0], 0.9)
    assert single.method.kind != MethodKind.BETWEEN_RUNS


def test_the_shape_reuses_a_gate_measurement_with_the_same_counts_and_gives_the_same_band():
    rng = np.random.default_rng(18)
    matrix = windows_of(rng.lognormal(math.log(0.01), 0.3, (30, 400)))
    base = windows_of(rng.lognormal(math.log(0.01), 0.3, (30, 400)))

    def side(counts: np.ndarray, with_p99: bool) -> dict[str, Measurement]:
        found = {"latency_p50": Measurement("latency_p50", "test", quantile_evidence(0.5, counts))}
        if with_p99:
            found["latency_p99"] = Measurement("latency_p99", "test", quantile_evidence(0.99, counts.copy()))
        return found

    alone, beside = side(matrix, False), side(matrix, True)
    p50, p99 = beside["latency_p50"].evidence, beside["latency_p99"].evidence
    assert p50.same_counts(p99) and not p50.same_counts(quantile_evidence(0.5, base))
    shared = shape_observation(beside, side(base, True), 0.95)
    assert p99._memo, "the p99 measurement's own draws were made (and are there for its gate)"
    assert shared == shape_observation(alone, side(base, False), 0.95)  # the same band either way
