"""The client latency histogram: bucket accuracy, quantiles, merging, serialisation, timelines."""

import json
import math

import numpy as np
import pytest
from ddsketch.mapping import LogarithmicMapping

from validator.load.histogram import (
    RELATIVE_ACCURACY,
    LatencyHistogram,
    Timeline,
    bucket_key,
    upper_edges_us,
)

MAPPING = LogarithmicMapping(relative_accuracy=RELATIVE_ACCURACY)
BUCKET_WIDTH = MAPPING.gamma - 1  # relative width of one bucket, ~0.2 %


def lognormal_us(seed: int, size: int, median_us: float = 20_000.0, sigma: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(math.log(median_us), sigma, size)


def histogram_of(values: np.ndarray) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value in values.tolist():
        histogram.record(value)
    return histogram


def test_bucket_key_is_ddsketch_key_including_bucket_boundaries():
    values = np.exp(np.random.default_rng(1).uniform(0.0, math.log(1e10), 100_000)).tolist()
    boundaries = [MAPPING.gamma**k for k in range(0, 12_000, 7)]
    values += (
        boundaries
        + [float(np.nextafter(b, 0)) for b in boundaries]
        + [float(np.nextafter(b, 2 * b)) for b in boundaries]
    )
    assert [bucket_key(v) for v in values] == [MAPPING.key(v) for v in values]


def test_every_value_is_within_relative_accuracy_of_its_bucket():
    values = np.exp(np.random.default_rng(2).uniform(0.0, math.log(1e8), 20_000))
    for value in values.tolist():
        keys, counts = histogram_of(np.array([value])).buckets()
        upper_us = float(upper_edges_us(keys)[0])
        assert counts.tolist() == [1]
        assert upper_us / MAPPING.gamma * (1 - 1e-12) < value <= upper_us * (1 + 1e-12)
        representative = upper_us * (1 - RELATIVE_ACCURACY)  # ddsketch's value(key)
        assert abs(representative - value) / value <= RELATIVE_ACCURACY * (1 + 1e-9)


def test_values_below_one_microsecond_count_as_one_microsecond():
    histogram = LatencyHistogram()
    for value in (0.3, 0.0, -5.0):
        histogram.record(value)
    keys, counts = histogram.buckets()
    assert keys.tolist() == [bucket_key(1.0)] and counts.tolist() == [3]
    assert (histogram.min, histogram.max, histogram.sum, histogram.total) == (1.0, 1.0, 3.0, 3)


def test_record_with_count_tracks_total_sum_min_max():
    histogram = LatencyHistogram()
    histogram.record(100.0, count=4)
    histogram.record(50.0)
    assert (histogram.total, histogram.sum, histogram.min, histogram.max) == (5, 450.0, 50.0, 100.0)


@pytest.mark.parametrize("q", [0.0, 0.5, 0.9, 0.99, 0.999, 1.0])
def test_quantile_of_lognormal_sample_is_within_one_bucket_of_numpy(q):
    values = lognormal_us(3, 100_000)
    histogram = histogram_of(values)
    # inverted_cdf is the ceil(qN)-th smallest value: the one whose bucket we interpolate in
    exact = np.quantile(values, q, method="inverted_cdf")
    assert abs(histogram.quantile(q) - exact) / exact <= BUCKET_WIDTH


def test_quantile_rejects_q_outside_unit_interval_and_is_nan_when_empty():
    with pytest.raises(ValueError, match="within"):
        LatencyHistogram().quantile(1.5)
    assert math.isnan(LatencyHistogram().quantile(0.5))


def test_merge_equals_recording_everything_into_one():
    values = lognormal_us(4, 30_000)
    merged = LatencyHistogram()
    for part in np.array_split(values, 3):
        merged.merge(histogram_of(part))
    single = histogram_of(values)
    assert [a.tolist() for a in merged.buckets()] == [a.tolist() for a in single.buckets()]
    assert (merged.total, merged.min, merged.max) == (single.total, single.min, single.max)
    assert merged.sum == pytest.approx(single.sum, rel=1e-12)


def test_merge_into_empty_and_copy_is_independent():
    histogram = histogram_of(np.array([10.0, 20.0]))
    duplicate = histogram.copy()
    duplicate.record(30.0)
    assert (histogram.total, duplicate.total, duplicate.max) == (2, 3, 30.0)


def test_added_equals_merging_in_turn_for_read_recorded_and_empty_histograms():
    parts = [histogram_of(lognormal_us(seed, 2_000)) for seed in (7, 8, 9)]
    parts[1] = LatencyHistogram.from_dict(json.loads(json.dumps(parts[1].to_dict())))  # packed, as read
    parts.insert(2, LatencyHistogram())
    merged = LatencyHistogram()
    for part in parts:
        merged.merge(part)
    added = LatencyHistogram.added(parts)
    assert [a.tolist() for a in added.buckets()] == [a.tolist() for a in merged.buckets()]
    assert (added.total, added.sum, added.min, added.max) == (merged.total, merged.sum, merged.min, merged.max)
    assert LatencyHistogram.added([]).total == 0 and math.isnan(LatencyHistogram.added([]).quantile(0.5))


def test_a_copy_of_a_read_histogram_shares_its_buckets_until_either_changes():
    read = LatencyHistogram.from_dict(histogram_of(np.array([10.0, 20.0])).to_dict())
    duplicate = read.copy()
    duplicate.record(30.0)
    read.record(40.0)
    assert (read.total, duplicate.total, read.max, duplicate.max) == (3, 3, 40.0, 30.0)
    assert LatencyHistogram.from_dict(read.to_dict()).quantile(1.0) == 40.0


def test_packed_buckets_are_narrow_where_they_fit_and_exact_where_they_do_not():
    small = LatencyHistogram.from_buckets(np.array([5, 9]), np.array([3, 4]), 100.0, 1.0, 20.0)
    wide = LatencyHistogram.from_buckets(np.array([7, 40_000]), np.array([2, 3_000_000_000]), 9e9, 1.0, 1e9)
    assert [a.dtype for a in small._packed] == [np.int16, np.int32]
    assert [a.tolist() for a in wide.buckets()] == [[7, 40_000], [2, 3_000_000_000]]
    both = LatencyHistogram.added([wide, small])
    assert [a.tolist() for a in both.buckets()] == [[5, 7, 9, 40_000], [3, 2, 4, 3_000_000_000]]
    assert both.total == 3_000_000_009 and [a.dtype for a in both.buckets()] == [np.int64, np.int64]


def test_to_dict_from_dict_round_trip_through_json():
    histogram = histogram_of(lognormal_us(5, 5_000))
    data = json.loads(json.dumps(histogram.to_dict()))
    restored = LatencyHistogram.from_dict(data)
    assert restored.to_dict() == histogram.to_dict()
    assert restored.buckets()[0].tolist() == histogram.buckets()[0].tolist()
    assert restored.buckets()[1].tolist() == histogram.buckets()[1].tolist()
    assert restored.total == histogram.total
    for ours, theirs in ((restored.sum, histogram.sum), (restored.min, histogram.min), (restored.max, histogram.max)):
        assert ours == pytest.approx(theirs, abs=5e-4)  # µs to the nanosecond
    assert isinstance(data["buckets"][0], int) and min(data["buckets"][1:]) >= -len(data["buckets"])  # one count row


def test_empty_histogram_round_trips_to_valid_json():
    data = LatencyHistogram().to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    restored = LatencyHistogram.from_dict(data)
    assert restored.total == 0 and math.isnan(restored.quantile(0.5))


def test_from_dict_refuses_other_accuracy_and_misaligned_arrays():
    data = histogram_of(np.array([10.0, 20.0])).to_dict()
    with pytest.raises(ValueError, match="relative_accuracy"):
        LatencyHistogram.from_dict({**data, "relative_accuracy": 0.01})
    with pytest.raises(ValueError, match="count row"):
        LatencyHistogram.from_dict({**data, "buckets": [-1, 1]})


def test_timeline_assigns_windows_by_floor_from_origin():
    timeline = Timeline(origin=100.0, window_seconds=2.5)
    for timestamp in (99.9, 100.0, 102.49, 102.5, 107.6):
        timeline.record(timestamp, 1_000.0, success=timestamp != 102.5)
    assert [(w.index, w.histogram.total, w.successes, w.failures) for w in timeline.windows()] == [
        (-1, 1, 1, 0),
        (0, 2, 2, 0),
        (1, 1, 0, 1),
        (3, 1, 1, 0),
    ]
    assert (timeline.successes, timeline.failures, timeline.combined().total) == (4, 1, 5)


def test_timeline_select_keeps_half_open_range_as_a_copy():
    timeline = Timeline(origin=0.0)
    for second in range(10):
        timeline.record(second + 0.5, 1_000.0 * (second + 1), success=True)
    steady = timeline.select(2, 8)
    assert [w.index for w in steady.windows()] == [2, 3, 4, 5, 6, 7]
    assert (steady.combined().min, steady.combined().max) == (3_000.0, 8_000.0)
    steady.record(2.1, 5.0, success=False)
    assert timeline.failures == 0 and timeline.windows()[2].histogram.total == 1


def test_timeline_merge_adds_windows_and_requires_same_origin_and_size():
    first, second = Timeline(origin=10.0), Timeline(origin=10.0)
    first.record(10.5, 100.0, success=True)
    second.record(10.7, 200.0, success=False)
    second.record(12.0, 300.0, success=True)
    first.merge(second)
    assert [(w.index, w.histogram.total, w.successes, w.failures) for w in first.windows()] == [
        (0, 2, 1, 1),
        (2, 1, 1, 0),
    ]
    with pytest.raises(ValueError, match="origin"):
        first.merge(Timeline(origin=11.0))
    with pytest.raises(ValueError, match="origin"):
        first.merge(Timeline(origin=10.0, window_seconds=5.0))


def test_a_selection_of_a_read_timeline_is_a_copy():
    timeline = Timeline(origin=0.0)
    for second in range(6):
        timeline.record(second + 0.5, 1_000.0 * (second + 1), success=True)
    read = Timeline.from_dict(json.loads(json.dumps(timeline.to_dict())))
    steady = read.select(1, 4)
    steady.record(1.2, 5.0, success=False)
    assert read.windows()[1].histogram.total == 1 and steady.windows()[0].histogram.total == 2
    assert read.combined().to_dict() == timeline.combined().to_dict()


def test_timeline_round_trips_through_json():
    timeline = Timeline(origin=1_700_000_000.25, window_seconds=0.5)
    for i, value in enumerate(lognormal_us(6, 2_000).tolist()):
        timeline.record(timeline.origin + i * 0.003, value, success=i % 17 != 0)
    restored = Timeline.from_dict(json.loads(json.dumps(timeline.to_dict())))
    assert restored.to_dict() == timeline.to_dict()
    assert (restored.successes, restored.failures) == (timeline.successes, timeline.failures)


def test_timeline_rejects_nonpositive_window():
    with pytest.raises(ValueError, match="window_seconds"):
        Timeline(origin=0.0, window_seconds=0.0)

