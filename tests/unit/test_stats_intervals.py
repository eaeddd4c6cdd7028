"""The interval value and coverage arithmetic: one-sided levels, Bonferroni, the SD an interval implies."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from validator.stats.intervals import (
    Interval,
    Method,
    MethodKind,
    implied_sd,
    interval_level,
    per_check_level,
    t_quantile,
    tail,
    z_score,
)


def test_interval_level_is_the_coverage_whose_ends_are_the_one_sided_bounds():
    assert interval_level(0.95) == pytest.approx(0.90)
    with pytest.raises(ValueError, match="one-sided"):
        interval_level(0.4)
    assert tail(0.9) == pytest.approx(0.05) and z_score(0.95) == pytest.approx(1.959963984540054)
    with pytest.raises(ValueError, match="coverage"):
        tail(1.0)


def test_bonferroni_level_per_check():
    assert per_check_level(0.95, 5) == pytest.approx(0.99)
    assert per_check_level(0.95, 1) == pytest.approx(0.95)


def test_implied_sd_derives_z_from_the_coverage():
    at_95 = Interval(1.0, math.exp(-0.0392), math.exp(0.0392), 0.95, Method(MethodKind.GARWOOD))
    assert implied_sd(at_95, log_scale=True) == pytest.approx(0.02, rel=1e-3)
    at_90 = Interval(0.5, 0.5 - 1.6449 * 0.01, 0.5 + 1.6449 * 0.01, 0.90, Method(MethodKind.WILSON))
    assert implied_sd(at_90, log_scale=False) == pytest.approx(0.01, rel=1e-4)
    unbounded = Interval(1.0, 0.5, math.inf, 0.95, Method(MethodKind.EXACT))
    assert implied_sd(unbounded, log_scale=True) == math.inf
    assert math.isnan(implied_sd(Interval(1.0, math.nan, math.nan, 0.95, Method(MethodKind.EXACT)), True))


def test_with_method_sets_parameters_and_keeps_the_numbers():
    interval = Interval(1.0, 0.9, 1.1, 0.9, Method(MethodKind.EXACT))
    chosen = interval.with_method(auto=True, bucket_share=0.25)
    assert chosen.method == Method(MethodKind.EXACT, auto=True, bucket_share=0.25)
    assert (chosen.estimate, chosen.low, chosen.high, chosen.coverage) == (1.0, 0.9, 1.1, 0.9)


def test_t_quantile_is_scipy_stats_t_ppf_exactly_including_the_edges():
    freedoms = [0, -1, 0.5, 1, 2, 3, 29, 1e3, math.inf, math.nan]
    levels = [0.0, 1e-9, 0.05, 0.5, 0.9, 0.95, 0.975, 0.999, 1.0, math.nan, 1.5, *np.linspace(0.5, 0.9999, 50)]
    for freedom, level in itertools.product(freedoms, levels):
        expected, found = float(scipy_stats.t.ppf(level, freedom)), t_quantile(level, freedom)
        assert found == expected or (math.isnan(expected) and math.isnan(found))
