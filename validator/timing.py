"""Where a command's seconds go: named phases timed on the monotonic clock, counted from the process's start.

A `Phases` value is passed down through the stages; each stage times its own parts with `phases.phase(...)`. A
phase nested in another is taken out of the outer one, so no second is counted twice and the phases never add up
to more than the wall time. The values are data: the words for them are made in `report/console.py`.
"""

import contextlib
import enum
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field


class Phase(enum.Enum):
    """The phases of a command, in the order they happen."""

    IMPORTS = "imports"  # process start → the command begins: the interpreter, imports, options
    INPUTS = "inputs"  # the spec and the baseline read
    DEMO_START = "demo_start"  # --demo: target and Prometheus started, Prometheus ready
    DEMO_SCRAPE = "demo_scrape"  # --demo: Prometheus's first scrape of the target
    PREFLIGHT = "preflight"  # the locustfile imported, Prometheus and the target asked
    LOAD_START = "load_start"  # Locust set up until its users start
    LOAD = "load"  # warm-up and steady window, as long as the spec's duration
    LOAD_STOP = "load_stop"  # the users stopped and their histograms collected
    REPORT_IMPORTS = "report_imports"  # what the report needs imported while Prometheus scrapes the window's end
    SCRAPE_WAIT = "scrape_wait"  # until Prometheus holds a scrape taken after the window's end
    QUERIES = "queries"  # the window's Prometheus queries and the client figures
    JUDGING = "judging"  # measurement checks, gates, verdict, observations
    CHARTS = "charts"  # matplotlib imported, the charts drawn
    WRITING = "writing"  # load.json, metrics.json, verdict.json, junit.xml, report.md, history
    DEMO_STOP = "demo_stop"  # --demo: target and Prometheus stopped


_IMPORTED = time.monotonic()  # the fallback origin where /proc cannot tell when the process started


def process_start() -> float:
    """When this process started, on the monotonic clock: from /proc/self/stat on Linux (to a clock tick), else
    the moment this module was first imported."""
    try:
        with open("/proc/self/stat", encoding="utf-8", errors="replace") as stat:
            fields = stat.read().rpartition(")")[2].split()
        started_since_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime, in clock ticks
        since_boot_now = time.clock_gettime(time.CLOCK_BOOTTIME)
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED
    return time.monotonic() - (since_boot_now - started_since_boot)


@dataclass(frozen=True)
class Breakdown:
    """Seconds per phase (in Phase order, only those that ran), the wall time since the process started, and the
    load's edges relative to that start (None when no load ran)."""

    seconds: dict[Phase, float]
    wall: float
    load_start: float | None
    load_end: float | None

    @property
    def other(self) -> float:
        """The seconds no phase accounts for (the run folder, progress lines, gaps between phases)."""
        return max(0.0, self.wall - sum(self.seconds.values()))

    @property
    def outside_load(self) -> float:
        """The wall time less the load itself (its warm-up and steady window)."""
        return self.wall - self.seconds.get(Phase.LOAD, 0.0)


@dataclass
class _Open:
    phase: Phase
    start: float
    nested: float = 0.0  # seconds spent in phases inside this one


@dataclass
class Phases:
    """The phases timed so far, each phase's seconds excluding the phases nested in it."""

    origin: float = field(default_factory=process_start)
    seconds: dict[Phase, float] = field(default_factory=dict)
    load_start: float | None = None
    load_end: float | None = None
    _open: list[_Open] = field(default_factory=list, init=False, repr=False)

    @contextlib.contextmanager
    def phase(self, phase: Phase) -> Iterator[None]:
        """Time the block as `phase` (a phase that runs again, e.g. per repeated load, adds up)."""
        opened = _Open(phase, time.monotonic())
        self._open.append(opened)
        try:
            yield
        finally:
            self._open.remove(opened)
            self.add(phase, opened.start, time.monotonic(), nested=opened.nested)

    def add(self, phase: Phase, start: float, end: float, nested: float = 0.0) -> None:
        """Count [start, end] (monotonic seconds) as `phase`, less `nested` seconds already counted elsewhere."""
        elapsed = max(0.0, end - start)
        self.seconds[phase] = self.seconds.get(phase, 0.0) + max(0.0, elapsed - nested)
        if self._open:
            self._open[-1].nested += elapsed
        if phase is Phase.LOAD:
            self.load_start = start if self.load_start is None else self.load_start
            self.load_end = end

    def breakdown(self, now: float | None = None) -> Breakdown:
        """The phases so far against the wall time up to `now` (monotonic; default: this moment)."""
        now = time.monotonic() if now is None else now
        ordered = {phase: self.seconds[phase] for phase in Phase if phase in self.seconds}
        start, end = self.load_start, self.load_end
        return Breakdown(ordered, now - self.origin, None if start is None else start - self.origin,
                         None if end is None else end - self.origin)


def command_started() -> Phases:
    """The phases of a command that begins now, the first (IMPORTS) from the process's start until this moment."""
    phases = Phases()
    phases.add(Phase.IMPORTS, phases.origin, time.monotonic())
    return phases
