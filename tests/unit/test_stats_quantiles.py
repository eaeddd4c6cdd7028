"""Quantiles of bucketed histograms: Prometheus-exact histogram_quantile and exact intervals, checked against
scipy, by simulation and (with promtool) against Prometheus itself."""

import math
import shutil
import subprocess

import numpy as np
import pytest
from scipy import stats as scipy_stats

from validator.stats.intervals import Interval, Method, MethodKind
from validator.stats.quantiles import (
    EXACT,
    histogram_quantile,
    percentile_interval,
    quantile_bootstrap_draws,
    quantile_interval,
    ratio_interval,
    required_requests,
    widen_to_bucket_edges,
)

INF = math.inf
BOUNDS = [0.1, 0.2, 0.5, 1.0, INF]
COUNTS = [10, 30, 80, 95, 100]
GAMMA = (1 + 0.001) / (1 - 0.001)  # the client histogram's bucket growth: 0.2 %-wide buckets
BUCKET_WIDTH = GAMMA - 1


def log_buckets(values_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prometheus-style (upper bounds, cumulative counts ending at +Inf) of `values_s` in 0.2 %-wide buckets, with
    an empty bucket first so interpolation starts at the lowest value's bucket, not at 0."""
    keys = np.ceil(np.log(values_s) / math.log(GAMMA)).astype(int)
    first = keys.min() - 1
    bounds = np.append(GAMMA ** np.arange(first, keys.max() + 1, dtype=float), INF)
    return bounds, np.cumsum(np.bincount(keys - first, minlength=bounds.size))


def lognormal_buckets(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    return log_buckets(rng.lognormal(math.log(0.02), 1.0, size))


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
    """20k lognormal latencies (seconds) and the same values in 0.2 %-wide buckets."""
    values = np.random.default_rng(11).lognormal(math.log(0.02), 1.0, 20_000)
    return values, *log_buckets(values)


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
    ours = quantile_interval(q, bounds, cumulative, coverage=0.95)
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
    true_p99 = 0.02 * math.exp(scipy_stats.norm.ppf(0.99))
    covered = 0
    for _ in range(300):
        bounds, cumulative = lognormal_buckets(rng, 2_000)
        interval = quantile_interval(0.99, bounds, cumulative)
        covered += interval.low <= true_p99 <= interval.high
    assert 0.90 <= covered / 300 <= 0.99


def test_quantile_interval_widens_with_coverage_and_narrows_with_data(lognormal_20k):
    _, bounds, cumulative = lognormal_20k
    at_90, at_99 = (quantile_interval(0.99, bounds, cumulative, c) for c in (0.90, 0.99))
    assert at_99.low < at_90.low < at_90.high < at_99.high
    quarter = quantile_interval(0.99, bounds, np.floor(cumulative / 4))
    assert quarter.high - quarter.low > at_90.high - at_90.low


def test_quantile_interval_upper_end_unbounded_when_it_reaches_the_inf_bucket():
    interval = quantile_interval(0.95, BOUNDS, COUNTS)  # the top 5 % of observations are above 1 s
    assert interval.estimate == 1.0 and interval.high == INF and interval.low < 1.0


def test_quantile_interval_without_observations_is_nan():
    interval = quantile_interval(0.99, [0.1, INF], [0, 0])
    assert all(math.isnan(x) for x in (interval.estimate, interval.low, interval.high))


@pytest.mark.parametrize(("q", "coverage"), [(-0.01, 0.95), (1.01, 0.95), (math.nan, 0.95), (0.5, 0.0), (0.5, 1.0)])
def test_quantile_interval_validates_q_and_coverage(q, coverage):
    with pytest.raises(ValueError, match="within"):
        quantile_interval(q, BOUNDS, COUNTS, coverage)


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


def test_intervals_carry_their_coverage_and_method():
    interval = quantile_interval(0.5, BOUNDS, COUNTS, 0.9)
    assert interval.coverage == 0.9 and interval.method == EXACT
    ratio = ratio_interval(np.ones(5), np.ones(5), 0.8)
    assert ratio.coverage == 0.8 and ratio.method == Method(MethodKind.EXACT, ratio=True)
    block = Method(MethodKind.BLOCK, windows=(60,), blocks=(3,), resamples=500)
    assert ratio_interval(np.ones(5), np.ones(5), 0.8, draws=block).method == Method(
        MethodKind.BLOCK, ratio=True, windows=(60,), blocks=(3,), resamples=500
    )
    assert percentile_interval(np.arange(10.0), 0.9, 4.5, block).method == block


def test_widening_reaches_the_bucket_edges_and_records_the_share():
    interval = Interval(1.5, 1.2, 2.5, 0.9, EXACT)
    widened = widen_to_bucket_edges(interval, np.array([1.0, 2.0, 3.0, math.inf]))
    assert (widened.low, widened.high, widened.coverage) == (1.0, 3.0, 0.9)
    assert widened.method.bucket_share == pytest.approx(0.35)  # 1 - 1.3 / 2


def test_required_requests_for_p99_is_at_least_the_thirty_tail_rule():
    assert required_requests(0.99, 0.01, 0.5) == 3_000
    assert required_requests(0.99, 0.5, 0.03) > required_requests(0.99, 0.5, 0.05) > 3_000
