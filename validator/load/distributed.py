"""A distributed load: a Locust master in this process and workers in other processes (local or remote).

The master hands each worker the run's origin and its share of the open-model timetable, starts
the users, and merges the workers' capture deltas as their reports arrive. At the end it does not
rely on Locust's half-second grace for final reports: it stops the users, asks every worker for a
final report and waits for each one (or for the worker to be declared lost). A worker that never
delivered its final report is recorded as lost, with the requests it had reported, so the run's
reduced data is visible downstream instead of silently smaller. A worker that connects after the set-up
was never configured to capture: it is recorded as joined late with the requests Locust fired on
it, so any it sent are known to be missing from the client histograms.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.event import Event
from locust.env import Environment

from validator import interrupt
from validator.errors import LoadError, UsageError
from validator.load.agent import REPORT_KEY
from validator.load.capture import Capture
from validator.load.health import MASTER_PROCESS, HealthSampler
from validator.load.local_workers import LocalWorkers
from validator.load.open_model import ArrivalPlan
from validator.load.worker import DEFAULT_MASTER_PORT, FLUSH_MESSAGE, READY_MESSAGE, SETUP_MESSAGE
from validator.net import free_port
from validator.spec import LoadSpec

LOCAL_CONNECT_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
FINAL_REPORT_TIMEOUT_S = 10.0
SETUP_RESEND_S = 1.0  # a worker that has not confirmed its set-up within this gets it again
POLL_S = 0.05  # how often a wait on the workers checks them when none has answered


@dataclass(frozen=True)
class MasterOptions:
    """Where the master listens and how many remote workers it waits for (None: start local ones)."""

    bind_host: str = "127.0.0.1"
    bind_port: int | None = None  # None: a free port (local workers), else e.g. 5557
    expect_workers: int | None = None
    connect_timeout: float = 120.0

    @property
    def remote(self) -> bool:
        """Workers come from elsewhere (`slagate worker`); none are started here."""
        return self.expect_workers is not None

    @classmethod
    def from_options(cls, expect_workers: int | None, master_bind: str | None) -> "MasterOptions | None":
        """From `--expect-workers` / `--master-bind`: None (the spec's local workers on loopback) when neither is
        given; UsageError names a bad `--master-bind`."""
        if expect_workers is None and master_bind is None:
            return None
        if expect_workers is None and master_bind is not None and ":" not in master_bind:
            return cls(bind_host=master_bind)
        default = f"0.0.0.0:{DEFAULT_MASTER_PORT}"
        host, port = parse_host_port(master_bind or default, "--master-bind", DEFAULT_MASTER_PORT)
        return cls(bind_host=host, bind_port=port, expect_workers=expect_workers)


def parse_host_port(value: str, option: str, default_port: int) -> tuple[str, int]:
    """HOST or HOST:PORT as given to `option`; UsageError in one line when it is neither."""
    host, _, port = value.rpartition(":") if ":" in value else (value, "", str(default_port))
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{option} {value}: expected HOST or HOST:PORT, e.g. 10.0.0.5:{default_port}")
    return host, int(port)


@dataclass
class WorkerState:
    """What the master knows about one worker."""

    client_id: str
    index: int
    ready: bool = False
    requests: int = 0  # requests it reported so far
    locust_requests: int = 0  # request events Locust fired on it (captured or not)
    last_report: float | None = None
    final: bool = False
    joined_late: bool = False  # connected after the set-up: slagate never configured it to capture

    def to_dict(self) -> dict[str, Any]:
        """The worker's entry in load.json's `workers`."""
        return {
            "id": self.client_id,
            "index": self.index,
            "requests_reported": self.requests,
            "locust_requests": self.locust_requests,
            "last_report": self.last_report,
            "final_report": self.final,
            "lost": not self.final,
            "joined_late": self.joined_late,
        }


@dataclass
class Collected:
    """Everything the master merged from its workers."""

    capture: Capture
    health: dict[str, list[list[float]]] = field(default_factory=dict)
    workers: dict[str, WorkerState] = field(default_factory=dict)
    exits: list[str] = field(default_factory=list)  # local worker processes that exited during the load, and why


class Master:
    """A Locust master whose workers ship slagate captures; `run` drives one load and returns what it merged."""

    def __init__(self, environment: Environment, options: MasterOptions) -> None:
        self.environment = environment
        self.options = options
        self.port = options.bind_port or (DEFAULT_MASTER_PORT if options.remote else free_port(options.bind_host))
        self.runner = environment.create_master_runner(options.bind_host, self.port)
        self.collected: Collected | None = None
        self._answered = Event()  # set by a READY or a final report: a wait on the workers wakes at once, not at a poll
        environment.events.worker_report.add_listener(self._on_report)
        self.runner.register_message(READY_MESSAGE, self._on_ready)

    def run(
        self,
        load: LoadSpec,
        workers: LocalWorkers | None,
        plan_for: Callable[[float, int, int], ArrivalPlan | None],
        tick: Callable[[float, Capture], None],
    ) -> Collected:
        """Set up every connected worker, run the users for `load.duration`, collect every final report."""
        expected = self.options.expect_workers or load.workers
        timeout = self.options.connect_timeout if self.options.remote else LOCAL_CONNECT_TIMEOUT_S
        self._wait(lambda: len(self.runner.clients.ready) >= expected, timeout, workers, "to connect")
        origin = time.time()
        self.collected = Collected(Capture(origin, open_model=load.open_model))
        sampler = HealthSampler().start()  # the master's own CPU and loop lag, shown beside the workers'
        ids = sorted(client.id for client in self.runner.clients.ready)
        setups = {}
        for index, client_id in enumerate(ids):
            self.collected.workers[client_id] = WorkerState(client_id, index)
            plan = plan_for(origin, index, len(ids))
            setups[client_id] = {
                "origin": origin,
                "index": index,
                "plan": None if plan is None else plan.to_dict(),
                "request_timeout": load.request_timeout,
            }
        self._set_up(setups, workers)
        self.runner.start(load.users, spawn_rate=load.spawn_rate)
        while (now := time.time()) < origin + load.duration and interrupt.requested() is None:
            gevent.sleep(min(1.0, origin + load.duration - now))
            if workers is not None and (exited := workers.poll()):
                self.collected.exits.append(exited)
            tick(time.time() - origin, self.collected.capture)
        self._stop_and_collect()
        sampler.stop()
        self.collected.health[MASTER_PROCESS] = [list(sample) for sample in sampler.drain()]
        return self.collected

    def _set_up(self, setups: dict[str, dict[str, Any]], workers: LocalWorkers | None) -> None:
        """Send each worker its set-up and wait for every READY, sending it again every SETUP_RESEND_S to those
        that have not answered: a worker still finishing Locust's connection hand-shake drops messages that
        arrive before its slagate handlers are registered."""
        assert self.collected is not None
        states = [self.collected.workers[client_id] for client_id in setups]
        next_send = 0.0

        def ready() -> bool:
            nonlocal next_send
            if time.time() >= next_send:
                for state in states:
                    if not state.ready:
                        self.runner.send_message(SETUP_MESSAGE, setups[state.client_id], state.client_id)
                next_send = time.time() + SETUP_RESEND_S
            return all(state.ready for state in states)

        self._wait(ready, READY_TIMEOUT_S, workers, "to be ready")

    def _stop_and_collect(self) -> None:
        assert self.collected is not None
        with gevent.Timeout(STOP_TIMEOUT_S, False):
            self.runner.stop()
        for client_id in self.collected.workers:
            self.runner.send_message(FLUSH_MESSAGE, None, client_id)
        deadline = time.time() + FINAL_REPORT_TIMEOUT_S
        while True:
            self._answered.clear()
            if time.time() >= deadline or all(s.final for s in self.collected.workers.values()):
                break
            self._answered.wait(POLL_S)
        self.runner.quit()

    def _wait(self, condition: Callable[[], bool], timeout: float, workers: LocalWorkers | None, what: str) -> None:
        deadline = time.time() + timeout
        while True:
            self._answered.clear()
            if condition():
                return
            if workers is not None and (dead := workers.poll()):
                raise LoadError(f"a local load worker exited before the load started: {dead}")
            if time.time() > deadline:
                expected = self.options.expect_workers or (workers.count if workers else 0)
                raise LoadError(
                    f"only {len(self.runner.clients.ready)} of {expected} load workers connected to the master "
                    f"on {self.options.bind_host}:{self.port} within {timeout:g} s (waiting for them {what})"
                )
            self._answered.wait(POLL_S)

    def _on_ready(self, environment: Environment, msg: Any, **kw: Any) -> None:
        if self.collected is not None and msg.node_id in self.collected.workers:
            self.collected.workers[msg.node_id].ready = True
            self._answered.set()

    def _on_report(self, client_id: str, data: dict[str, Any], **kw: Any) -> None:
        payload = data.get(REPORT_KEY)
        collected = self.collected
        if payload is None or collected is None:
            return
        if client_id not in collected.workers:
            collected.workers[client_id] = WorkerState(client_id, len(collected.workers), joined_late=True)
        state = collected.workers[client_id]
        fired = payload.get("fired")
        if fired is None:  # a worker of an earlier slagate keeps Locust's statistics and reports no count of its own
            fired = (data.get("stats_total") or {}).get("num_requests", 0)
        state.locust_requests += int(fired)
        if payload["capture"] is not None:
            delta = Capture.from_dict(payload["capture"])
            state.requests += delta.requests
            collected.capture.merge(delta)
        collected.health.setdefault(f"worker {state.index}", []).extend(payload["health"])
        state.last_report = time.time()
        if payload["final"]:
            state.final = True
            self._answered.set()
