"""Load-generator health: is the generator itself the bottleneck, so that its latencies cannot be trusted?

Each load process samples its own CPU use and its gevent event-loop lag (how late a timed sleep wakes
up) a few times a second. A generator whose CPU is pegged or whose loop lags measures its own
queueing as if it were the service's latency, and sends less than asked. The samples are recorded in
load.json; `validator.measure.checks` judges them.
"""

import time

import gevent
import psutil

SAMPLE_INTERVAL_S = 0.5
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
