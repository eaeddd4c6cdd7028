"""What one load process captured: per-window histograms, per-endpoint tallies and grouped errors.

A `Capture` is mergeable and serialisable, so each Locust worker can ship the part it captured since
its last report (a delta) and the master can add the deltas up; the sum is exactly what a single
process would have recorded. All timelines share the run's origin, so windows line up across processes.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from validator.load.histogram import LatencyHistogram, Timeline

SAMPLE_MESSAGE_LIMIT = 300


@dataclass
class ErrorGroup:
    """Failures of one endpoint with the same status code and exception class."""

    endpoint: str
    status: str
    exception: str
    count: int = 0
    first_seen: float = math.inf
    last_seen: float = -math.inf
    sample: str = ""

    def add(self, timestamp: float, message: str) -> None:
        """Count one failure seen at `timestamp`; the first message is kept as the (truncated) sample."""
        self.count += 1
        self.first_seen = min(self.first_seen, timestamp)
        self.last_seen = max(self.last_seen, timestamp)
        if not self.sample:
            self.sample = message[:SAMPLE_MESSAGE_LIMIT]

    def merge(self, other: "ErrorGroup") -> None:
        """Add another process's failures of the same group."""
        self.count += other.count
        self.first_seen = min(self.first_seen, other.first_seen)
        self.last_seen = max(self.last_seen, other.last_seen)
        self.sample = self.sample or other.sample

    @property
    def key(self) -> tuple[str, str, str]:
        """(endpoint, status, exception): what makes two failures the same group."""
        return (self.endpoint, self.status, self.exception)


@dataclass
class EndpointStats:
    """Every request to one endpoint (Locust's request name): counts and a latency histogram."""

    requests: int = 0
    failures: int = 0
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)

    def merge(self, other: "EndpointStats") -> None:
        """Add another process's requests to this endpoint."""
        self.requests += other.requests
        self.failures += other.failures
        self.histogram.merge(other.histogram)

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as in load.json's `endpoints`."""
        return {"requests": self.requests, "failures": self.failures, "histogram_us": self.histogram.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "EndpointStats":
        """Rebuild from `to_dict` output."""
        return cls(int(data["requests"]), int(data["failures"]), LatencyHistogram.from_dict(data["histogram_us"]))


class Capture:
    """Requests captured by one process (or merged from several) since some moment.

    `timeline` holds the service latency (from the actual send) per completion window. In the open
    model, `corrected` holds the latency from the *intended* send time (coordinated omission
    corrected) and `late` the lateness of every send that left more than the late threshold behind
    its timetable slot.
    """

    def __init__(self, origin: float, open_model: bool = False) -> None:
        self.origin = origin
        self.timeline = Timeline(origin)
        self.corrected: Timeline | None = Timeline(origin) if open_model else None
        self.late: Timeline | None = Timeline(origin) if open_model else None
        self.endpoints: dict[str, EndpointStats] = {}
        self.errors: dict[tuple[str, str, str], ErrorGroup] = {}

    @property
    def requests(self) -> int:
        """Requests captured (successes and failures)."""
        return sum(stats.requests for stats in self.endpoints.values())

    def empty_like(self) -> "Capture":
        """A new, empty capture with the same origin and model."""
        return Capture(self.origin, self.corrected is not None)

    def merge(self, other: "Capture") -> None:
        """Add `other` (same origin) into this capture, in place."""
        self.timeline.merge(other.timeline)
        if other.corrected is not None and other.late is not None:
            if self.corrected is None or self.late is None:
                self.corrected, self.late = Timeline(self.origin), Timeline(self.origin)
            self.corrected.merge(other.corrected)
            self.late.merge(other.late)
        for name, stats in other.endpoints.items():
            self.endpoints.setdefault(name, EndpointStats()).merge(stats)
        for key, group in other.errors.items():
            self.errors.setdefault(key, ErrorGroup(*key)).merge(group)

    def to_dict(self) -> dict[str, Any]:
        """JSON- and msgpack-safe form, shipped from worker to master."""
        return {
            "origin": self.origin,
            "timeline": self.timeline.to_dict(),
            "corrected": None if self.corrected is None else self.corrected.to_dict(),
            "late": None if self.late is None else self.late.to_dict(),
            "endpoints": {name: stats.to_dict() for name, stats in sorted(self.endpoints.items())},
            "errors": [vars(group) for group in self.errors.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Capture":
        """Rebuild from `to_dict` output."""
        capture = cls(float(data["origin"]))
        capture.timeline = Timeline.from_dict(data["timeline"])
        if data.get("corrected") is not None:
            capture.corrected = Timeline.from_dict(data["corrected"])
            capture.late = Timeline.from_dict(data["late"])
        capture.endpoints = {name: EndpointStats.from_dict(e) for name, e in data["endpoints"].items()}
        groups = [ErrorGroup(**group) for group in data["errors"]]
        capture.errors = {group.key: group for group in groups}
        return capture
