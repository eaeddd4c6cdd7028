"""The artifact of the load stage (`load.json`): the window, the profile and every request captured."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from validator import compact
from validator.artifacts import MIGRATIONS, SCHEMA_VERSIONS, read_as, write_text
from validator.load.capture import Capture, EndpointStats, ErrorGroup
from validator.load.histogram import Timeline

LOAD_FILE = "load.json"


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
    corrected: Timeline | None = None  # open model: latency from the intended send time, per window
    late: Timeline | None = None  # open model: lateness of the sends that left behind their slot
    health: dict[str, list[list[float]]] = field(default_factory=dict)  # process → [epoch s, CPU %, lag ms]
    workers: list[dict[str, Any]] = field(default_factory=list)  # distributed: each worker, and whether lost
    locust_requests: int | None = None  # request events Locust fired, to check the capture is complete
    interrupted: dict[str, Any] | None = None  # a signal stopped the load: which, and after how many seconds

    @classmethod
    def from_capture(cls, capture: Capture, **facts: Any) -> "LoadResult":
        """A result from the (merged) capture of every process plus the run's facts."""
        return cls(
            origin=capture.origin,
            timeline=capture.timeline,
            corrected=capture.corrected,
            late=capture.late,
            endpoints=capture.endpoints,
            errors=sorted(capture.errors.values(), key=lambda group: -group.count),
            **facts,
        )

    @property
    def captured_requests(self) -> int:
        """Requests in the client histograms (all windows, warm-up included)."""
        return sum(stats.requests for stats in self.endpoints.values())

    @property
    def lost_workers(self) -> list[dict[str, Any]]:
        """The workers that never delivered their final report."""
        return [worker for worker in self.workers if worker["lost"]]

    @property
    def late_workers(self) -> list[dict[str, Any]]:
        """The workers that connected after the set-up: their requests were not captured."""
        return [worker for worker in self.workers if worker.get("joined_late")]

    @property
    def window_seconds(self) -> float:
        return self.window_end - self.window_start

    def steady_timeline(self) -> Timeline:
        """Only the windows inside the steady state (warm-up and the trailing partial window dropped)."""
        return self.steady(self.timeline)

    def steady(self, timeline: Timeline) -> Timeline:
        """Any of this run's timelines (e.g. `corrected`) restricted to the steady windows."""
        first = round((self.window_start - self.origin) / timeline.window_seconds)
        last = round((self.window_end - self.origin) / timeline.window_seconds)
        return timeline.select(first, last)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSIONS["load"],
            "origin": self.origin,
            "window": {"start": self.window_start, "end": self.window_end, "seconds": self.window_seconds},
            "profile": self.profile,
            "generator": self.generator,
            "endpoints": {name: stats.to_dict() for name, stats in sorted(self.endpoints.items())},
            "errors": [vars(group) for group in self.errors],
            "timeline": self.timeline.to_dict(),
            "corrected_timeline": None if self.corrected is None else self.corrected.to_dict(),
            "late_sends_timeline": None if self.late is None else self.late.to_dict(),
            "health_samples": self.health,
            "workers": self.workers,
            "locust_requests": self.locust_requests,
            "interrupted": self.interrupted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LoadResult":
        endpoints = {name: EndpointStats.from_dict(e) for name, e in data["endpoints"].items()}
        corrected, late = data.get("corrected_timeline"), data.get("late_sends_timeline")
        return cls(
            origin=data["origin"],
            window_start=data["window"]["start"],
            window_end=data["window"]["end"],
            profile=data["profile"],
            timeline=Timeline.from_dict(data["timeline"]),
            endpoints=endpoints,
            errors=[ErrorGroup(**group) for group in data["errors"]],
            generator=data["generator"],
            corrected=None if corrected is None else Timeline.from_dict(corrected),
            late=None if late is None else Timeline.from_dict(late),
            health=data.get("health_samples", {}),
            workers=data.get("workers", []),
            locust_requests=data.get("locust_requests"),
            interrupted=data.get("interrupted"),
        )

    def write(self, run_dir: Path) -> Path:
        """load.json, one line per window of each timeline (written atomically)."""
        return write_text(run_dir / LOAD_FILE, compact.dumps(self.to_dict(), ("windows",)))

    @classmethod
    def read(cls, run_dir: Path) -> "LoadResult":
        """The result in run_dir/load.json, schema-checked (ArtifactError when it is not one)."""
        return read_as(run_dir / LOAD_FILE, "load", cls.from_dict)


def upgrade(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """A schema-2 load.json as schema 3: each histogram's `key_deltas` and `counts` become one count row."""
    if document.get("schema_version") != 2:
        return document
    histograms = [e.get("histogram_us") for e in (document.get("endpoints") or {}).values() if isinstance(e, dict)]
    for key in ("timeline", "corrected_timeline", "late_sends_timeline"):
        timeline = document.get(key)
        if isinstance(timeline, dict):
            histograms += [w.get("histogram") for w in timeline.get("windows", []) if isinstance(w, dict)]
    for histogram in histograms:
        if isinstance(histogram, dict) and "key_deltas" in histogram:
            keys = np.cumsum(np.asarray(histogram.pop("key_deltas"), dtype=np.int64))
            histogram["buckets"] = compact.encode_sparse(keys, np.asarray(histogram.pop("counts"), dtype=np.int64))
    return {**document, "schema_version": 3}


MIGRATIONS["load"] = upgrade
