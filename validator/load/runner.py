"""Run a Locust scenario headless, in this process, and capture every request into per-window histograms.

Locust's own statistics round response times (to whole ms, and to 10/100 ms above 100 ms/1 s), so
percentiles come from our µs-resolution histograms instead, fed by Locust's `request` event.
"""

import math
import sys
import time
from collections.abc import Callable
from typing import Any

import gevent
import locust
from locust.env import Environment
from locust.util.load_locustfile import load_locustfile

from validator.histogram import Timeline
from validator.load.result import EndpointStats, ErrorGroup, LoadResult
from validator.spec import LoadSpec

PROGRESS_EVERY_SECONDS = 5.0


class LocustfileError(ValueError):
    """The locustfile cannot be used (no User class, import error)."""


class RequestRecorder:
    """The `request` event listener: one histogram record per request, plus endpoint and error tallies."""

    def __init__(self, origin: float, clock: Callable[[], float] = time.time) -> None:
        self.timeline = Timeline(origin=origin)
        self.endpoints: dict[str, EndpointStats] = {}
        self.errors: dict[tuple[str, str, str], ErrorGroup] = {}
        self.clock = clock

    def __call__(
        self, request_type: str, name: str, response_time: float, exception: BaseException | None = None, **kw: Any
    ) -> None:
        now = self.clock()
        latency_us = response_time * 1000.0
        self.timeline.record(now, latency_us, exception is None)
        endpoint = f"{request_type} {name}"
        stats = self.endpoints.get(endpoint)
        if stats is None:
            stats = self.endpoints[endpoint] = EndpointStats()
        stats.requests += 1
        stats.histogram.record(latency_us)
        if exception is not None:
            stats.failures += 1
            self._error(endpoint, exception, kw.get("response"), now)

    def _error(self, endpoint: str, exception: BaseException, response: Any, now: float) -> None:
        status = str(getattr(response, "status_code", None) or "none")
        key = (endpoint, status, type(exception).__name__)
        group = self.errors.get(key)
        if group is None:
            group = self.errors[key] = ErrorGroup(*key)
        group.add(now, repr(str(exception)))


def user_classes_from(locustfile: str) -> list[type]:
    """The User classes a locustfile defines; raises LocustfileError naming the file when there are none."""
    try:
        classes, _shapes = load_locustfile(locustfile)
    except Exception as error:  # any import-time failure of user code
        raise LocustfileError(f"{locustfile}: cannot be imported: {error.__class__.__name__}: {error}") from None
    if not classes:
        raise LocustfileError(f"{locustfile}: defines no locust User class (e.g. a FastHttpUser subclass)")
    return list(classes.values())


def run_load(load: LoadSpec, target_url: str, progress: Callable[[str], None] | None = None) -> LoadResult:
    """Drive `load` at `target_url` for its duration and return what every request measured."""
    user_classes = user_classes_from(str(load.locustfile))
    environment = Environment(user_classes=user_classes, host=target_url)
    runner = environment.create_local_runner()
    origin = time.time()
    recorder = RequestRecorder(origin)
    environment.events.request.add_listener(recorder)
    first_window = math.ceil(load.warmup)
    last_window = max(first_window + 1, math.floor(load.duration))
    runner.start(load.users, spawn_rate=load.spawn_rate)
    _wait_until(origin + load.duration, recorder, progress)
    runner.quit()
    return LoadResult(
        origin=origin,
        window_start=origin + first_window,
        window_end=origin + last_window,
        profile={
            "model": "closed",
            "locustfile": str(load.locustfile),
            "users": load.users,
            "spawn_rate": load.spawn_rate,
            "duration_s": load.duration,
            "warmup_s": load.warmup,
            "target": target_url,
        },
        timeline=recorder.timeline,
        endpoints=recorder.endpoints,
        errors=sorted(recorder.errors.values(), key=lambda group: -group.count),
        generator={"locust_version": locust.__version__, "processes": 1, "python": sys.version.split()[0]},
    )


def _wait_until(deadline: float, recorder: RequestRecorder, progress: Callable[[str], None] | None) -> None:
    """Sleep cooperatively (so users keep running) until `deadline`, reporting progress every few seconds."""
    timeline = recorder.timeline
    while (remaining := deadline - time.time()) > 0:
        gevent.sleep(min(remaining, PROGRESS_EVERY_SECONDS))
        if progress and deadline - time.time() > 0.5:
            progress(
                f"load: {time.time() - timeline.origin:.0f}/{deadline - timeline.origin:.0f} s, "
                f"{timeline.successes + timeline.failures} requests, {timeline.failures} failed"
            )
