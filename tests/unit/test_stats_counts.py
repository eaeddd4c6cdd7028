"""Count intervals: Wilson and Newcombe proportions, Garwood rates and conditional rate ratios, against scipy,
published examples and simulation."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from validator.stats.counts import (
    GARWOOD,
    NEWCOMBE,
    RATE_RATIO,
    WILSON,
    poisson_rate_interval,
    proportion_difference_interval,
    rate_ratio_interval,
    wilson_interval,
)

INF = math.inf


# --- proportions -----------------------------------------------------------------------------------


def test_wilson_with_no_failures_is_not_a_zero_width_interval():
    interval = wilson_interval(1000, 1000)
    z2 = scipy_stats.norm.ppf(0.975) ** 2
    assert interval.estimate == 1.0 and interval.high == 1.0
    assert interval.low == pytest.approx(1000 / (1000 + z2), rel=1e-12)  # n / (n + z²) when p = 1


def test_wilson_with_no_successes_reaches_zero():
    interval = wilson_interval(0, 50)
    assert interval.low == 0.0 and 0.0 < interval.high < 0.1


@pytest.mark.parametrize(("successes", "total", "coverage"), [(7, 20, 0.95), (995, 1000, 0.99), (3, 4, 0.8)])
def test_wilson_matches_scipy(successes, total, coverage):
    expected = scipy_stats.binomtest(successes, total).proportion_ci(coverage, method="wilson")
    interval = wilson_interval(successes, total, coverage)
    assert (interval.low, interval.high) == pytest.approx((expected.low, expected.high), rel=1e-12)


def test_wilson_validates_and_is_nan_without_requests():
    assert math.isnan(wilson_interval(0, 0).low)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 4)
    with pytest.raises(ValueError, match="coverage"):
        wilson_interval(1, 4, coverage=95)


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


def test_count_intervals_name_their_method_and_coverage():
    found = [
        (wilson_interval(7, 20, 0.9), WILSON),
        (proportion_difference_interval(7, 20, 8, 20, 0.9), NEWCOMBE),
        (poisson_rate_interval(7, 2.0, 0.9), GARWOOD),
        (rate_ratio_interval(7, 2.0, 8, 2.0, 0.9), RATE_RATIO),
        (wilson_interval(0, 0, 0.9), WILSON),
    ]
    assert all(interval.method == method and interval.coverage == 0.9 for interval, method in found)
