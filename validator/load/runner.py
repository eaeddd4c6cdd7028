"""Run a Locust scenario headless and capture every request into per-window histograms.

`load.workers = 1` runs the users in this process; more workers (or `--expect-workers` for remote
ones) run a Locust master here and the users in worker processes. Either way each process runs the
same `LoadAgent`, so the result has the same meaning: exact µs histograms per window and endpoint,
errors grouped, generator health, and (open model) corrected latency and late sends.
"""

import math
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import gevent
import locust
from locust.env import Environment

from validator import interrupt
from validator.load.agent import LoadAgent
from validator.load.capture import Capture
from validator.load.distributed import LoadError, Master, MasterOptions
from validator.load.local_workers import LocalWorkers
from validator.load.locustfile import LocustfileError, mean_wait_seconds, user_classes_from
from validator.load.open_model import ArrivalPlan
from validator.load.progress import Progress
from validator.load.result import LoadResult
from validator.load.worker import REPORT_EVERY_SECONDS
from validator.redact import redact_url
from validator.spec import LoadSpec

__all__ = ["LoadError", "LocustfileError", "MasterOptions", "run_load"]

Tick = Callable[[float, Capture], None]


class _Outcome(NamedTuple):
    """What a load run produced before it becomes a LoadResult."""

    origin: float
    capture: Capture
    health: dict[str, list[list[float]]]
    workers: list[dict[str, Any]]
    locust_requests: int
    worker_exits: tuple[str, ...] = ()


def run_load(
    load: LoadSpec, target_url: str, progress: Progress | None = None, master: MasterOptions | None = None
) -> LoadResult:
    """Drive `load` at `target_url` for its duration and return what every request measured.

    `master` (remote workers, or where to bind) makes the load distributed even with one worker.
    """
    user_classes = user_classes_from(str(load.locustfile))
    environment = Environment(user_classes=user_classes, host=target_url)
    if load.workers == 1 and master is None:
        outcome = _run_here(environment, load, _ticker(progress, settle=0.0))
    else:
        tick = _ticker(progress, settle=REPORT_EVERY_SECONDS)  # worker reports arrive once a second
        outcome = _run_distributed(environment, load, master or MasterOptions(), tick)
    processes = len(outcome.workers) or 1
    if progress is not None:
        progress.finish()
    first_window = math.ceil(load.warmup)
    last_window = max(first_window + 1, math.floor(load.duration))
    stop = interrupt.requested()
    interrupted = None
    if stop is not None:  # the steady window ends with the last whole second before the stop
        elapsed = stop.at - outcome.origin
        interrupted = {"signal": stop.signal_name, "stage": "load", "at_s": elapsed, "of_s": load.duration}
        last_window = min(last_window, max(first_window, math.floor(elapsed)))
    return LoadResult.from_capture(
        outcome.capture,
        window_start=outcome.origin + first_window,
        window_end=outcome.origin + last_window,
        profile=_profile(load, target_url, processes, user_classes),
        generator={
            "locust_version": locust.__version__,
            "processes": processes,
            "mode": "master + workers" if outcome.workers else "in-process",
            "python": sys.version.split()[0],
            "worker_exits": list(outcome.worker_exits),  # local workers that exited during the load, and why
        },
        health=outcome.health,
        workers=outcome.workers,
        locust_requests=outcome.locust_requests,
        interrupted=interrupted,
    )


def _run_here(environment: Environment, load: LoadSpec, tick: Tick) -> _Outcome:
    """Users in this process."""
    runner = environment.create_local_runner()
    agent = LoadAgent(environment)
    origin = time.time()
    agent.configure(origin, _plan(load, origin, 0, 1), load.request_timeout)
    runner.start(load.users, spawn_rate=load.spawn_rate)
    recording = agent.recorder.capture  # nothing drains it until the users stop
    assert recording is not None
    while (now := time.time()) < origin + load.duration and interrupt.requested() is None:
        gevent.sleep(min(1.0, origin + load.duration - now))
        tick(time.time() - origin, recording)
    runner.quit()
    capture, samples = agent.collect()
    agent.stop()
    assert capture is not None
    health = {"in-process": [list(sample) for sample in samples]}
    return _Outcome(origin, capture, health, [], agent.requests_fired)


def _run_distributed(environment: Environment, load: LoadSpec, options: MasterOptions, tick: Tick) -> _Outcome:
    """A master here, workers elsewhere (local processes unless the options expect remote ones)."""
    master = Master(environment, options)
    local = None
    if not options.remote:
        local = LocalWorkers(load.workers, options.bind_host, master.port, str(load.locustfile))
    try:
        collected = master.run(load, local, lambda origin, i, n: _plan(load, origin, i, n), tick)
    finally:
        if local is not None:
            local.stop()
    workers = [state.to_dict() for state in sorted(collected.workers.values(), key=lambda s: s.index)]
    counted = sum(state.locust_requests for state in collected.workers.values())
    exits = tuple(collected.exits)
    return _Outcome(collected.capture.origin, collected.capture, collected.health, workers, counted, exits)


def _plan(load: LoadSpec, origin: float, index: int, count: int) -> ArrivalPlan | None:
    if load.arrival_rate is None:
        return None
    return ArrivalPlan(load.arrival_rate, load.arrival, load.ramp, origin, index, count)


def _ticker(progress: Progress | None, settle: float) -> Tick:
    def tick(elapsed: float, capture: Capture) -> None:
        if progress is not None:
            progress.update(elapsed, capture.timeline, settle)

    return tick


def _profile(load: LoadSpec, target_url: str, processes: int, user_classes: list[type]) -> dict[str, object]:
    profile: dict[str, object] = {
        "model": "open" if load.open_model else "closed",
        "locustfile": str(load.locustfile),
        "users": load.users,
        "spawn_rate": load.spawn_rate,
        "duration_s": load.duration,
        "warmup_s": load.warmup,
        "workers": processes,
        "target": redact_url(target_url),
        "request_timeout_s": load.request_timeout,
    }
    if load.open_model:
        profile |= {"arrival_rate": load.arrival_rate, "arrival": load.arrival, "ramp_s": load.ramp}
    else:
        profile["mean_wait_s"] = mean_wait_seconds(user_classes)  # for the Little's law check
    return profile
