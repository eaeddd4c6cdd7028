"""Statistics: Prometheus-exact histogram quantiles and intervals checked against scipy and by simulation."""

import math
import shutil
import subprocess

import numpy as np
import pytest
from scipy import stats as scipy_stats

from validator.histogram import RELATIVE_ACCURACY, LatencyHistogram, cumulative_buckets
from validator.stats import (
    Interval,
    histogram_quantile,
    poisson_rate_interval,
    proportion_difference_interval,
    quantile_bootstrap_draws,
    quantile_interval,
    rate_ratio_interval,
    ratio_interval,
    wilson_interval,
)

INF = math.inf
BOUNDS = [0.1, 0.2, 0.5, 1.0, INF]
COUNTS = [10, 30, 80, 95, 100]
BUCKET_WIDTH = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY) - 1


def lognormal_histogram(rng: np.random.Generator, size: int, sigma: float = 1.0) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value in rng.lognormal(math.log(20_000.0), sigma, size).tolist():
        histogram.record(value)
    return histogram


# --- histogram_quantile: Prometheus 2.42 bucketQuantile ------------------------------------------------

# (q, upper bounds, cumulative counts, expected), each worked out by hand from bucketQuantile
HAND_COMPUTED = [
    (0.5, BOUNDS, COUNTS, 0.2 + 0.3 * 20 / 50),  # rank 50 in (0.2, 0.5]
    (0.05, BOUNDS, COUNTS, 0.1 * 5 / 10),  # first bucket starts at 0
    (0.3, BOUNDS, COUNTS, 0.2),  # rank 30 lands exactly on a bucket's count: that bucket's top
    (0.0, BOUNDS, COUNTS, 0.0),
    (0.99, BOUNDS, COUNTS, 1.0),  # in the +Inf bucket: the highest finite bound
    (1.0, BOUNDS, COUNTS, 1.0),
    (0.5, [0.5, 1.0, INF], [1.5, 4.5, 6.0], 0.5 + 0.5 * 1.5 / 3.0),  # increase() gives fractional counts
    (0.5, [2.0, INF, 1.0, 2.0], [2, 6, 1, 3], 1.5),  # unsorted, le 2 twice: summed to 5
    (0.85, [1.0, 2.0, 4.0, INF], [10, 6, 12, 12], 2.0 + 2.0 * 0.2 / 2.0),  # 6 raised to 10 (monotonic)
    (0.25, [-1.0, 0.0, 1.0, INF], [4, 6, 10, 10], -1.0),  # first bucket's bound <= 0: that bound
    (0.5, [1.0, 2.0, INF], [10, math.nan, 20], 2.0),  # NaN count: Go's binary search ends in +Inf
]


@pytest.mark.parametrize(("q", "bounds", "counts", "expected"), HAND_COMPUTED)
def test_histogram_quantile_hand_computed(q, bounds, counts, expected):
    assert histogram_quantile(q, bounds, counts) == pytest.approx(expected, rel=1e-12, abs=1e-15)


NAN_CASES = [
    (math.nan, BOUNDS, COUNTS),  # NaN q
    (0.5, [0.1, 0.2, 0.5], [1, 2, 3]),  # no +Inf bucket
    (0.5, [INF], [5]),  # fewer than 2 buckets
    (0.5, [], []),
    (0.5, [1.0, INF], [0, 0]),  # no observations
    (0.0, [1.0, 2.0, INF], [0, 5, 5]),  # rank 0 in an empty first bucket: 0/0, as Prometheus
    (0.5, [1.0, math.nan, INF], [1, 2, 3]),  # a NaN bound
]


@pytest.mark.parametrize(("q", "bounds", "counts"), NAN_CASES)
def test_histogram_quantile_nan_cases(q, bounds, counts):
    assert math.isnan(histogram_quantile(q, bounds, counts))


def test_histogram_quantile_q_outside_unit_interval_is_infinite():
    assert histogram_quantile(-0.1, BOUNDS, COUNTS) == -INF
    assert histogram_quantile(1.1, BOUNDS, COUNTS) == INF
    assert histogram_quantile(1.1, [], []) == INF  # checked before the buckets, as in Prometheus


def test_histogram_quantile_rejects_mismatched_arrays():
    with pytest.raises(ValueError, match="equal"):
        histogram_quantile(0.5, [1.0, INF], [1, 2, 3])


def _promql_case(name: str, q: float, bounds: list[float], counts: list[float], expected: float) -> tuple[str, str]:
    """A promtool series block and an expression test asserting our value bit for bit (or NaN-ness)."""
    series = "".join(
        f"      - series: '{name}_bucket{{le=\"{label}\"}}'\n        values: '{count!r}'\n"
        for label, count in zip(_le_labels(bounds), counts, strict=True)
    )
    expression = f"histogram_quantile({q!r}, {name}_bucket)"
    if math.isnan(expected):
        expression, expected = f"{expression} != bool {expression}", 1.0
    value = {INF: ".inf", -INF: "-.inf"}.get(expected, repr(float(expected)))
    test = (
        f"      - expr: '{expression}'\n        eval_time: 0m\n"
        f"        exp_samples:\n          - labels: '{{}}'\n            value: {value}\n"
    )
    return series, test


def _le_labels(bounds: list[float]) -> list[str]:
    """le label values, the second of two equal bounds spelled differently (as "1" and "1.0" scrape)."""
    labels, seen = [], set()
    for bound in bounds:
        label = "+Inf" if bound == INF else repr(bound)
        labels.append(label + "0" if label in seen and "." in label else label)
        seen.add(label)
    return labels


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool (Prometheus 2.42) on PATH")
def test_histogram_quantile_equals_prometheus_bit_for_bit(tmp_path):
    cases = [(q, bounds, counts) for q, bounds, counts, _ in HAND_COMPUTED]
    cases += [(q, bounds, counts) for q, bounds, counts in NAN_CASES if bounds and not np.isnan(bounds).any()]
    cases += [(-0.1, BOUNDS, COUNTS), (1.1, BOUNDS, COUNTS)]
    cases += [(q, [0.004, 0.013, 0.07, 0.21, INF], [3.25, 101.5, 977.0, 999.9, 1001.3]) for q in (0.37, 0.9, 0.999)]
    blocks = [
        _promql_case(f"case{i}", q, bounds, counts, histogram_quantile(q, bounds, counts))
        for i, (q, bounds, counts) in enumerate(cases)
    ]
    tests = "".join(
        "  - interval: 1m\n    input_series:\n" + series + "    promql_expr_test:\n" + test for series, test in blocks
    )
    (tmp_path / "quantiles.yml").write_text("evaluation_interval: 1m\ntests:\n" + tests)
    result = subprocess.run(
        ["promtool", "test", "rules", "quantiles.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- quantile intervals ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lognormal_20k() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """20k lognormal latencies (seconds) and the same values recorded into a LatencyHistogram."""
    values_us = np.random.default_rng(11).lognormal(math.log(20_000.0), 1.0, 20_000)
    histogram = LatencyHistogram()
    for value in values_us.tolist():
        histogram.record(value)
    bounds, cumulative = cumulative_buckets(histogram)
    return values_us / 1e6, bounds, cumulative


def _percentile_standard_error(draws: np.ndarray, level: float, spread: float = 0.01) -> float:
    """Monte Carlo standard error of the `level` percentile of `draws`: binomial error / density there."""
    low, high = np.quantile(draws, [level - spread, level + spread])
    return math.sqrt(level * (1 - level) / draws.size) * (high - low) / (2 * spread)


@pytest.mark.parametrize("q", [0.5, 0.99])
def test_quantile_interval_matches_scipy_bootstrap_on_the_same_data(lognormal_20k, q):
    values, bounds, cumulative = lognormal_20k
    # inverted_cdf: the ceil(qN)-th smallest value, the order statistic our interval is exact for
    result = scipy_stats.bootstrap(
        (values,),
        lambda sample, axis: np.quantile(sample, q, axis=axis, method="inverted_cdf"),
        method="percentile",
        n_resamples=3_000,
        batch=250,
        rng=np.random.default_rng(12),
    )
    ours = quantile_interval(q, bounds, cumulative, confidence=0.95)
    scipy_ends = (result.confidence_interval.low, result.confidence_interval.high)
    draws = result.bootstrap_distribution
    for level, mine, theirs in zip((0.025, 0.975), (ours.low, ours.high), scipy_ends, strict=True):
        # our end is exact up to one bucket's width; scipy's carries resampling noise: allow 3 standard errors
        tolerance = BUCKET_WIDTH * theirs + 3 * _percentile_standard_error(draws, level)
        assert abs(mine - theirs) <= tolerance, (level, mine, theirs, tolerance)
    assert ours.low < ours.estimate < ours.high


def test_quantile_interval_estimate_is_histogram_quantile(lognormal_20k):
    _, bounds, cumulative = lognormal_20k
    for q, b, c in [(0.99, bounds, cumulative), (0.5, BOUNDS, COUNTS), (0.9, [2.0, INF, 1.0, 2.0], [2, 6, 1, 3])]:
        assert quantile_interval(q, b, c).estimate == histogram_quantile(q, b, c)


def test_quantile_interval_covers_true_p99_about_95_percent_of_runs():
    rng = np.random.default_rng(13)
    true_p99_us = 20_000.0 * math.exp(scipy_stats.norm.ppf(0.99))
    covered = 0
    for _ in range(300):
        bounds, cumulative = cumulative_buckets(lognormal_histogram(rng, 2_000))
        interval = quantile_interval(0.99, bounds, cumulative)
        covered += interval.low <= true_p99_us / 1e6 <= interval.high
    assert 0.90 <= covered / 300 <= 0.99


def test_quantile_interval_widens_with_confidence_and_narrows_with_data(lognormal_20k):
    _, bounds, cumulative = lognormal_20k
    at_90, at_99 = (quantile_interval(0.99, bounds, cumulative, c) for c in (0.90, 0.99))
    assert at_99.low < at_90.low < at_90.high < at_99.high
    quarter = quantile_interval(0.99, bounds, np.floor(cumulative / 4))
    assert quarter.high - quarter.low > at_90.high - at_90.low


def test_quantile_interval_upper_end_unbounded_when_it_reaches_the_inf_bucket():
    interval = quantile_interval(0.95, BOUNDS, COUNTS)  # the top 5 % of observations are above 1 s
    assert interval.estimate == 1.0 and interval.high == INF and interval.low < 1.0


def test_quantile_interval_lower_edge_moves_first_bucket_interpolation():
    from_zero = quantile_interval(0.05, BOUNDS, COUNTS)
    from_edge = quantile_interval(0.05, BOUNDS, COUNTS, lower_edge=0.08)
    assert from_zero.estimate == pytest.approx(0.05) and from_edge.estimate == pytest.approx(0.09)
    assert 0.08 <= from_edge.low < from_edge.high <= 0.2
    with pytest.raises(ValueError, match="lower_edge"):
        quantile_interval(0.5, BOUNDS, COUNTS, lower_edge=0.15)


def test_quantile_interval_without_observations_is_nan():
    interval = quantile_interval(0.99, [0.1, INF], [0, 0])
    assert all(math.isnan(x) for x in (interval.estimate, interval.low, interval.high))


@pytest.mark.parametrize(("q", "confidence"), [(-0.01, 0.95), (1.01, 0.95), (math.nan, 0.95), (0.5, 0.0), (0.5, 1.0)])
def test_quantile_interval_validates_q_and_confidence(q, confidence):
    with pytest.raises(ValueError, match="within"):
        quantile_interval(q, BOUNDS, COUNTS, confidence)


def test_bootstrap_draws_follow_the_interval(lognormal_20k):
    _, bounds, cumulative = lognormal_20k
    draws = quantile_bootstrap_draws(0.99, bounds, cumulative, 40_000, np.random.default_rng(14))
    interval = quantile_interval(0.99, bounds, cumulative)
    low, high = np.quantile(draws, [0.025, 0.975])
    assert low == pytest.approx(interval.low, rel=0.005) and high == pytest.approx(interval.high, rel=0.005)
    assert np.isnan(quantile_bootstrap_draws(0.5, [1.0, INF], [0, 0], 3, np.random.default_rng(0))).all()
    with pytest.raises(ValueError, match="n_draws"):
        quantile_bootstrap_draws(0.5, BOUNDS, COUNTS, 0, np.random.default_rng(0))


def test_ratio_interval_of_identical_distributions_contains_one(lognormal_20k):
    _, bounds, cumulative = lognormal_20k
    rng = np.random.default_rng(15)
    candidate, baseline = (quantile_bootstrap_draws(0.99, bounds, cumulative, 20_000, rng) for _ in range(2))
    interval = ratio_interval(candidate, baseline)
    assert interval.low < 1.0 < interval.high
    assert interval.estimate == pytest.approx(1.0, abs=0.01)


def test_ratio_interval_finds_a_ten_percent_slowdown(lognormal_20k):
    _, bounds, cumulative = lognormal_20k
    rng = np.random.default_rng(16)
    baseline = quantile_bootstrap_draws(0.5, bounds, cumulative, 20_000, rng)
    candidate = 1.1 * quantile_bootstrap_draws(0.5, bounds, cumulative, 20_000, rng)
    interval = ratio_interval(candidate, baseline, estimate=1.1)
    assert interval.estimate == 1.1 and 1.0 < interval.low < 1.1 < interval.high


def test_ratio_interval_validates_and_propagates_nan():
    with pytest.raises(ValueError, match="equal length"):
        ratio_interval(np.ones(3), np.ones(4))
    assert math.isnan(ratio_interval(np.full(3, math.nan), np.ones(3)).low)


# --- proportions -----------------------------------------------------------------------------------


def test_wilson_with_no_failures_is_not_a_zero_width_interval():
    interval = wilson_interval(1000, 1000)
    z2 = scipy_stats.norm.ppf(0.975) ** 2
    assert interval.estimate == 1.0 and interval.high == 1.0
    assert interval.low == pytest.approx(1000 / (1000 + z2), rel=1e-12)  # n / (n + z²) when p = 1


def test_wilson_with_no_successes_reaches_zero():
    interval = wilson_interval(0, 50)
    assert interval.low == 0.0 and 0.0 < interval.high < 0.1


@pytest.mark.parametrize(("successes", "total", "confidence"), [(7, 20, 0.95), (995, 1000, 0.99), (3, 4, 0.8)])
def test_wilson_matches_scipy(successes, total, confidence):
    expected = scipy_stats.binomtest(successes, total).proportion_ci(confidence, method="wilson")
    interval = wilson_interval(successes, total, confidence)
    assert (interval.low, interval.high) == pytest.approx((expected.low, expected.high), rel=1e-12)


def test_wilson_validates_and_is_nan_without_requests():
    assert math.isnan(wilson_interval(0, 0).low)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 4)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 4, confidence=95)


def test_newcombe_difference_matches_published_example():
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 - 48/80, method 10 gives 0.0524 to 0.3339
    interval = proportion_difference_interval(56, 70, 48, 80)
    assert interval.estimate == pytest.approx(0.2)
    assert (interval.low, interval.high) == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_newcombe_difference_covers_the_true_difference_in_simulation():
    rng = np.random.default_rng(17)
    p_candidate, n_candidate, p_baseline, n_baseline = 0.985, 3_000, 0.995, 5_000
    candidates = rng.binomial(n_candidate, p_candidate, 1_000)
    baselines = rng.binomial(n_baseline, p_baseline, 1_000)
    covered = [
        (i := proportion_difference_interval(c, n_candidate, b, n_baseline)).low <= p_candidate - p_baseline <= i.high
        for c, b in zip(candidates.tolist(), baselines.tolist(), strict=True)
    ]
    assert 0.93 <= np.mean(covered) <= 0.975


def test_newcombe_difference_is_nan_without_requests():
    assert math.isnan(proportion_difference_interval(0, 0, 5, 10).high)


# --- rates -----------------------------------------------------------------------------------------


def test_poisson_rate_interval_is_garwood():
    interval = poisson_rate_interval(10, 5.0, 0.95)
    assert interval.estimate == 2.0
    expected_low = scipy_stats.chi2.ppf(0.025, 20) / 2 / 5.0
    expected_high = scipy_stats.chi2.ppf(0.975, 22) / 2 / 5.0
    assert (interval.low, interval.high) == pytest.approx((expected_low, expected_high), rel=1e-10)


def test_poisson_rate_interval_with_zero_events():
    interval = poisson_rate_interval(0, 1.0)
    assert interval.low == 0.0 and interval.high == pytest.approx(-math.log(0.025), rel=1e-10)


def test_poisson_rate_interval_takes_fractional_counts_and_validates():
    between = poisson_rate_interval(10.5, 1.0)
    assert poisson_rate_interval(10, 1.0).high < between.high < poisson_rate_interval(11, 1.0).high
    assert math.isnan(poisson_rate_interval(3, 0.0).low)
    with pytest.raises(ValueError, match="≥ 0"):
        poisson_rate_interval(-1, 1.0)


def test_rate_ratio_interval_is_clopper_pearson_on_the_count_share():
    interval = rate_ratio_interval(120, 60.0, 100, 40.0)
    share = scipy_stats.binomtest(120, 220).proportion_ci(0.95, method="exact")
    to_ratio = [p / (1 - p) * 40.0 / 60.0 for p in (share.low, share.high)]
    assert interval.estimate == pytest.approx(0.8)
    assert (interval.low, interval.high) == pytest.approx(to_ratio, rel=1e-9)


def test_rate_ratio_interval_of_equal_rates_contains_one_and_handles_zeros():
    equal = rate_ratio_interval(5_000, 60.0, 5_000, 60.0)
    assert equal.low < 1.0 < equal.high and equal.estimate == 1.0
    no_baseline_events = rate_ratio_interval(3, 1.0, 0, 1.0)
    assert no_baseline_events.high == INF and no_baseline_events.estimate == INF and no_baseline_events.low > 0
    assert rate_ratio_interval(0, 1.0, 4, 1.0).low == 0.0
    assert math.isnan(rate_ratio_interval(0, 1.0, 0, 1.0).estimate)


def test_rate_ratio_interval_covers_the_true_ratio_in_simulation():
    rng = np.random.default_rng(18)
    candidate = rng.poisson(50.0 * 30, 1_000)  # 50/s for 30 s
    baseline = rng.poisson(55.0 * 60, 1_000)  # 55/s for 60 s
    true_ratio = 50.0 / 55.0
    covered = [
        (i := rate_ratio_interval(c, 30.0, b, 60.0)).low <= true_ratio <= i.high
        for c, b in zip(candidate.tolist(), baseline.tolist(), strict=True)
    ]
    assert 0.93 <= np.mean(covered) <= 0.99


def test_interval_is_a_frozen_value():
    interval = Interval(1.0, 0.5, 2.0, "m")
    with pytest.raises(AttributeError):
        interval.low = 0.0  # type: ignore[misc]
