"""Block and hierarchical bootstrap over per-window histograms: weights, block length, spread corrections."""

import math

import numpy as np
import pytest

from validator.stats.intervals import MethodKind
from validator.stats.quantiles import histogram_quantile, percentile_interval, quantile_interval
from validator.stats.resampling import (
    block_plan,
    block_spread_factor,
    choose_method,
    circular_block_weights,
    few_blocks_factor,
    resampling_weights,
    windowed_quantile_draws,
)

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
    weights = circular_block_weights(10, 3, 500, np.random.default_rng(1))
    assert weights.shape == (500, 10) and (weights.sum(axis=1) == 10).all()
    single = circular_block_weights(10, 10, 5, np.random.default_rng(2))
    assert (single == 1).all()  # one block of the whole run, wrapped: every window once
    with pytest.raises(ValueError, match="block"):
        circular_block_weights(10, 11, 5, np.random.default_rng(3))


@pytest.mark.parametrize(("n_windows", "block"), [(10, 3), (12, 4), (7, 7), (9, 1), (3600, 29), (300, 299)])
def test_circular_block_weights_count_the_windows_each_drawn_block_covers(n_windows, block):
    weights = circular_block_weights(n_windows, block, 40, np.random.default_rng(block))
    starts = np.random.default_rng(block).integers(0, n_windows, (40, -(-n_windows // block)))
    expected = np.zeros((40, n_windows))
    for row, row_starts in enumerate(starts):
        lengths = [block] * (len(row_starts) - 1) + [n_windows - (len(row_starts) - 1) * block]
        for start, length in zip(row_starts, lengths, strict=True):
            expected[row, (start + np.arange(length)) % n_windows] += 1
    assert weights.dtype == np.float32 and weights.flags.c_contiguous and (weights == expected).all()


def test_block_length_grows_with_autocorrelation_and_is_what_the_draws_use():
    rng = np.random.default_rng(4)
    iid = windows_of(ar1_latencies(rng, 60, 200, 0.0))
    correlated = windows_of(ar1_latencies(rng, 60, 200, 0.9))
    assert block_plan(iid, 0.99).length <= 2 < block_plan(correlated, 0.99).length <= 15
    for matrix in (iid, correlated):
        _, method = windowed_quantile_draws(0.99, BOUNDS, [matrix], 100, 5)
        assert method.kind == MethodKind.BLOCK and method.blocks == (block_plan(matrix, 0.99).length,)


def test_block_interval_on_iid_windows_matches_the_exact_interval():
    matrix = windows_of(np.random.default_rng(5).lognormal(math.log(0.01), 0.3, (60, 500)))
    pooled = matrix.sum(axis=0)
    exact = quantile_interval(0.99, BOUNDS, pooled)
    draws, method = windowed_quantile_draws(0.99, BOUNDS, [matrix], 4_000, 6)
    block = percentile_interval(draws, 0.95, exact.estimate, method)
    assert block.low == pytest.approx(exact.low, rel=0.01) and block.high == pytest.approx(exact.high, rel=0.01)
    assert method.kind == MethodKind.BLOCK and method.windows == (60,) and method.resamples == 4_000


def test_block_interval_is_wider_than_exact_on_autocorrelated_windows():
    matrix = windows_of(ar1_latencies(np.random.default_rng(7), 60, 500, 0.8))
    exact = quantile_interval(0.99, BOUNDS, matrix.sum(axis=0))
    draws, method = windowed_quantile_draws(0.99, BOUNDS, [matrix], 2_000, 8)
    block = percentile_interval(draws, 0.95, exact.estimate, method)
    assert block.high - block.low > 2 * (exact.high - exact.low)


def test_resampled_quantiles_equal_histogram_quantile_of_each_resample():
    matrix = windows_of(np.random.default_rng(9).lognormal(math.log(0.01), 0.5, (30, 100)))
    plan = block_plan(matrix, 0.95)
    weights = resampling_weights((30,), (plan.length,), 50, 10, False)
    draws, method = windowed_quantile_draws(0.95, BOUNDS, [matrix], 50, 10)
    raw = np.log([histogram_quantile(0.95, BOUNDS, row) for row in weights.astype(float) @ matrix])
    factor = block_spread_factor(plan.own, plan.strongest, plan.length) * few_blocks_factor(30 // plan.length)
    centre = math.log(histogram_quantile(0.95, BOUNDS, matrix.sum(axis=0)))
    assert factor > 1.0 and method.spread is not None and method.spread.factor == pytest.approx(factor)
    assert method.spread.blocks == 30 // plan.length
    assert draws == pytest.approx(np.exp(centre + factor * (raw - centre)), rel=1e-6)


def test_hierarchical_draws_equal_histogram_quantile_of_each_of_many_resamples():
    rng = np.random.default_rng(11)
    runs = [windows_of(rng.lognormal(math.log(0.01), 0.5, (20, 100))) for _ in range(3)]
    draws, method = windowed_quantile_draws(0.9, BOUNDS, runs, 600, 12)
    weights = resampling_weights((20, 20, 20), (20, 20, 20), 600, 12, True)
    expected = [histogram_quantile(0.9, BOUNDS, row) for row in weights.astype(float) @ np.vstack(runs)]
    assert method.kind == MethodKind.HIERARCHICAL and draws.tolist() == expected


def test_draws_spread_over_many_buckets_equal_histogram_quantile_of_each_resample():
    # runs 3, 9 and 27 ms apart put the resamples' p50 in buckets far from the pooled one and from each other
    rng = np.random.default_rng(13)
    runs = [windows_of(rng.lognormal(math.log(0.003 * 3**i), 0.2, (20, 100))) for i in range(3)]
    draws, _ = windowed_quantile_draws(0.5, BOUNDS, runs, 400, 14)
    weights = resampling_weights((20, 20, 20), (20, 20, 20), 400, 14, True)
    expected = [histogram_quantile(0.5, BOUNDS, row) for row in weights.astype(float) @ np.vstack(runs)]
    assert np.ptp(np.searchsorted(BOUNDS, expected)) > 100 and draws.tolist() == expected


def test_spread_factors_grow_with_correlation_and_with_fewer_blocks():
    iid = windows_of(np.random.default_rng(3).lognormal(math.log(0.01), 0.5, (60, 500)))
    correlated = windows_of(ar1_latencies(np.random.default_rng(4), 60, 500, 0.8))
    plans = [block_plan(m, 0.99) for m in (iid, correlated)]
    assert block_spread_factor(plans[0].own, plans[0].strongest, 1) < 1.1
    assert 1.1 < block_spread_factor(plans[1].own, plans[1].strongest, 2)
    assert block_spread_factor(0.0, 0.5, 4) == 1.0
    kept = 1 + 2 * 0.5 * (0.75 + 0.25 + 0.0625)  # blocks of 4 keep lags 1..3 at weights 3/4, 1/2, 1/4
    assert block_spread_factor(0.5, 0.5, 4) == pytest.approx(math.sqrt(3.0 / kept))
    assert few_blocks_factor(60) == pytest.approx(1.03, abs=0.01)
    assert few_blocks_factor(12) == pytest.approx(1.17, abs=0.01)
    assert few_blocks_factor(1) == 1.0


def test_hierarchical_bootstrap_includes_the_spread_between_runs():
    rng = np.random.default_rng(11)
    runs = [windows_of(rng.lognormal(math.log(0.01) + shift, 0.3, (30, 300))) for shift in (-0.05, 0.0, 0.05)]
    within, _ = windowed_quantile_draws(0.5, BOUNDS, runs, 2_000, 12, resample_runs=False)
    between, method = windowed_quantile_draws(0.5, BOUNDS, runs, 2_000, 12)
    assert np.std(np.log(between)) > 3 * np.std(np.log(within))
    assert method.kind == MethodKind.HIERARCHICAL and method.windows == (30, 30, 30) and method.resamples == 2_000


def test_choose_method_auto_rule():
    assert choose_method("auto", [25, 30]) == "block"
    assert choose_method("auto", [19]) == "exact"
    assert choose_method("block", [5]) == "block"
    assert choose_method("block", []) == "exact"  # no windows: only the exact method is possible
    assert choose_method("exact", [600]) == "exact"
