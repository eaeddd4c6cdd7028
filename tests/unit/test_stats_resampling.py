"""Block and hierarchical bootstrap over per-window histograms, between-run ratio intervals, bucket widening,
run noise, sample size."""

import math
import re

import numpy as np
import pytest

from validator import stats
from validator.evidence import Measurement, QuantileEvidence, RunNoise, evidence_from_dict
from validator.gates import Status, evaluate_gate
from validator.metrics import BUILTIN_METRICS
from validator.pipeline import shape_observation
from validator.spec import GateSpec

BOUNDS = np.append(0.001 * 1.01 ** np.arange(400), math.inf)  # 1 %-wide buckets from 1 ms to ~54 ms


def windows_of(latencies: np.ndarray) -> np.ndarray:
    """(windows, buckets) cumulative counts from a (windows, requests) array of latencies in seconds."""
    index = np.searchsorted(BOUNDS, latencies, side="left")
    counts = np.stack([np.bincount(row, minlength=BOUNDS.size) for row in index])
    return np.cumsum(counts, axis=1).astype(float)


def ar1_latencies(rng: np.random.Generator, n_windows: int, per_window: int, phi: float) -> np.ndarray:
    """Lognormal latencies whose log-scale level follows an AR(1) process from window to window."""
    level = np.zeros(n_windows)
    for i in range(1, n_windows):
        level[i] = phi * level[i - 1] + rng.normal(0, 0.1)
    return np.exp(math.log(0.01) + level[:, None] + rng.normal(0, 0.3, (n_windows, per_window)))


def test_circular_block_weights_keep_every_resample_at_n_windows_in_runs_of_blocks():
    weights = stats.circular_block_weights(10, 3, 500, np.random.default_rng(1))
    assert weights.shape == (500, 10) and (weights.sum(axis=1) == 10).all()
    single = stats.circular_block_weights(10, 10, 5, np.random.default_rng(2))
    assert (single == 1).all()  # one block of the whole run, wrapped: every window once
    with pytest.raises(ValueError, match="block"):
        stats.circular_block_weights(10, 11, 5, np.random.default_rng(3))


def test_block_length_grows_with_autocorrelation():
    rng = np.random.default_rng(4)
    iid = windows_of(ar1_latencies(rng, 60, 200, 0.0))
    correlated = windows_of(ar1_latencies(rng, 60, 200, 0.9))
    assert stats.block_length(iid) <= 2 < stats.block_length(correlated) <= 15


def test_block_interval_on_iid_windows_matches_the_exact_interval():
    matrix = windows_of(np.random.default_rng(5).lognormal(math.log(0.01), 0.3, (60, 500)))
    pooled = matrix.sum(axis=0)
    exact = stats.quantile_interval(0.99, BOUNDS, pooled)
    draws, method = stats.windowed_quantile_draws(0.99, BOUNDS, [matrix], 4_000, 6)
    block = stats.percentile_interval(draws, 0.95, exact.estimate, method)
    assert block.low == pytest.approx(exact.low, rel=0.01) and block.high == pytest.approx(exact.high, rel=0.01)
    assert "block" in method and "60 windows" in method


def test_block_interval_is_wider_than_exact_on_autocorrelated_windows():
    matrix = windows_of(ar1_latencies(np.random.default_rng(7), 60, 500, 0.8))
    exact = stats.quantile_interval(0.99, BOUNDS, matrix.sum(axis=0))
    draws, _ = stats.windowed_quantile_draws(0.99, BOUNDS, [matrix], 2_000, 8)
    block = stats.percentile_interval(draws, 0.95, exact.estimate, "block")
    assert block.high - block.low > 2 * (exact.high - exact.low)


def test_resampled_quantiles_equal_histogram_quantile_of_each_resample():
    matrix = windows_of(np.random.default_rng(9).lognormal(math.log(0.01), 0.5, (30, 100)))
    weights = stats.resampling_weights((30,), (stats.block_length(matrix),), 50, 10, False)
    draws, method = stats.windowed_quantile_draws(0.95, BOUNDS, [matrix], 50, 10)
    raw = np.log([stats.histogram_quantile(0.95, BOUNDS, row) for row in weights.astype(float) @ matrix])
    block = stats.block_length(matrix)
    own, strongest = stats.lag1_autocorrelation(matrix, (0.95,)), stats.lag1_autocorrelation(matrix)
    factor = stats.block_spread_factor(own, strongest, block) * stats.few_blocks_factor(30 // block)
    centre = math.log(stats.histogram_quantile(0.95, BOUNDS, matrix.sum(axis=0)))
    assert factor > 1.0 and f"spread ×{factor:.2f}" in method
    assert draws == pytest.approx(np.exp(centre + factor * (raw - centre)), rel=1e-6)


def test_spread_factors_grow_with_correlation_and_with_fewer_blocks():
    iid = windows_of(np.random.default_rng(3).lognormal(math.log(0.01), 0.5, (60, 500)))
    correlated = windows_of(ar1_latencies(np.random.default_rng(4), 60, 500, 0.8))
    rhos = [(stats.lag1_autocorrelation(m, (0.99,)), stats.lag1_autocorrelation(m)) for m in (iid, correlated)]
    assert stats.block_spread_factor(*rhos[0], 1) < 1.1 < stats.block_spread_factor(*rhos[1], 2)
    assert stats.block_spread_factor(0.0, 0.5, 4) == 1.0
    kept = 1 + 2 * 0.5 * (0.75 + 0.25 + 0.0625)  # blocks of 4 keep lags 1..3 at weights 3/4, 1/2, 1/4
    assert stats.block_spread_factor(0.5, 0.5, 4) == pytest.approx(math.sqrt(3.0 / kept))
    assert stats.few_blocks_factor(60) == pytest.approx(1.03, abs=0.01)
    assert stats.few_blocks_factor(12) == pytest.approx(1.17, abs=0.01)
    assert stats.few_blocks_factor(1) == 1.0


def test_hierarchical_bootstrap_includes_the_spread_between_runs():
    rng = np.random.default_rng(11)
    runs = [windows_of(rng.lognormal(math.log(0.01) + shift, 0.3, (30, 300))) for shift in (-0.05, 0.0, 0.05)]
    within, _ = stats.windowed_quantile_draws(0.5, BOUNDS, runs, 2_000, 12, resample_runs=False)
    between, method = stats.windowed_quantile_draws(0.5, BOUNDS, runs, 2_000, 12)
    assert np.std(np.log(between)) > 3 * np.std(np.log(within))
    assert method.startswith("hierarchical bootstrap: 3 runs")


def test_between_run_ratio_interval_pools_the_spread_of_both_sides():
    candidate, baseline = np.array([0.08, 0.10, 0.12]), np.array([-0.01, 0.0, 0.01])  # logs of each run's figure
    interval = stats.between_run_ratio_interval(candidate, baseline, 1.12, 0.90)
    squares = 2 * 0.02**2 + 2 * 0.01**2  # about each side's mean
    error = math.sqrt(squares / 4 * (1 / 3 + 1 / 3))
    assert math.log(interval.high / 1.12) == pytest.approx(1.6449 * error, rel=0.01)
    assert math.log(1.12 / interval.low) == pytest.approx(math.log(interval.high / 1.12))
    assert "3 + 3 runs" in interval.method and "4 df" in interval.method


def test_between_run_ratio_interval_needs_three_runs_and_never_claims_less_than_a_run_varies():
    assert math.isnan(stats.between_run_ratio_interval(np.zeros(1), np.zeros(1), 1.0).low)
    assert math.isnan(stats.between_run_ratio_interval(np.array([0.0, math.nan]), np.zeros(1), 1.0).high)
    identical = stats.between_run_ratio_interval(np.zeros(2), np.zeros(1), 1.0, 0.95, min_run_sd=0.001)
    assert math.log(identical.high) == pytest.approx(1.96 * 0.001 * math.sqrt(1 / 2 + 1), rel=0.01)
    assert "raised to the least one run can vary, 0.10 %" in identical.method


def test_several_runs_compare_through_the_spread_of_their_own_estimates():
    rng = np.random.default_rng(17)

    def runs(shifts: tuple[float, ...]) -> QuantileEvidence:
        parts = [quantile_evidence(0.5, windows_of(rng.lognormal(math.log(0.01) + s, 0.3, (30, 300)))) for s in shifts]
        return parts[0].pooled(parts[1:])

    steady, noisy = runs((0.0, 0.0, 0.0)), runs((-0.05, 0.0, 0.05))
    reference = runs((0.0, 0.0, 0.0))
    tight, wide = (side.change_vs(reference, 0.90).interval for side in (steady, noisy))
    assert "runs' own estimates" in tight.method and "3 + 3 runs" in wide.method
    assert math.log(wide.high / wide.low) > 3 * math.log(tight.high / tight.low)
    within = noisy.change_vs(reference, 0.90, between_runs=False).interval  # sampling error alone
    assert "block bootstrap" in within.method and within.high - within.low < wide.high - wide.low


def test_choose_method_auto_rule():
    assert stats.choose_method("auto", [25, 30]) == "block"
    assert stats.choose_method("auto", [19]) == "exact"
    assert stats.choose_method("block", [5]) == "block"
    assert stats.choose_method("block", []) == "exact"  # no windows: only the exact method is possible
    assert stats.choose_method("exact", [600]) == "exact"


def test_widening_reaches_the_bucket_edges_and_reports_the_share():
    interval = stats.Interval(1.5, 1.2, 2.5, "m")
    widened = stats.widen_to_bucket_edges(interval, np.array([1.0, 2.0, 3.0, math.inf]))
    assert (widened.low, widened.high) == (1.0, 3.0)
    assert "35 % of the width is bucket width" in widened.method  # 1 - 1.3 / 2


def test_run_noise_sd_subtracts_sampling_variance():
    assert stats.run_noise_sd(np.array([0.0, 0.1]), np.array([0.0, 0.0])) == pytest.approx(math.sqrt(0.005))
    assert stats.run_noise_sd(np.array([0.0, 0.01]), np.array([0.1, 0.1])) == 0.0
    assert math.isnan(stats.run_noise_sd(np.array([0.0]), np.array([0.0])))


def test_widen_for_run_noise_adds_variances_on_the_log_scale():
    interval = stats.Interval(1.0, math.exp(-0.03), math.exp(0.03), "m")
    widened = stats.widen_for_run_noise(interval, 0.04 / 1.959963984540054, 0.95, True, "noise")
    assert math.log(widened.high) == pytest.approx(0.05) and math.log(widened.low) == pytest.approx(-0.05)


def test_bonferroni_level_per_check():
    assert stats.per_check_confidence(0.95, 5) == pytest.approx(0.99)
    assert stats.per_check_confidence(0.95, 1) == pytest.approx(0.95)


def test_required_requests_for_p99_is_at_least_the_thirty_tail_rule():
    assert stats.required_requests(0.99, 0.01, 0.5) == 3_000
    assert stats.required_requests(0.99, 0.5, 0.03) > stats.required_requests(0.99, 0.5, 0.05) > 3_000


def quantile_evidence(q: float, matrix: np.ndarray) -> QuantileEvidence:
    return QuantileEvidence(q, tuple(BOUNDS), tuple(matrix.sum(axis=0)), (matrix,))


def test_evidence_round_trips_its_windows_compactly():
    matrix = windows_of(np.random.default_rng(13).lognormal(math.log(0.01), 0.3, (25, 50)))
    evidence = quantile_evidence(0.99, matrix)
    data = evidence.to_dict()
    assert all(len(w["counts"]) < BOUNDS.size for w in data["windows"][0])
    again = evidence_from_dict(data)
    assert np.array_equal(again.windows[0], matrix)
    assert again.interval(0.95) == evidence.interval(0.95)
    assert "auto → circular block bootstrap" in again.interval(0.95).method


def test_thin_tail_is_warn_with_the_number_of_requests_needed():
    matrix = windows_of(np.random.default_rng(14).lognormal(math.log(0.01), 0.3, (25, 40)))  # 1000 requests
    gate = GateSpec("p99", BUILTIN_METRICS["latency_p99"], "critical", max=1.0)
    result = evaluate_gate(gate, Measurement("latency_p99", "test", quantile_evidence(0.99, matrix)), None, 0.95)
    assert result.status == Status.WARN
    assert "insufficient data" in result.reason and "10 beyond p99" in result.reason
    needed = int(result.reason.split("about ")[1].split(" requests")[0].replace(",", ""))
    assert needed >= 3_000


def test_one_run_candidate_comparison_is_widened_by_the_baseline_noise_floor():
    rng = np.random.default_rng(15)
    candidate, baseline = (quantile_evidence(0.5, windows_of(rng.lognormal(-4.6, 0.3, (30, 200)))) for _ in "ab")
    plain = candidate.change_vs(baseline, 0.95).interval
    floored = candidate.change_vs(baseline, 0.95, noise=RunNoise(0.03, 3)).interval
    assert floored.low < plain.low and floored.high > plain.high
    assert "noise floor" in floored.method and "not included" in plain.method


def test_shape_observation_shows_a_tail_only_change_and_a_pure_shift():
    rng = np.random.default_rng(16)
    base = rng.lognormal(math.log(0.01), 0.3, (40, 1_250))
    tail_slower = np.where(base > np.quantile(base, 0.95), base * 1.3, base)

    def p50(latencies: np.ndarray) -> dict[str, Measurement]:
        return {"latency_p50": Measurement("latency_p50", "test", quantile_evidence(0.5, windows_of(latencies)))}

    tail = shape_observation(p50(tail_slower), p50(base), 0.95)
    assert tail is not None and "block draws" in tail and "the shape changed: the ratio at p99.9" in tail
    shifted = shape_observation(p50(base * 1.1), p50(base), 0.95)
    assert shifted is not None and "moved as a whole" in shifted
    ratios = [float(ratio) for ratio in re.findall(r"p[\d.]+ ×([\d.]+)", shifted)]
    assert len(ratios) == 6 and all(1.05 < ratio < 1.15 for ratio in ratios)
    assert shape_observation(p50(base), {}, 0.95) is None
