"""The slagate part of one Locust process (in-process runner or worker): capture, health, open-model pacing.

The same agent runs in a single-process load and in every worker of a distributed one, so the
figures mean the same thing whichever way the load was generated.
"""

from typing import Any

from locust.env import Environment

from validator.load.capture import Capture
from validator.load.health import HealthSampler
from validator.load.open_model import ArrivalPlan, Timetable, paced
from validator.load.recorder import RequestRecorder

REPORT_KEY = "slagate"  # our part of a Locust worker report


class LoadAgent:
    """Attached to one Locust Environment: records its requests, samples its health, paces its users."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.recorder: RequestRecorder | None = None
        self.health = HealthSampler()

    def configure(self, origin: float, plan: ArrivalPlan | None, request_timeout: float | None = None) -> None:
        """Start capturing for a run whose windows count from `origin`; pace users if `plan` is given; fail
        requests not answered within `request_timeout` seconds (FastHttpUser's network and connection timeouts).

        Must be called before users are spawned (the open model and the timeout replace the user classes).
        """
        if self.recorder is not None:
            raise RuntimeError("this load process was already configured for a run")
        self.recorder = RequestRecorder(origin, open_model=plan is not None)
        self.environment.events.request.add_listener(self.recorder)
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
        capture = None if self.recorder is None else self.recorder.drain()
        return capture, self.health.drain()

    def report(self, final: bool = False) -> dict[str, Any]:
        """`collect()` as a message payload for the master; `final` marks the last one after the users stopped."""
        capture, samples = self.collect()
        return {
            "capture": None if capture is None else capture.to_dict(),
            "health": [list(sample) for sample in samples],
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
