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


def test_the_agent_replaces_locusts_request_statistics_and_counts_every_request_event() -> None:
    """Locust's own RequestStats listener is gone once the agent is attached (this fails if a Locust release renames
    it), every request event is still counted, and a report hands over the count since the last one."""
    from locust import HttpUser
    from locust.env import Environment

    from validator.load.agent import LOCUST_STATS_LISTENER, LoadAgent

    environment = Environment(user_classes=[HttpUser])
    environment.create_local_runner()
    names = [getattr(h, "__qualname__", "") for h in environment.events.request._handlers]
    assert LOCUST_STATS_LISTENER in names
    agent = LoadAgent(environment)
    assert LOCUST_STATS_LISTENER not in [getattr(h, "__qualname__", "") for h in environment.events.request._handlers]

    def fire(count: int) -> None:
        for _ in range(count):
            environment.events.request.fire(request_type="GET", name="/", response_time=1.5, response_length=2,
                                            exception=None, context={})

    fire(3)  # before configure: counted, not captured (a worker that joined late)
    agent.configure(origin=0.0, plan=None)
    fire(4)
    first = agent.report()
    fire(2)
    second = agent.report(final=True)
    agent.stop()
    assert (first["fired"], second["fired"], agent.requests_fired) == (7, 2, 9)
    assert (Capture.from_dict(first["capture"]).requests, Capture.from_dict(second["capture"]).requests) == (4, 2)
    assert environment.stats.total.num_requests == 0
