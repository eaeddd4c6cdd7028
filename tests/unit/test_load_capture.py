"""Per-process captures: deltas drained by the recorder add up exactly, survive serialisation, and merge."""

import json

import numpy as np
import pytest

from validator.load.capture import Capture
from validator.load.histogram import LatencyHistogram, upper_edges_us
from validator.load.recorder import INTENDED_KEY, LATE_SEND_THRESHOLD_S, RequestRecorder


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Boom(Exception):
    pass


class Response:
    status_code = 500


def record_some(recorder: RequestRecorder, clock: Clock, count: int, start: float) -> None:
    for i in range(count):
        clock.now = start + i * 0.01
        failed = i % 7 == 0
        recorder(
            "GET",
            f"/e{i % 3}",
            response_time=1.0 + i % 50,
            exception=Boom(f"bad | {i}") if failed else None,
            response=Response() if failed else None,
        )


def test_drained_deltas_from_two_processes_merge_to_the_exact_totals() -> None:
    origin = 1000.0
    merged = Capture(origin)
    total = 0
    for _process in range(2):
        clock = Clock(origin)
        recorder = RequestRecorder(origin, clock=clock)
        for part in range(3):
            record_some(recorder, clock, 150 + part, origin + part)
            total += 150 + part
            delta = Capture.from_dict(json.loads(json.dumps(recorder.drain().to_dict())))
            merged.merge(delta)
        assert recorder.drain().requests == 0
    assert merged.requests == total
    assert merged.timeline.successes + merged.timeline.failures == total
    assert sum(e.histogram.total for e in merged.endpoints.values()) == total
    failures = sum(e.failures for e in merged.endpoints.values())
    assert merged.timeline.failures == failures == sum(g.count for g in merged.errors.values())
    group = next(iter(merged.errors.values()))
    assert group.status == "500" and group.exception == "Boom" and "bad" in group.sample
    assert group.first_seen >= origin and group.last_seen > group.first_seen


def exactly(histogram: LatencyHistogram) -> tuple[list[int], list[int], int, float, float, float]:
    """Everything a histogram holds: its buckets, total, sum, min and max."""
    keys, counts = histogram.buckets()
    return keys.tolist(), counts.tolist(), histogram.total, histogram.sum, histogram.min, histogram.max


def test_the_recorders_histograms_equal_recording_each_latency_in_turn() -> None:
    """The recorder computes a request's bucket once for its window and its endpoint: the same buckets, sum, min
    and max as LatencyHistogram.record, including sub-µs latencies and values on and beside bucket edges."""
    edges_us = upper_edges_us(np.arange(0, 12_000, 97)).tolist()
    latencies_us = [0.0, 0.3, 1.0, 2500.0, 3e6] + edges_us + [float(np.nextafter(e, 0)) for e in edges_us]
    clock = Clock(10.0)
    recorder = RequestRecorder(10.0, clock=clock)
    expected = LatencyHistogram()
    for latency_us in latencies_us:
        recorder("GET", "/", response_time=latency_us / 1000.0)
        expected.record(latency_us / 1000.0 * 1000.0)
    capture = recorder.drain()
    [window] = capture.timeline.windows()
    assert exactly(window.histogram) == exactly(capture.endpoints["GET /"].histogram) == exactly(expected)


def test_open_model_records_corrected_latency_and_late_sends() -> None:
    origin = 0.0
    clock = Clock(10.0)
    recorder = RequestRecorder(origin, open_model=True, clock=clock)
    # sent on time: completes 20 ms after its slot after 20 ms of service
    recorder("GET", "/", 20.0, context={INTENDED_KEY: 10.0 - 0.020})
    # sent 200 ms late (the service stalled): 20 ms of service, 220 ms from the slot
    recorder("GET", "/", 20.0, context={INTENDED_KEY: 10.0 - 0.220})
    capture = recorder.drain()
    assert capture.corrected is not None and capture.late is not None
    assert capture.timeline.combined().max == pytest.approx(20_000)
    assert capture.corrected.combined().max == pytest.approx(220_000, rel=1e-3)
    assert capture.late.successes == 1
    assert capture.late.combined().max == pytest.approx(200_000, rel=1e-3)
    round_trip = Capture.from_dict(capture.to_dict())
    assert round_trip.corrected is not None and round_trip.corrected.combined().total == 2


def test_only_sends_later_than_the_threshold_count_as_late() -> None:
    clock = Clock(10.0)
    recorder = RequestRecorder(0.0, open_model=True, clock=clock)
    for lateness in (0.5 * LATE_SEND_THRESHOLD_S, 2 * LATE_SEND_THRESHOLD_S):  # 20 ms of service after the delay
        recorder("GET", "/", 20.0, context={INTENDED_KEY: 10.0 - 0.020 - lateness})
    capture = recorder.drain()
    assert capture.late is not None and capture.corrected is not None
    assert capture.late.combined().total == 1
    assert capture.late.combined().max == pytest.approx(2 * LATE_SEND_THRESHOLD_S * 1e6, rel=1e-2)
    assert capture.corrected.combined().total == 2  # both still carry their corrected latency


def test_merge_refuses_another_origin_and_leaves_the_capture_unchanged() -> None:
    clock = Clock(1.5)
    mine, theirs = RequestRecorder(1.0, clock=clock), RequestRecorder(2.0, clock=clock)
    for recorder in (mine, theirs):
        record_some(recorder, clock, 10, 2.5)
    capture = mine.drain()
    before = capture.to_dict()
    with pytest.raises(ValueError):
        capture.merge(theirs.drain())
    assert capture.to_dict() == before
