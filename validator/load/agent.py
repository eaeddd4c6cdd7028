"""The slagate part of one Locust process (in-process runner or worker): capture, health, open-model pacing.

The same agent runs in a single-process load and in every worker of a distributed one, so the
figures mean the same thing whichever way the load was generated. Its µs histograms replace Locust's
own per-request statistics (`environment.stats` stays empty), which cost twice as much a request and
which slagate never reads; a plain count of every request event stays, to check the capture against.
"""

from typing import Any

from locust.env import Environment

from validator.load.capture import Capture
from validator.load.health import HealthSampler
from validator.load.open_model import ArrivalPlan, Timetable, paced
from validator.load.recorder import RequestRecorder

REPORT_KEY = "slagate"  # our part of a Locust worker report
LOCUST_STATS_LISTENER = "Runner.__init__.<locals>.on_request"  # Locust's RequestStats listener, added by every runner


class LoadAgent:
    """Attached to one Locust Environment: records its requests, samples its health, paces its users."""

    def __init__(self, environment: Environment) -> None:
        """Attach to `environment` once its runner exists: from now on every request event is counted."""
        self.environment = environment
        self.recorder = RequestRecorder()  # counts from now on, captures once configured
        self.health = HealthSampler()
        self._fired_reported = 0
        drop_locust_stats(environment)
        environment.events.request.add_listener(self.recorder)

    @property
    def configured(self) -> bool:
        """Whether `configure` was called (the recorder captures)."""
        return self.recorder.capture is not None

    @property
    def requests_fired(self) -> int:
        """Request events since the agent was attached, captured or not."""
        return self.recorder.fired

    def configure(self, origin: float, plan: ArrivalPlan | None, request_timeout: float | None = None) -> None:
        """Start capturing for a run whose windows count from `origin`; pace users if `plan` is given; fail
        requests not answered within `request_timeout` seconds (FastHttpUser's network and connection timeouts).

        Must be called before users are spawned (the open model and the timeout replace the user classes).
        """
        self.recorder.start(origin, open_model=plan is not None)
        if request_timeout is not None:
            self.environment.user_classes = [
                with_timeout(cls, request_timeout) for cls in self.environment.user_classes
            ]
        if plan is not None:
            timetable = Timetable(plan)
            self.environment.user_classes = [paced(cls, timetable) for cls in self.environment.user_classes]
        self.health.start()

    def collect(self) -> tuple[Capture | None, list[tuple[float, float, float]]]:
        """What was captured and sampled since the last collection (None before `configure`)."""
        return self.recorder.drain(), self.health.drain()

    def report(self, final: bool = False) -> dict[str, Any]:
        """`collect()` as a message payload for the master, with the request events fired since the last one
        (counted in the same instant as the capture was drained); `final` marks the last one after the users stopped."""
        capture, samples = self.collect()
        fired, self._fired_reported = self.requests_fired - self._fired_reported, self.requests_fired
        return {
            "capture": None if capture is None else capture.to_dict(),
            "health": [list(sample) for sample in samples],
            "fired": fired,
            "final": final,
        }

    def stop(self) -> None:
        """Stop sampling health (the capture stays available to `collect`)."""
        self.health.stop()


def with_timeout(user_class: type, seconds: float) -> type:
    """`user_class` with its client's network and connection timeouts at `seconds` (FastHttpUser's settings)."""
    if not hasattr(user_class, "network_timeout"):
        return user_class
    return type(user_class.__name__, (user_class,), {"network_timeout": seconds, "connection_timeout": seconds})


def drop_locust_stats(environment: Environment) -> None:
    """Remove Locust's per-request statistics listener that the environment's runner added (if it is there)."""
    for handler in list(environment.events.request._handlers):
        if getattr(handler, "__qualname__", None) == LOCUST_STATS_LISTENER:
            environment.events.request.remove_listener(handler)
