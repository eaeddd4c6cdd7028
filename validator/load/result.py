"""The artifact of the load stage (`load.json`): the window, the profile and every request captured."""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.histogram import LatencyHistogram, Timeline

LOAD_FILE = "load.json"
SCHEMA_VERSION = 1
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
        self.count += 1
        self.first_seen = min(self.first_seen, timestamp)
        self.last_seen = max(self.last_seen, timestamp)
        if not self.sample:
            self.sample = message[:SAMPLE_MESSAGE_LIMIT]


@dataclass
class EndpointStats:
    """Every request to one endpoint (Locust's request name): counts and a latency histogram."""

    requests: int = 0
    failures: int = 0
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)


@dataclass
class LoadResult:
    """What the load run did: when (origin and steady window), how, and what every request measured."""

    origin: float
    window_start: float
    window_end: float
    profile: dict[str, Any]
    timeline: Timeline
    endpoints: dict[str, EndpointStats]
    errors: list[ErrorGroup]
    generator: dict[str, Any]

    @property
    def window_seconds(self) -> float:
        return self.window_end - self.window_start

    def steady_timeline(self) -> Timeline:
        """Only the windows inside the steady state (warm-up and the trailing partial window dropped)."""
        first = round((self.window_start - self.origin) / self.timeline.window_seconds)
        last = round((self.window_end - self.origin) / self.timeline.window_seconds)
        return self.timeline.select(first, last)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "origin": self.origin,
            "window": {"start": self.window_start, "end": self.window_end, "seconds": self.window_seconds},
            "profile": self.profile,
            "generator": self.generator,
            "endpoints": {
                name: {"requests": s.requests, "failures": s.failures, "histogram_us": s.histogram.to_dict()}
                for name, s in sorted(self.endpoints.items())
            },
            "errors": [vars(group) for group in self.errors],
            "timeline": self.timeline.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LoadResult":
        endpoints = {
            name: EndpointStats(e["requests"], e["failures"], LatencyHistogram.from_dict(e["histogram_us"]))
            for name, e in data["endpoints"].items()
        }
        return cls(
            origin=data["origin"],
            window_start=data["window"]["start"],
            window_end=data["window"]["end"],
            profile=data["profile"],
            timeline=Timeline.from_dict(data["timeline"]),
            endpoints=endpoints,
            errors=[ErrorGroup(**group) for group in data["errors"]],
            generator=data["generator"],
        )

    def write(self, run_dir: Path) -> Path:
        path = run_dir / LOAD_FILE
        path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def read(cls, run_dir: Path) -> "LoadResult":
        return cls.from_dict(json.loads((run_dir / LOAD_FILE).read_text()))
