"""Per-window bucket counts from a Prometheus range query of raw `_bucket` counters."""

import math

import numpy as np

from validator.prometheus import window_increases
from validator.prometheus.source import native_vector, native_window_increases

BOUNDS = (0.1, 0.5, math.inf)


def series(le: str, instance: str, values: list[float], start: float = 100.0) -> dict:
    return {"metric": {"le": le, "instance": instance}, "values": [[start + i, str(v)] for i, v in enumerate(values)]}


def test_increases_are_differenced_per_series_then_summed_by_le():
    result = [
        series("0.1", "a", [0, 1, 3, 3]),
        series("0.5", "a", [0, 2, 5, 6]),
        series("+Inf", "a", [0, 2, 6, 8]),
        series("+Inf", "b", [10, 11, 11, 12]),
    ]
    matrix = window_increases(result, BOUNDS, 100.0, 1.0, 3)
    assert np.array_equal(matrix, [[1, 2, 3], [2, 3, 4], [0, 1, 3]])


def test_a_counter_reset_counts_the_new_value_as_the_increase():
    result = [series("0.1", "a", [5, 7, 2, 4]), series("0.5", "a", [5, 7, 2, 4]), series("+Inf", "a", [5, 7, 2, 4])]
    matrix = window_increases(result, BOUNDS, 100.0, 1.0, 3)
    assert np.array_equal(matrix[:, -1], [2, 2, 2])


def test_an_unknown_le_makes_the_windows_unusable():
    assert window_increases([series("0.3", "a", [0, 1])], BOUNDS, 100.0, 1.0, 1) is None
    assert window_increases("not a list", BOUNDS, 100.0, 1.0, 1) is None


# The shape of a real answer: `sum(increase(native_request_duration_seconds{job="native"}[8s]))` from Prometheus
# 2.42 with --enable-feature=native-histograms over the Go test service (recorded 2026-12-06, buckets shortened).
NATIVE_ANSWER = [{"metric": {}, "histogram": [1796521631.712, {"count": "12", "sum": "0.3", "buckets": [
    [3, "-2.9e-39", "2.9e-39", "1"],
    [0, "0.0078125", "0.008519591661447326", "2"],
    [0, "0.008519591661447326", "0.009290680585958758", "4"],
    [0, "0.0125", "0.015625", "5"],
]}]}]


def test_a_native_answer_becomes_cumulative_bounds_with_its_gaps_kept():
    bounds, cumulative = native_vector(NATIVE_ANSWER)
    assert bounds == (2.9e-39, 0.0078125, 0.008519591661447326, 0.009290680585958758, 0.0125, 0.015625, math.inf)
    assert cumulative == (1.0, 1.0, 3.0, 7.0, 7.0, 12.0, 12.0)  # the gap 9.3 ms – 12.5 ms holds nothing
    scaled, _ = native_vector(NATIVE_ANSWER, scale=0.001)  # bounds in ms → seconds
    assert scaled[2] == 0.008519591661447326 * 0.001
    assert native_vector([{"metric": {}, "histogram": [1.0, {"count": "0", "sum": "0"}]}]) is None


def test_native_series_are_differenced_per_window_and_a_reset_restarts_from_zero():
    def sample(t, a, b):
        return [t, {"count": str(a + b), "buckets": [[0, "0.01", "0.02", str(a)], [0, "0.02", "0.04", str(b)]]}]

    series = [{"metric": {"instance": "x"}, "histograms": [sample(100, 5, 1), sample(101, 8, 1), sample(102, 1, 2)]}]
    matrix = native_window_increases(series, (0.01, 0.02, 0.04, math.inf), 100.0, 1.0, 2)
    assert matrix.tolist() == [[0, 3, 3, 3], [0, 1, 3, 3]]  # window 2: a reset, so the counts themselves
    assert native_window_increases(series, (0.02, math.inf), 100.0, 1.0, 2) is None  # 0.04 is not a known bound
