"""Load-generator health: is the generator itself the bottleneck, so that its latencies cannot be trusted?

Each load process samples its own CPU use and its gevent event-loop lag (how late a timed sleep wakes
up) a few times a second. A generator whose CPU is pegged or whose loop lags measures its own
queueing as if it were the service's latency, and sends less than asked. `assess` turns the samples
of the steady window into a summary and, when a process was saturated for a meaningful share of
the window, a warning.
"""

import time
from dataclasses import dataclass
from typing import Any

import gevent
import psutil

SAMPLE_INTERVAL_S = 0.5
CPU_SATURATED_PERCENT = 90.0  # of one core: a Locust process runs one Python thread
LAG_SATURATED_MS = 50.0  # a timed sleep waking up this late means greenlets queue for the CPU
SATURATED_SHARE = 0.2  # saturated in at least this share of the steady window's samples → unreliable
MASTER_PROCESS = "master"  # a distributed load's master: merges reports, sends no requests itself


class HealthSampler:
    """A greenlet sampling this process's CPU % and event-loop lag every `interval` seconds."""

    def __init__(self, interval: float = SAMPLE_INTERVAL_S) -> None:
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []  # (epoch s, CPU % of one core, loop lag ms)
        self._process = psutil.Process()
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> "HealthSampler":
        """Begin sampling in the background (cooperatively, in this process's gevent loop)."""
        self._process.cpu_percent(None)  # the first call only sets the reference point
        self._greenlet = gevent.spawn(self._run)
        return self

    def stop(self) -> None:
        """Stop sampling; the samples taken so far stay in `samples`."""
        if self._greenlet is not None:
            self._greenlet.kill(block=True)

    def drain(self) -> list[tuple[float, float, float]]:
        """The samples taken since the last drain."""
        drained, self.samples = self.samples, []
        return drained

    def _run(self) -> None:
        while True:
            started = time.perf_counter()
            gevent.sleep(self.interval)
            lag_ms = max(0.0, (time.perf_counter() - started - self.interval) * 1000.0)
            self.samples.append((time.time(), self._process.cpu_percent(None), lag_ms))


@dataclass(frozen=True)
class ProcessHealth:
    """One generator process's health over the steady window."""

    process: str
    samples: int
    cpu_mean: float
    cpu_max: float
    lag_max_ms: float
    saturated_share: float

    @property
    def saturated(self) -> bool:
        """Saturated in at least SATURATED_SHARE of its steady-window samples."""
        return self.samples > 0 and self.saturated_share >= SATURATED_SHARE

    def describe(self) -> str:
        """One line for a warning."""
        return (
            f"{self.process}: CPU mean {self.cpu_mean:.0f} % / max {self.cpu_max:.0f} %, loop lag max "
            f"{self.lag_max_ms:.0f} ms, saturated in {self.saturated_share * 100:.0f} % of {self.samples} samples"
        )


def assess(samples: dict[str, list[list[float]]], start: float, end: float) -> list[ProcessHealth]:
    """Each process's health from its samples taken inside [start, end] (epoch seconds)."""
    health = []
    for process, rows in sorted(samples.items()):
        inside = [row for row in rows if start <= row[0] <= end]
        cpu = [row[1] for row in inside]
        saturated = sum(row[1] >= CPU_SATURATED_PERCENT or row[2] >= LAG_SATURATED_MS for row in inside)
        health.append(
            ProcessHealth(
                process=process,
                samples=len(inside),
                cpu_mean=sum(cpu) / len(cpu) if cpu else 0.0,
                cpu_max=max(cpu, default=0.0),
                lag_max_ms=max((row[2] for row in inside), default=0.0),
                saturated_share=saturated / len(inside) if inside else 0.0,
            )
        )
    return health


def health_document(health: list[ProcessHealth]) -> dict[str, Any]:
    """The health summary stored in load.json and verdict.json."""
    return {
        "thresholds": {
            "cpu_percent": CPU_SATURATED_PERCENT,
            "loop_lag_ms": LAG_SATURATED_MS,
            "saturated_share": SATURATED_SHARE,
        },
        "processes": [vars(h) | {"saturated": h.saturated} for h in health],
        "saturated": any(h.saturated for h in health if h.process != MASTER_PROCESS),
    }
