"""Between-run statistics: ratios from the spread of the runs' own estimates, run-to-run noise."""

import math

import numpy as np
import pytest

from validator.stats.intervals import Interval, Method, MethodKind
from validator.stats.runs import (
    between_run_interval,
    between_run_ratio_interval,
    run_noise_sd,
    t_score,
    widen_for_run_noise,
)


def test_between_run_ratio_interval_pools_the_spread_of_both_sides():
    candidate, baseline = np.array([0.08, 0.10, 0.12]), np.array([-0.01, 0.0, 0.01])  # logs of each run's figure
    interval = between_run_ratio_interval(candidate, baseline, 1.12, 0.90)
    squares = 2 * 0.02**2 + 2 * 0.01**2  # about each side's mean
    error = math.sqrt(squares / 4 * (1 / 3 + 1 / 3))
    assert math.log(interval.high / 1.12) == pytest.approx(2.1318 * error, rel=0.001)  # Student t, 4 df
    assert math.log(1.12 / interval.low) == pytest.approx(math.log(interval.high / 1.12))
    runs = interval.method.runs
    assert interval.method.kind == MethodKind.BETWEEN_RUNS and interval.coverage == 0.90
    assert (runs.candidate_runs, runs.baseline_runs, runs.freedom) == (3, 3, 4) and not runs.floored
    assert runs.run_sd == pytest.approx(math.sqrt(squares / 4)) and runs.standard_error == pytest.approx(error)


def test_between_run_ratio_interval_needs_three_runs_and_never_claims_less_than_a_run_varies():
    assert math.isnan(between_run_ratio_interval(np.zeros(1), np.zeros(1), 1.0).low)
    assert math.isnan(between_run_ratio_interval(np.array([0.0, math.nan]), np.zeros(1), 1.0).high)
    identical = between_run_ratio_interval(np.zeros(2), np.zeros(1), 1.0, 0.95, min_run_sd=0.001)
    assert math.log(identical.high) == pytest.approx(12.706 * 0.001 * math.sqrt(1 / 2 + 1), rel=0.001)  # t, 1 df
    assert identical.method.runs.floored and identical.method.runs.min_run_sd == 0.001


def test_run_noise_sd_subtracts_sampling_variance():
    assert run_noise_sd(np.array([0.0, 0.1]), np.array([0.0, 0.0])) == pytest.approx(math.sqrt(0.005))
    assert run_noise_sd(np.array([0.0, 0.01]), np.array([0.1, 0.1])) == 0.0
    assert math.isnan(run_noise_sd(np.array([0.0]), np.array([0.0])))


def test_widen_for_run_noise_adds_variances_at_the_interval_coverage():
    interval = Interval(1.0, math.exp(-0.03), math.exp(0.03), 0.95, Method(MethodKind.EXACT))
    widened = widen_for_run_noise(interval, 0.04 / 1.959963984540054, True)
    assert math.log(widened.high) == pytest.approx(0.05) and math.log(widened.low) == pytest.approx(-0.05)
    narrower = Interval(1.0, math.exp(-0.03), math.exp(0.03), 0.90, Method(MethodKind.EXACT))
    assert widen_for_run_noise(narrower, 0.04 / 1.959963984540054, True).high < widened.high  # z from coverage
    linear = Interval(0.0, -0.03, 0.03, 0.95, Method(MethodKind.NEWCOMBE))
    assert widen_for_run_noise(linear, 0.04 / 1.959963984540054, False).high == pytest.approx(0.05)


def test_between_run_interval_of_one_side_and_of_a_difference():
    logs = np.log(np.array([1.00, 1.04, 0.98]))
    one = between_run_interval(logs, None, 1.0, 0.90, min_run_sd=0.001)
    sd = float(np.std(logs, ddof=1))
    assert math.log(one.high) == pytest.approx(2.9200 * sd / math.sqrt(3), rel=0.001)  # t, 2 df
    assert one.method.runs.freedom == 2 and one.method.runs.baseline_runs == 0
    rates = between_run_interval(np.array([0.99, 0.98]), np.array([0.99, 0.995]), -0.0075, 0.90, log_scale=False)
    assert rates.low < -0.0075 < rates.high and not rates.method.runs.log_scale
    assert rates.high - (-0.0075) == pytest.approx(-0.0075 - rates.low)


def test_t_score_is_normal_with_infinite_freedom():
    assert t_score(0.90, math.inf) == pytest.approx(1.6449, rel=1e-4)
    assert t_score(0.90, 2) == pytest.approx(2.9200, rel=1e-4)
