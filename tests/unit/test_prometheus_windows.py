"""Per-window bucket counts from a Prometheus range query of raw `_bucket` counters."""

import math

import numpy as np

from validator.prometheus import window_increases

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
